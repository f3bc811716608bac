"""Mapping choice per GEMM: the faster of the lowered and the transposed orientation.

Hand counts use the per-fold cycles of accelsim/hw/pe_array.py (os: T + R + C - 2; ws/is:
2R + C + T - 2; total = folds * per_fold - 1) with (Sr, Sc, T) = os (m, n, k), ws (k, n, m),
is (k, m, n) of the GEMM actually mapped; "nkm" maps (n, k, m).
"""

from __future__ import annotations

import itertools
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim.config.arch import load_arch
from accelsim.config.workload import load_workload
from accelsim.hw.cost import cost_model, task_cost
from accelsim.hw.mapping import choose_mapping, map_gemm
from accelsim.hw.pe_array import DATAFLOWS, GemmShape
from accelsim.lowering.lower import lower
from accelsim.lowering.presets import settings_for

DFA_SHAPE = GemmShape(m=1, k=10, n=4704)  # d = B e at batch 1: 10 classes -> 4704 outputs


def test_dfa_projection_on_ws_transposes():
    # mkn: Sr = k = 10, Sc = n = 4704, T = m = 1 on 128 x 128:
    #   folds = ceil(10/128) * ceil(4704/128) = 1 * 37 = 37, per fold 2*128 + 128 + 1 - 2 = 383,
    #   cycles = 37 * 383 - 1 = 14170.
    # nkm: Sr = k = 10, Sc = m = 1, T = n = 4704: 1 fold of 2*128 + 128 + 4704 - 2 = 5086,
    #   cycles = 5086 - 1 = 5085.
    lowered = map_gemm(DFA_SHAPE, 128, 128, "ws", "mkn")
    transposed = map_gemm(DFA_SHAPE, 128, 128, "ws", "nkm")
    assert (lowered.folds, lowered.cycles) == (37, 14170)
    assert (transposed.folds, transposed.cycles) == (1, 5085)
    chosen = choose_mapping(DFA_SHAPE, 128, 128, "ws")
    assert chosen.orientation == "nkm" and chosen.transposed
    assert chosen.shape == GemmShape(m=4704, k=10, n=1)
    assert chosen.lowered == DFA_SHAPE
    assert (chosen.sr, chosen.sc, chosen.t) == (10, 1, 4704)
    assert chosen.cycles == 5085
    # utilization = MACs / (R C (cycles + 1)) = 47040 / (16384 * 5086)
    assert chosen.utilization == pytest.approx(47040 / (128 * 128 * 5086))


def test_dfa_projection_reads_map_back_to_the_task_roles():
    # The transposed ws GEMM (4704 x 10) @ (10 x 1) streams B^T as its "ifmap" and holds e^T as
    # its "filter": ws reads ifmap m' k Fc = 4704 * 10 * ceil(1/128) = 47040, filter k n' = 10,
    # ofmap m' n' Fr = 4704 * 1 * ceil(10/128) = 4704. In the task's roles: e (A) is read 10
    # times, B 47040 times.
    chosen = choose_mapping(DFA_SHAPE, 128, 128, "ws")
    t = chosen.timing
    assert (t.ifmap_reads, t.filter_reads, t.ofmap_writes) == (47040, 10, 4704)
    assert chosen.lowered_reads == (10, 47040, 4704)


def test_is_keeps_the_lowered_dfa_projection_and_transposes_its_mirror():
    # is: mkn Sr = k = 10, Sc = m = 1, T = n = 4704 -> 5085 (the ws winner above); nkm is the
    # ws mapping of the lowered GEMM -> 14170. Mirror (4704, 10, 1): the other way round.
    kept = choose_mapping(DFA_SHAPE, 128, 128, "is")
    assert (kept.orientation, kept.cycles) == ("mkn", 5085)
    mirror = choose_mapping(GemmShape(4704, 10, 1), 128, 128, "is")
    assert (mirror.orientation, mirror.cycles) == ("nkm", 5085)


def test_os_on_a_tall_array_puts_the_longer_extent_on_the_rows():
    # os on 16 rows x 4 cols, m = 4, k = 20, n = 16 (T = k = 20, per fold 20 + 16 + 4 - 2 = 38):
    # mkn: Sr = m = 4, Sc = n = 16: folds = ceil(4/16) * ceil(16/4) = 4 -> 4 * 38 - 1 = 151;
    # nkm: Sr = n = 16, Sc = m = 4: folds = 1 * 1 = 1 -> 38 - 1 = 37.
    shape = GemmShape(m=4, k=20, n=16)
    assert map_gemm(shape, 16, 4, "os", "mkn").cycles == 151
    chosen = choose_mapping(shape, 16, 4, "os")
    assert (chosen.orientation, chosen.folds, chosen.cycles) == ("nkm", 1, 37)
    assert (chosen.sr, chosen.sc, chosen.t) == (16, 4, 20)
    # os reads of (16, 20, 4): ifmap m' k Fc' = 16*20*1 = 320 (that is B^T), filter k n' Fr' =
    # 20*4*1 = 80 (A^T), ofmap m' n' = 64; in the task's roles (80, 320, 64).
    assert chosen.lowered_reads == (80, 320, 64)


def test_square_gemm_keeps_the_lowered_orientation():
    # m = n: both orientations are the same GEMM, so the tie rule keeps "mkn".
    for dataflow in DATAFLOWS:
        chosen = choose_mapping(GemmShape(64, 64, 64), 32, 32, dataflow)
        assert chosen.orientation == "mkn"
    # 32x32, M = N = K = 64 (pe-array-timing.md example): os 4 * (64 + 62) - 1 = 503,
    # ws 4 * (64 + 64 + 32 - 2) - 1 = 631: unchanged.
    assert choose_mapping(GemmShape(64, 64, 64), 32, 32, "os").cycles == 503
    assert choose_mapping(GemmShape(64, 64, 64), 32, 32, "ws").cycles == 631


def test_os_on_a_square_array_always_ties_and_keeps_the_lowered_orientation():
    # os on 8 x 8, m = 3, k = 5, n = 20: mkn folds ceil(3/8) * ceil(20/8) = 3, nkm folds
    # ceil(20/8) * ceil(3/8) = 3, both 3 * (5 + 8 + 8 - 2) - 1 = 56: a tie keeps "mkn".
    shape = GemmShape(m=3, k=5, n=20)
    assert map_gemm(shape, 8, 8, "os", "nkm").cycles == 56
    chosen = choose_mapping(shape, 8, 8, "os")
    assert (chosen.orientation, chosen.cycles) == ("mkn", 56)


def test_to_dict_has_the_stable_report_keys():
    d = choose_mapping(DFA_SHAPE, 128, 128, "ws").to_dict()
    assert list(d) == [
        "orientation",
        "m",
        "k",
        "n",
        "sr",
        "sc",
        "t",
        "folds",
        "cycles",
        "utilization",
    ]
    assert {k: v for k, v in d.items() if k != "utilization"} == {
        "orientation": "nkm",
        "m": 4704,
        "k": 10,
        "n": 1,
        "sr": 10,
        "sc": 1,
        "t": 4704,
        "folds": 1,
        "cycles": 5085,
    }
    json.dumps(d)  # JSON-ready


def test_choose_mapping_is_memoized_and_validates():
    assert choose_mapping(DFA_SHAPE, 128, 128, "ws") is choose_mapping(DFA_SHAPE, 128, 128, "ws")
    with pytest.raises(ValueError, match="dataflow"):
        choose_mapping(DFA_SHAPE, 128, 128, "xs")
    with pytest.raises(ValueError, match="orientation"):
        map_gemm(DFA_SHAPE, 128, 128, "ws", "kmn")


def test_grid_never_slower_than_either_orientation():
    extents = (1, 3, 8, 10, 17, 64, 130)
    arrays = ((8, 8), (16, 4), (4, 16), (128, 128))
    for (m, k, n), (rows, cols), dataflow in itertools.product(
        itertools.product(extents, repeat=3), arrays, DATAFLOWS
    ):
        shape = GemmShape(m, k, n)
        a = map_gemm(shape, rows, cols, dataflow, "mkn")
        b = map_gemm(shape, rows, cols, dataflow, "nkm")
        chosen = choose_mapping(shape, rows, cols, dataflow)
        assert chosen.cycles == min(a.cycles, b.cycles)
        assert chosen.orientation == ("mkn" if a.cycles <= b.cycles else "nkm")
        assert chosen.lowered == shape
        assert chosen.timing.macs == m * k * n


dims = st.integers(1, 600)
arrays = st.sampled_from([(8, 8), (16, 4), (4, 16), (32, 32), (128, 128)])


@given(dims, dims, dims, arrays)
def test_ws_transposed_is_the_is_mapping_and_vice_versa(m, k, n, array):
    # ws on (n, k, m) has Sr = k, Sc = m, T = n: the is mapping of (m, k, n), same reads per role.
    rows, cols = array
    shape = GemmShape(m, k, n)
    for df, other in (("ws", "is"), ("is", "ws")):
        swapped = map_gemm(shape, rows, cols, df, "nkm")
        direct = map_gemm(shape, rows, cols, other, "mkn")
        assert swapped.cycles == direct.cycles
        assert swapped.folds == direct.folds
        assert swapped.lowered_reads == direct.lowered_reads


@given(dims, dims, dims, arrays, st.sampled_from(DATAFLOWS))
def test_chosen_mapping_is_never_slower(m, k, n, array, dataflow):
    rows, cols = array
    shape = GemmShape(m, k, n)
    chosen = choose_mapping(shape, rows, cols, dataflow)
    for orientation in ("mkn", "nkm"):
        assert chosen.cycles <= map_gemm(shape, rows, cols, dataflow, orientation).cycles
    # the output has m n elements either way; the reads map back to the lowered roles
    assert chosen.timing.ofmap_writes >= m * n
    a_reads, b_reads, _ = chosen.lowered_reads
    assert a_reads >= m * k and b_reads >= k * n


def ws_chip() -> dict:
    """A TPU-like chip in miniature: one 128 x 128 ws array (B from a PRNG) and a vector unit."""
    return {
        "name": "ws128",
        "clock_mhz": 700,
        "units": [
            {
                "name": "mxu",
                "kind": "pe_array",
                "rows": 128,
                "cols": 128,
                "dataflow": "ws",
                "tasks": ["fp", "ep", "wg", "dfa_ep"],
                "feedback": {"source": "prng", "bits": 16},
                "buffers_kb": {"ifmap": 1024, "weight": 256, "ofmap": 1024},
            },
            {"name": "vpu", "kind": "vector", "lanes": 256, "tasks": ["wu", "loss"]},
        ],
    }


MLP = {
    "name": "mlp-4704",
    "layers": [
        {"name": "fc1", "type": "linear", "out_features": 4704, "activation": "relu"},
        {"name": "fc2", "type": "linear", "out_features": 10},
    ],
    "dataset": {"input_shape": [64], "num_classes": 10, "batch_size": 1},
}


def lowered_dfa():
    """Task graph, chip and cost model of MLP under DFA on ws_chip (no simulation needed)."""
    workload = load_workload(MLP)
    graph = lower(workload, "dfa", settings_for(workload, "dfa"))
    arch = load_arch(ws_chip())
    return graph, arch, cost_model(arch, graph)


def test_dfa_projection_task_uses_the_transposed_mapping():
    # fc1.dfa_ep is d = B e at batch 1: one GEMM (1, 10, 4704). Without the mapping choice it
    # would cost 14170 cycles (see above); transposed it costs 5085, plus the element-wise
    # f'(a) product on the array's output row: ceil(4704 / 128) = 37 -> 5122.
    graph, arch, model = lowered_dfa()
    task = graph.task("fc1.dfa_ep")
    assert [g.shape for g in task.gemms] == [DFA_SHAPE]
    assert task.vector_ops == 4704
    cost = task_cost(task, arch.unit("mxu"), model)
    assert [m.orientation for m in cost.mappings] == ["nkm"]
    assert cost.mappings[0].cycles == 5085
    assert cost.compute_cycles == 5085 + 37
    # B comes from the PRNG, one value per filter read in the task's roles: k n = 47040 (the
    # transposed GEMM's ifmap reads). Unmapped roles would give the 10 reads of e instead.
    assert cost.prng_values == 47040


def test_task_cost_lists_one_mapping_per_gemm_and_none_on_a_vector_unit():
    graph, arch, model = lowered_dfa()
    mxu, vpu = arch.unit("mxu"), arch.unit("vpu")
    for task in graph.tasks:
        unit = mxu if task.kind in mxu.tasks else vpu
        cost = task_cost(task, unit, model)
        if unit is vpu:
            assert cost.mappings == ()
            continue
        assert [m.lowered for m in cost.mappings] == [g.shape for g in task.gemms]
        gemm_cycles = sum(
            m.cycles * g.count for m, g in zip(cost.mappings, task.gemms, strict=True)
        )
        assert cost.compute_cycles == gemm_cycles + -(-task.vector_ops // unit.cols)

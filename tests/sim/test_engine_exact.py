"""Exact event times of tiny schedules, each derived by hand from the cost formulas.

The chip: two 2x2 output-stationary arrays (``fpu`` runs forward passes, ``bwu`` error and
gradient passes) and a 4-lane vector unit (loss, updates), with memories that never stall (a
global buffer that holds everything, 1e12 B/cycle links). Per GEMM (m x k)(k x n) on a 2x2 os
array with m, n <= 2: one fold of ``T + R + C - 2 = k + 2`` cycles, minus one (SCALE-Sim counts
the last cycle's index): ``k + 1`` cycles; element-wise work adds ``ceil(ops / 2 columns)``.

The network: batch 2, 4 inputs -> fc1 (2, relu) -> fc2 (2 classes), SGD with momentum (4
ops per parameter: v = mu v + g, w -= lr v).

    fc1.fp   GEMM 2x4x2: 4+1 = 5, relu 2*2 = 4 ops -> 2           =  7
    fc2.fp   GEMM 2x2x2: 2+1 = 3, output 2*2 = 4 ops -> 2          =  5
    loss     2 rows * 2 classes * 5 ops = 20 ops / 4 lanes          =  5
    fc2.ep   GEMM 2x2x2 = 3, unpool + f' 2*2 + 2*2 = 8 ops -> 4     =  7   (bp)
    fc1.dfa_ep GEMM 2x2x2 = 3 (N x classes x outputs), 2*2 ops -> 2 =  5   (dfa)
    fc1.wg   GEMM 4x2x2: m = 4 -> 2 row folds of 2+2 = 4 -> 8-1 = 7,
             bias sums 2*2 = 4 ops -> 2                             =  9
    fc2.wg   GEMM 2x2x2 = 3, 4 ops -> 2                             =  5
    fc1.wu   (4*2 + 2) params * 4 ops / 4 lanes                     = 10
    fc2.wu   (2*2 + 2) params * 4 ops / 4 lanes                     =  6
"""

from __future__ import annotations

import pytest

from accelsim.report.api import run

ARCH = {
    "name": "tiny",
    "clock_mhz": 100,
    "technology_nm": 45,
    "units": [
        {
            "name": "fpu",
            "kind": "pe_array",
            "rows": 2,
            "cols": 2,
            "dataflow": "os",
            "tasks": ["fp"],
        },
        {
            "name": "bwu",
            "kind": "pe_array",
            "rows": 2,
            "cols": 2,
            "dataflow": "os",
            "tasks": ["ep", "wg", "dfa_ep"],
        },
        {"name": "vec", "kind": "vector", "lanes": 4, "tasks": ["wu", "loss"]},
    ],
    "global_buffer": {"size_kb": 1e6, "bandwidth_bytes_per_cycle": 1e12},
    "dram": {"bandwidth_bytes_per_cycle": 1e12},
    "double_buffered": True,
    "pipeline_depth": 2,
}

MLP = {
    "name": "tiny-mlp",
    "dataset": {"input_shape": [4], "num_classes": 2, "batch_size": 2},
    "layers": [
        {"name": "fc1", "type": "linear", "out_features": 2, "activation": "relu"},
        {"name": "fc2", "type": "linear", "out_features": 2},
    ],
    "training": {"optimizer": {"type": "sgd", "lr": 0.1, "momentum": 0.9}},
}


def timeline(result) -> dict[tuple[int, str], tuple[float, float, str]]:
    return {
        (r.iteration, result.graph.tasks[r.task].name): (
            r.start,
            r.end,
            result.arch.units[r.unit].name,
        )
        for r in result.result.runs
    }


def test_bp_iteration_event_times():
    got = timeline(run(ARCH, MLP, "bp", iterations=1))
    # The EP chain goes first on bwu (error passes rank before gradients); at 24 fc2.ep ends and
    # fc1.wg becomes ready at the same cycle as fc2.wg has been waiting since 17: lower layers
    # first, so fc1.wg wins (a queue that served arrival order would run fc2.wg first).
    assert got == {
        (0, "fc1.fp"): (0, 7, "fpu"),
        (0, "fc2.fp"): (7, 12, "fpu"),
        (0, "loss"): (12, 17, "vec"),
        (0, "fc2.ep"): (17, 24, "bwu"),
        (0, "fc1.wg"): (24, 33, "bwu"),
        (0, "fc2.wg"): (33, 38, "bwu"),
        (0, "fc1.wu"): (33, 43, "vec"),  # 10 cycles
        (0, "fc2.wu"): (43, 49, "vec"),  # ready at 38, vec busy until 43
    }


def test_bp_iterations_are_separated_by_a_barrier():
    r = run(ARCH, MLP, "bp", iterations=2)
    got = timeline(r)
    assert got[(1, "fc1.fp")][0] == 49  # the end of iteration 0
    assert r.result.cycles == 2 * 49
    assert r.steady.cycles_per_iteration == 49


DFA_ITERATION_0 = {
    (0, "fc1.fp"): (0, 7, "fpu"),
    (0, "fc2.fp"): (7, 12, "fpu"),
    (0, "loss"): (12, 17, "vec"),
    (0, "fc1.dfa_ep"): (17, 22, "bwu"),  # error tasks before gradients
    (0, "fc1.wg"): (22, 31, "bwu"),  # lower layer first
    (0, "fc2.wg"): (31, 36, "bwu"),
    (0, "fc1.wu"): (31, 41, "vec"),
    (0, "fc2.wu"): (41, 47, "vec"),
}


def test_pdfa_weight_delay_1_overlaps_the_next_forward_pass():
    """Delay 1: iteration 1's forward pass needs no update of iteration 0 at all."""
    got = timeline(run(ARCH, MLP, "pdfa", iterations=2, weight_delay=1))
    assert {k: v for k, v in got.items() if k[0] == 0} == {
        **DFA_ITERATION_0,
        # at 31 the queue holds fc2.wg(0), fc1.dfa_ep(1) and fc2.wg(1): oldest iteration first
    }
    assert {k: v for k, v in got.items() if k[0] == 1} == {
        (1, "fc1.fp"): (12, 19, "fpu"),  # ready at 0; fc2.fp(0) is older, so 12
        (1, "fc2.fp"): (19, 24, "fpu"),
        (1, "loss"): (24, 29, "vec"),
        (1, "fc1.dfa_ep"): (36, 41, "bwu"),  # bwu busy with iteration 0 until 36
        (1, "fc1.wg"): (41, 50, "bwu"),
        (1, "fc2.wg"): (50, 55, "bwu"),
        (1, "fc1.wu"): (50, 60, "vec"),  # after fc1.wu(0) (41): updates stay in order
        (1, "fc2.wu"): (60, 66, "vec"),
    }


def test_pdfa_weight_delay_0_waits_for_the_previous_update():
    """Delay 0: each forward pass waits for the previous iteration's update of its layer."""
    got = timeline(run(ARCH, MLP, "pdfa", iterations=2, weight_delay=0))
    assert {k: v for k, v in got.items() if k[0] == 0} == DFA_ITERATION_0
    assert {k: v for k, v in got.items() if k[0] == 1} == {
        (1, "fc1.fp"): (41, 48, "fpu"),  # fc1.wu(0) ends at 41
        (1, "fc2.fp"): (48, 53, "fpu"),  # fc2.wu(0) ended at 47, fc1.fp(1) at 48
        (1, "loss"): (53, 58, "vec"),
        (1, "fc1.dfa_ep"): (58, 63, "bwu"),
        (1, "fc1.wg"): (63, 72, "bwu"),
        (1, "fc2.wg"): (72, 77, "bwu"),
        (1, "fc1.wu"): (72, 82, "vec"),
        (1, "fc2.wu"): (82, 88, "vec"),
    }


def test_dfa_without_pipeline_is_two_back_to_back_iterations():
    r = run(ARCH, MLP, "dfa", iterations=2)
    assert r.result.cycles == 2 * 47


@pytest.mark.parametrize("delay, period", [(0, 88 - 47), (1, None)])
def test_pdfa_steady_state_is_measured_after_the_fill(delay, period):
    r = run(ARCH, MLP, "pdfa", weight_delay=delay)
    assert r.steady.reached
    # at least the pipeline depth is left out (more when whole periods start later)
    assert r.steady.warmup_iterations >= 2
    if period is not None:
        # delay 0: iteration i+1's fc1.fp starts when fc1.wu(i) ends; from then on the spacing
        # of iteration ends repeats iteration 1's: 88 - 47 = 41 cycles
        assert r.steady.cycles_per_iteration == period
    # whatever the delay, the busiest unit bounds the spacing: vec 5 + 10 + 6 = 21 cycles
    # (bwu 5 + 9 + 5 = 19, fpu 7 + 5 = 12)
    assert r.steady.cycles_per_iteration >= 21
    # and delay 1 beats delay 0: the forward pass of i+1 runs during the backward pass of i
    assert delay == 0 or r.steady.cycles_per_iteration < 88 - 47


def test_pdfa_reuses_an_activation_slot_only_after_its_last_reader():
    """Depth 2: iteration 2 writes fc1's output into iteration 0's slot. With a fast vector
    unit (40 lanes: loss 20/40, fc1.wu 40/40, fc2.wu 24/40 -> 1 cycle each) the update of fc1
    in iteration 0 ends at 28, before fc2.wg(0) - which reads that slot - ends at 32:

        it 0: fc1.fp 0-7, fc2.fp 7-12, loss 12-13, fc1.dfa_ep 13-18, fc1.wg 18-27,
              fc2.wg 27-32 (older than fc1.dfa_ep(1), ready at 25), fc1.wu 27-28
        it 1: fc1.fp 12-19, fc2.fp 19-24
        it 2: fc1.fp waits for fc2.wg(0): 32-39; fc2.fp 39-44
    """
    fast = {**ARCH, "units": [*ARCH["units"][:2], {**ARCH["units"][2], "lanes": 40}]}
    got = timeline(run(fast, MLP, "pdfa", iterations=3, weight_delay=1))
    assert got[(0, "fc2.wg")][:2] == (27, 32)
    assert got[(0, "fc1.wu")][:2] == (27, 28)
    assert got[(1, "fc2.fp")][:2] == (19, 24)
    assert got[(2, "fc1.fp")][:2] == (32, 39)
    assert got[(2, "fc2.fp")][:2] == (39, 44)


def test_updates_of_one_layer_stay_in_order_across_iterations():
    """Two slow vector units (1 lane: fc1.wu = 40 cycles) could run fc1.wu of iterations 0 and 1
    at once; the second must read the weights the first wrote, so it waits."""
    slow = {"name": "vec", "kind": "vector", "lanes": 1, "tasks": ["wu", "loss"]}
    chip = {**ARCH, "units": [*ARCH["units"][:2], slow, {**slow, "name": "vec2"}]}
    got = timeline(run(chip, MLP, "pdfa", iterations=3, weight_delay=1))
    for layer in ("fc1", "fc2"):
        for i in (1, 2):
            previous, current = got[(i - 1, f"{layer}.wu")], got[(i, f"{layer}.wu")]
            assert previous[1] - previous[0] == (40 if layer == "fc1" else 24)
            assert current[0] >= previous[1]
    assert {unit for (_, name), (_, _, unit) in got.items() if name.endswith(".wu")} == {
        "vec",
        "vec2",
    }


def test_a_dram_transfer_waits_the_access_latency_first():
    """100 ns at 100 MHz = 10 cycles. Only the input crosses DRAM here (everything else fits
    the buffer): fc1.fp reads it (its first load) and fc1.wg reads it again from the GB. With
    double buffering fc1.fp ends when both its 7 compute cycles and its transfer (10 cycles of
    latency + 1 cycle of bytes at 1e12 B/cycle) are done: at 11 instead of 7."""
    slow = {**ARCH, "dram": {"bandwidth_bytes_per_cycle": 1e12, "latency_ns": 100}}
    got = timeline(run(slow, MLP, "bp", iterations=1))
    assert got[(0, "fc1.fp")] == (0, 11, "fpu")
    assert got[(0, "fc2.fp")][:2] == (11, 16)  # no DRAM traffic: 5 cycles as before


def test_sram_leakage_is_charged_for_every_cycle_of_the_run():
    r = run(ARCH, MLP, "bp", iterations=1)
    doc = r.report
    per_cycle = r.model.table.sram_leakage_pj_per_cycle
    assert per_cycle > 0
    assert doc["energy_breakdown_pj"]["sram_leakage"] == pytest.approx(per_cycle * doc["cycles"])

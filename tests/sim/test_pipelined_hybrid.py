"""DFA-family graphs trained with a weight delay of 1 are pipelined like pdfa.

``pipelines(schedule, weight_delay)``: pdfa always; ``dfa`` graphs (dfa, sparse-dfa) and
``hybrid`` graphs (modular-dfa, hybrid-dfa) with delay 1; ``bp`` graphs (bp, fa) never. A
pipelined schedule keeps the chip's ``pipeline_depth`` iterations in flight; on a chip with
depth 1 dfa/hybrid fall back to the serialized schedule, while pdfa (which asks for the
pipeline by name) is a ConfigError.
"""

from __future__ import annotations

import copy
from pathlib import Path

import nets
import pytest
import yaml

from accelsim.config.arch import load_arch
from accelsim.config.errors import ConfigError
from accelsim.config.workload import load_workload
from accelsim.lowering.lower import lower
from accelsim.report.api import run
from accelsim.sim.schedules import pipelines, schedule_for

ROOT = Path(__file__).resolve().parents[2]
DFLNPU = ROOT / "arch_configs" / "dflnpu.yaml"


def mlp4(**extensions) -> dict:
    """tests/nets.py's 4-layer MLP, trained by dfa with ``extensions``."""
    return nets.mlp4({"algorithm": "dfa", "extensions": extensions})


@pytest.fixture
def chip_depth_1() -> dict:
    chip = yaml.safe_load(DFLNPU.read_text())
    chip["pipeline_depth"] = 1
    return chip


# -- which schedules pipeline ---------------------------------------------------------------
@pytest.mark.parametrize(
    ("schedule", "delay", "expected"),
    [
        ("pdfa", 0, True),  # pdfa pipelines whatever its delay
        ("pdfa", 1, True),
        ("dfa", 0, False),  # fresh weights: each forward pass waits for the update anyway
        ("dfa", 1, True),
        ("hybrid", 0, False),
        ("hybrid", 1, True),
        ("bp", 0, False),  # the BP-serialized baseline, always
        ("bp", 1, False),
    ],
)
def test_pipelines_truth_table(schedule, delay, expected):
    assert pipelines(schedule, delay) is expected


@pytest.mark.parametrize(
    ("algorithm", "delay", "pipelined"),
    [
        ("hybrid-dfa", 0, False),
        ("hybrid-dfa", 1, True),
        ("modular-dfa", 1, True),
        ("dfa", 0, False),
        ("dfa", 1, True),
        ("sparse-dfa", 1, True),
        ("bp", 1, False),
        ("fa", 1, False),
        ("pdfa", 0, True),
    ],
)
def test_schedule_for_lowered_graphs(algorithm, delay, pipelined):
    chip = load_arch(DFLNPU)
    assert chip.pipeline_depth >= 2  # else "pipelined" could not be told from serialized
    graph = lower(load_workload(mlp4()), algorithm)
    schedule = schedule_for(graph, chip, weight_delay=delay)
    assert schedule.depth == (chip.pipeline_depth if pipelined else 1)
    assert schedule.pipelined is pipelined
    assert schedule.weight_delay == delay
    assert schedule.name == graph.schedule  # the graph's schedule, not "pdfa"


def test_an_explicit_depth_is_kept_for_a_pipelined_hybrid_graph():
    chip = load_arch(DFLNPU)
    graph = lower(load_workload(mlp4()), "hybrid-dfa")
    assert schedule_for(graph, chip, depth=3, weight_delay=1).depth == 3
    assert schedule_for(graph, chip, depth=3, weight_delay=0).depth == 1  # not pipelined


def test_the_workloads_weight_delay_pipelines_a_run():
    """``training.weight_delay: 1`` in the workload is what ``--weight-delay 1`` sets."""
    data = mlp4(bp_layers="top-2")
    data["training"]["weight_delay"] = 1
    r = run(DFLNPU, data, "hybrid-dfa")
    assert (r.schedule.name, r.schedule.depth, r.schedule.weight_delay) == ("hybrid", 2, 1)
    assert r.report["pipeline_depth"] == 2 and r.report["schedule"] == "hybrid"
    assert r.steady.reached
    # unset, the delay of hybrid-dfa is 0: serialized, one iteration is the steady state
    plain = run(DFLNPU, mlp4(bp_layers="top-2"), "hybrid-dfa")
    assert (plain.schedule.depth, plain.report["iterations"]) == (1, 1)


def test_dfa_with_delay_1_runs_exactly_like_pdfa():
    """dfa and pdfa lower to the same tasks and get the same gates at delay 1: every
    iteration ends at the same cycle, so the steady state is the same."""
    dfa = run(DFLNPU, mlp4(), "dfa", iterations=10, weight_delay=1)
    pdfa = run(DFLNPU, mlp4(), "pdfa", iterations=10, weight_delay=1)
    assert [t.name for t in dfa.graph.tasks] == [t.name for t in pdfa.graph.tasks]
    assert dfa.result.iteration_end == pdfa.result.iteration_end
    auto_dfa = run(DFLNPU, mlp4(), "dfa", weight_delay=1)
    auto_pdfa = run(DFLNPU, mlp4(), "pdfa")  # pdfa's default delay is 1
    assert auto_dfa.steady.reached and auto_pdfa.steady.reached
    assert auto_dfa.steady.cycles_per_iteration == auto_pdfa.steady.cycles_per_iteration


def test_a_chip_with_depth_1_serializes_dfa_and_hybrid_and_rejects_pdfa(chip_depth_1):
    for algorithm in ("hybrid-dfa", "dfa"):
        delayed = run(chip_depth_1, mlp4(bp_layers="top-2"), algorithm, weight_delay=1)
        fresh = run(chip_depth_1, mlp4(bp_layers="top-2"), algorithm, weight_delay=0)
        assert delayed.schedule.depth == 1 and not delayed.schedule.pipelined
        # serialized: the delay changes nothing in time
        assert delayed.steady.cycles_per_iteration == fresh.steady.cycles_per_iteration
    with pytest.raises(ConfigError, match="pipeline_depth"):
        run(chip_depth_1, mlp4(), "pdfa")  # delay 1 needs 2 iterations in flight
    with pytest.raises(ConfigError, match="pipeline_depth"):
        schedule_for(lower(load_workload(mlp4()), "pdfa"), load_arch(chip_depth_1), None, 1)
    # --pipeline-depth 1 on a deeper chip is the same fallback
    assert run(DFLNPU, mlp4(), "hybrid-dfa", weight_delay=1, pipeline_depth=1).schedule.depth == 1


# -- the mechanism: what the pipeline overlaps ----------------------------------------------
def test_a_hybrid_with_its_bp_layers_on_top_overlaps_iterations():
    """bp_layers top-2 on mlp4: fc3 takes its error by BP from fc4 (which takes e); fc1 and fc2
    take B_l e right after the loss.

    Serialized (delay 0, depth 1), the first task of iteration i+1 (fc1.fp) is gated on
    iteration i being completely done, so each iteration pays FP + loss + the BP/DFA errors +
    WG + every WU (on the vector unit) end to end. Pipelined (delay 1, depth 2), the forward
    pass of layer l in iteration i+1 is gated only on wu(i-1, l) (it reads the weights of the
    update one iteration older) and on the readers of its activation slot from iteration
    i+1-2 = i-1 (the error task of l and the WG of l+1): nothing of iteration i. So iteration
    i+1's forward passes run on lc_fp while iteration i's EP/DFA-EP/WG/WU hold lc_bw, depc and
    the vector unit, and the spacing of iterations shrinks. With the BP layers on top the bottom
    layers' errors are ready at the loss, so wu(i-1, fc1), the gate of the next fc1.fp, lands
    early in the backward phase."""
    data = mlp4(bp_layers="top-2")
    serial = run(DFLNPU, data, "hybrid-dfa", weight_delay=0, iterations=6)
    piped = run(DFLNPU, data, "hybrid-dfa", weight_delay=1, iterations=6)
    routes = {layer: (route, source) for layer, route, source in piped.graph.routes}
    assert routes == {
        "fc1": ("dfa", "fc4"),
        "fc2": ("dfa", "fc4"),
        "fc3": ("bp", "fc4"),
        "fc4": ("loss", ""),
    }

    def start(r, iteration, name):
        return next(
            t.start
            for t in r.result.runs
            if t.iteration == iteration and r.graph.tasks[t.task].name == name
        )

    for i in (2, 3):
        # serialized: iteration i+1 starts once iteration i has ended
        assert start(serial, i + 1, "fc1.fp") >= serial.result.iteration_end[i]
        # pipelined: it starts before iteration i's loss, i.e. before any backward work of i
        assert start(piped, i + 1, "fc1.fp") < start(piped, i, "loss")
    steady_serial = run(DFLNPU, data, "hybrid-dfa", weight_delay=0).steady
    steady_piped = run(DFLNPU, data, "hybrid-dfa", weight_delay=1).steady
    assert steady_serial.reached and steady_piped.reached
    assert steady_piped.cycles_per_iteration < steady_serial.cycles_per_iteration


def test_a_cnn_hybrid_pipelines_too():
    """The same on lenet_mnist1d (conv1, conv2, fc1, fc2, fc3) with its top two layers by BP."""
    data = yaml.safe_load((ROOT / "workloads" / "lenet_mnist1d.yaml").read_text())
    data = copy.deepcopy(data)
    data["training"]["extensions"] = {"bp_layers": "top-2"}
    serial = run(DFLNPU, data, "hybrid-dfa", weight_delay=0, batch_size=4).steady
    piped = run(DFLNPU, data, "hybrid-dfa", weight_delay=1, batch_size=4).steady
    assert serial.reached and piped.reached
    assert piped.cycles_per_iteration < serial.cycles_per_iteration

"""Schedule invariants of the simpy engine on the shipped chips."""

from __future__ import annotations

import copy
from itertools import pairwise

import pytest
import yaml

from accelsim.config.errors import ConfigError
from accelsim.report.api import run, simulate_point

LENET = "workloads/lenet_mnist.yaml"


@pytest.fixture
def dflnpu(root) -> dict:
    return yaml.safe_load((root / "arch_configs" / "dflnpu.yaml").read_text())


def spans(r, it=0):
    return {
        r.graph.tasks[t.task].name: (t.start, t.end) for t in r.result.runs if t.iteration == it
    }


def test_bp_error_chain_is_strictly_ordered_in_time(dflnpu):
    r = run(dflnpu, LENET, "bp", iterations=2)
    s = spans(r)
    order = ["fc3.ep", "fc2.ep", "fc1.ep", "conv2.ep"]
    for above, below in pairwise(order):
        assert s[above][1] <= s[below][0]
    assert s["loss"][1] <= s["fc3.ep"][0]


def test_dfa_error_projections_overlap_when_units_allow(dflnpu):
    data = copy.deepcopy(dflnpu)
    depc = data["units"][2]
    data["units"].insert(3, {**depc, "name": "depc2"})
    r = run(data, LENET, "dfa")
    s = spans(r)
    loss_end = s["loss"][1]
    dfa = sorted((v for k, v in s.items() if k.endswith(".dfa_ep")))
    assert all(start >= loss_end for start, _ in dfa)
    assert dfa[0][0] == dfa[1][0] == loss_end  # two started together on the two DEPCs
    used = {
        r.arch.units[t.unit].name for t in r.result.runs if r.graph.tasks[t.task].kind == "dfa_ep"
    }
    assert used == {"depc", "depc2"}


@pytest.mark.parametrize("chip", ["dflnpu", "bp_baseline", "tpu_like"])
@pytest.mark.parametrize("algorithm", ["bp", "pdfa", "hybrid-dfa"])
def test_no_unit_runs_two_tasks_at_once(root, chip, algorithm):
    r = run(root / "arch_configs" / f"{chip}.yaml", LENET, algorithm, iterations=3)
    by_unit: dict[int, list[tuple[int, int]]] = {}
    for t in r.result.runs:
        by_unit.setdefault(t.unit, []).append((t.start, t.end))
    for intervals in by_unit.values():
        intervals.sort()
        for (_, end), (start, _) in pairwise(intervals):
            assert end <= start
    assert all(0 <= u <= 1 for u in r.report["utilization"].values())


def test_every_task_runs_after_its_dependencies(dflnpu):
    r = run(dflnpu, LENET, "modular-dfa", iterations=2)
    for it in (0, 1):
        s = spans(r, it)
        for task in r.graph.tasks:
            for d in task.deps:
                assert s[r.graph.tasks[d].name][1] <= s[task.name][0]


def test_a_faster_core_clock_does_not_speed_up_dram(dflnpu):
    """DRAM is in GB/s: at twice the clock a DRAM byte costs twice the core cycles. MDNet's BP
    iteration is DRAM-bound at 200 MHz (2.1 M of 5.8 M cycles stalled), so doubling the clock
    from 100 MHz cuts its latency far less than half; a chip whose memories never stall
    halves it exactly."""
    slow = simulate_point({**dflnpu, "clock_mhz": 100}, "workloads/mdnet_online.yaml", "bp", 1)
    fast = simulate_point({**dflnpu, "clock_mhz": 200}, "workloads/mdnet_online.yaml", "bp", 1)
    assert fast["cycles"] > slow["cycles"]
    assert fast["latency_s"] / slow["latency_s"] > 0.6
    stall_free = {
        **dflnpu,
        "global_buffer": {"size_kb": 1e7, "bandwidth_bytes_per_cycle": 1e12},
        "dram": {"bandwidth_bytes_per_cycle": 1e12},
    }
    a = simulate_point({**stall_free, "clock_mhz": 100}, LENET, "pdfa", iterations=2)
    b = simulate_point({**stall_free, "clock_mhz": 200}, LENET, "pdfa", iterations=2)
    assert a["cycles"] == b["cycles"]
    assert b["latency_s"] == pytest.approx(a["latency_s"] / 2)


@pytest.mark.parametrize("chip", ["dflnpu", "bp_baseline"])
@pytest.mark.parametrize("batch", [1, 32])
def test_pipelined_dfa_steady_state_is_no_slower_than_dfa(root, chip, batch):
    arch = root / "arch_configs" / f"{chip}.yaml"
    dfa = simulate_point(arch, LENET, "dfa", batch_size=batch)
    pdfa = simulate_point(arch, LENET, "pdfa", batch_size=batch)
    assert pdfa["steady_state"]["reached"]
    assert (
        pdfa["steady_state"]["cycles_per_iteration"] <= dfa["steady_state"]["cycles_per_iteration"]
    )


def test_pipeline_depth_one_is_plain_dfa(dflnpu):
    dfa = simulate_point(dflnpu, LENET, "dfa", iterations=3)
    depth1 = simulate_point(dflnpu, LENET, "pdfa", iterations=3, pipeline_depth=1, weight_delay=0)
    assert depth1["cycles"] == dfa["cycles"]


def test_weight_delay_needs_room_in_the_pipeline(dflnpu):
    with pytest.raises(ConfigError, match="pipeline_depth"):
        simulate_point(dflnpu, LENET, "pdfa", iterations=3, pipeline_depth=1)


def test_iterations_add_up_and_results_are_deterministic(dflnpu):
    one = simulate_point(dflnpu, LENET, "bp", iterations=1)
    three = simulate_point(dflnpu, LENET, "bp", iterations=3)
    assert three["cycles"] > 2 * one["cycles"]
    assert three["dram_bytes"] == pytest.approx(3 * one["dram_bytes"])
    assert simulate_point(dflnpu, LENET, "bp", iterations=3) == three


def test_batch_one_simulates(dflnpu):
    doc = simulate_point(dflnpu, LENET, "pdfa", iterations=2, batch_size=1)
    assert doc["batch_size"] == 1 and doc["cycles"] > 0


@pytest.mark.parametrize("algorithm", ["bp", "pdfa"])
def test_accounting_adds_up_and_no_layer_stalls_longer_than_the_run(dflnpu, algorithm):
    doc = simulate_point(dflnpu, LENET, algorithm, iterations=2)
    for acct in doc["units"].values():
        total = acct["busy_cycles"] + acct["memory_wait_cycles"] + acct["idle_cycles"]
        assert total == pytest.approx(doc["cycles"], abs=1)
    for row in doc["layers"]:
        assert 0 <= row["stall_cycles"] <= row["cycles"] <= doc["cycles"]
    # the first iteration is DRAM-bound on dflnpu: some layer did stall
    assert max(row["stall_cycles"] for row in doc["layers"]) > 0


def test_concurrent_dram_streams_share_the_channel_fairly(dflnpu):
    """Starved streams would show as one transfer waiting many times its own length."""
    r = run(dflnpu, LENET, "pdfa", iterations=3)
    longest = r.report["dram"]["longest_wait_cycles"]
    longest_transfer = max(
        r.cost_of(r.graph.tasks[t.task], t.unit).dram_cycles for t in r.result.runs
    )
    # with fair sharing among at most 4 units' streams, no transfer takes more than 4x its
    # uncontended time, so its wait is below 3x the longest transfer
    assert 0 < longest <= 3 * longest_transfer

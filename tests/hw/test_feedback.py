"""Feedback store: PRNG needs no storage or traffic, binarized B makes the EP adder-only."""

from __future__ import annotations

import yaml

from accelsim.config.arch import FeedbackStore, Unit, load_arch
from accelsim.hw.feedback import feedback_access, plan_feedback
from accelsim.report.api import run

LENET = "workloads/lenet_mnist_online.yaml"


def dflnpu(root, **feedback) -> dict:
    data = yaml.safe_load((root / "arch_configs" / "dflnpu.yaml").read_text())
    data["units"][2]["feedback"] = feedback
    return data


def test_prng_costs_generations_not_bytes(root):
    arch = load_arch(root / "arch_configs" / "dflnpu.yaml")
    plan = plan_feedback(arch, arch.unit("depc"), 10_000, 16)
    access = feedback_access(plan, 5000, 1250, prng_pj_per_value=0.05, store_pj_per_byte=1.0)
    assert (access.dram_bytes, access.prng_values) == (0.0, 5000)
    assert access.energy_pj == 5000 * 0.05


def test_sram_overflow_fraction():
    arch = load_arch(
        {
            "clock_mhz": 100,
            "units": [{"name": "u", "rows": 2, "cols": 2, "dataflow": "os", "tasks": ["dfa_ep"]}],
        }
    )
    unit = Unit(
        "u",
        "pe_array",
        ("dfa_ep",),
        2,
        2,
        "os",
        feedback=FeedbackStore("sram", 8, 1.0, 1.0, "dram"),
    )
    plan = plan_feedback(arch, unit, 4096, 16)  # 4 KB of B in a 1 KB store
    assert plan.dram_fraction == 0.75


def test_prng_feedback_moves_fewer_dram_bytes_than_stored_feedback(root):
    prng = run(dflnpu(root, source="prng", bits=1), LENET, "dfa").report
    dram = run(dflnpu(root, source="dram", bits=1), LENET, "dfa").report
    assert prng["dram_bytes"] < dram["dram_bytes"]
    assert prng["prng_values"] > 0 and dram["prng_values"] == 0


def test_binarized_feedback_makes_the_error_unit_adder_only(root):
    def dfa_compute(bits):
        r = run(dflnpu(root, source="prng", bits=bits), LENET, "dfa")
        unit = r.arch.units.index(r.arch.unit("depc"))
        tasks = [t for t in r.graph.tasks if t.kind == "dfa_ep"]
        from accelsim.hw.cost import task_cost

        return sum(task_cost(t, r.arch.units[unit], r.model).energy_pj[0] for t in tasks), r

    binary, r = dfa_compute(1)
    full, _ = dfa_compute(16)
    macs = sum(t.macs for t in r.graph.tasks if t.kind == "dfa_ep")
    assert binary == macs * r.model.table.add_pj
    assert full > binary

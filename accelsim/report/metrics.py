"""Turn a simulation into the figures users read: cycles, latency, energy by part, utilization.

``energy_breakdown_pj`` has one entry per component (compute, vector, sram, global_buffer, dram,
feedback, leakage) and ``energy_pj`` is their sum, computed from the same dict in the same
order, so the parts add up to the total exactly. Steady-state figures describe one iteration
once a pipeline is full: ``(end of the last iteration - end of the first) / (iterations - 1)``.
"""

from __future__ import annotations

from collections.abc import Callable

from accelsim.config.arch import Arch
from accelsim.hw.cost import COMPONENTS, CostModel, TaskCost
from accelsim.lowering.graph import Task, TaskGraph
from accelsim.sim.engine import Schedule, SimResult

PASS_COLUMNS = {
    "fp": "fp_cycles",
    "ep": "ep_cycles",
    "dfa_ep": "ep_cycles",
    "wg": "wg_cycles",
    "wu": "wu_cycles",
    "loss": "loss_cycles",
}


def latency_s(cycles: float, clock_mhz: float) -> float:
    return cycles / (clock_mhz * 1e6)


def metrics(
    arch: Arch,
    graph: TaskGraph,
    schedule: Schedule,
    result: SimResult,
    model: CostModel,
    cost_of: Callable[[Task, int], TaskCost],
    iterations: int,
) -> dict:
    """The ``accelsim simulate --json`` document."""
    tasks = graph.tasks
    parts = [0.0] * len(COMPONENTS)
    dram_bytes = gb_bytes = 0.0
    macs = stall = prng = 0
    unit_macs = [0] * len(arch.units)
    rows: dict[str, dict] = {}
    for it, ti, ui, start, end, _ in result.trace:
        task = tasks[ti]
        cost = cost_of(task, ui)
        for k, e in enumerate(cost.energy_pj):
            parts[k] += e
        dram_bytes += cost.dram_bytes
        gb_bytes += cost.gb_bytes
        macs += cost.macs
        prng += cost.prng_values
        unit_macs[ui] += cost.macs
        stall += (end - start) - cost.compute_cycles
        if it == 0:
            row = rows.setdefault(task.layer, _layer_row(task.layer))
            row["cycles"] += end - start
            row[PASS_COLUMNS[task.kind]] += end - start
            row["macs"] += cost.macs
            row["dram_bytes"] += cost.dram_bytes
            row["energy_pj"] += cost.total_energy_pj
            row["tasks"].append(task.name)
    cycles = result.cycles
    leak = model.table.leakage_pj_per_cycle
    breakdown = {name: parts[k] for k, name in enumerate(COMPONENTS)}
    breakdown["leakage"] = leak * cycles
    energy = sum(breakdown.values())
    if iterations > 1:
        steady = (result.iteration_end[-1] - result.iteration_end[0]) / (iterations - 1)
    else:
        steady = float(cycles)
    dynamic = sum(parts)
    steady_energy = dynamic / iterations + leak * steady
    clock = arch.clock_mhz
    order = {name: i for i, name in enumerate((*graph.layers, "loss"))}
    return {
        "algorithm": graph.algorithm,
        "arch": arch.name,
        "workload": graph.workload,
        "schedule": schedule.name,
        "pipeline_depth": schedule.depth,
        "batch_size": graph.batch_size,
        "iterations": iterations,
        "clock_mhz": clock,
        "cycles": cycles,
        "latency_s": latency_s(cycles, clock),
        "energy_pj": energy,
        "energy_breakdown_pj": breakdown,
        "utilization": {
            u.name: min(1.0, result.busy_cycles[i] / cycles) if cycles else 0.0
            for i, u in enumerate(arch.units)
        },
        "compute_utilization": {
            u.name: min(1.0, unit_macs[i] / (u.rows * u.cols * cycles))
            if u.kind == "pe_array" and cycles
            else 0.0
            for i, u in enumerate(arch.units)
        },
        "dram_bytes": dram_bytes,
        "global_buffer_bytes": gb_bytes,
        "macs": macs,
        "stall_cycles": stall,
        "prng_values": prng,
        "dram_resident": sorted(model.residency.dram_tensors),
        "steady_state": {
            "cycles_per_iteration": steady,
            "latency_s_per_iteration": latency_s(steady, clock),
            "energy_pj_per_iteration": steady_energy,
            "dram_bytes_per_iteration": dram_bytes / iterations,
        },
        "layers": sorted(rows.values(), key=lambda r: order.get(r["layer"], len(order))),
    }


def _layer_row(layer: str) -> dict:
    row: dict = {"layer": layer, "cycles": 0}
    for column in dict.fromkeys(PASS_COLUMNS.values()):
        row[column] = 0
    row.update({"macs": 0, "dram_bytes": 0.0, "energy_pj": 0.0, "tasks": []})
    return row


def comparison(results: dict[str, dict], baseline: str = "bp") -> dict:
    """Speedup and energy ratio of each algorithm against the baseline, per steady iteration."""
    base = results[baseline]["steady_state"]
    return {
        "iterations": results[baseline]["iterations"],
        "results": results,
        "speedup_vs_bp": {
            name: base["cycles_per_iteration"] / r["steady_state"]["cycles_per_iteration"]
            for name, r in results.items()
        },
        "energy_ratio_vs_bp": {
            name: r["steady_state"]["energy_pj_per_iteration"] / base["energy_pj_per_iteration"]
            for name, r in results.items()
        },
    }

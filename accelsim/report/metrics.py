"""Turn a simulation into the figures users read: cycles, latency, energy by part, utilization.

``energy_breakdown_pj`` has one entry per component (compute, vector, sram, global_buffer, dram,
feedback, leakage of logic, sram_leakage of every buffer) and ``energy_pj`` is their sum, computed
from the same dict in the same order, so the parts add up to the total exactly. Steady-state
figures describe one iteration once a pipeline is full (``accelsim.sim.steady``). Per unit, the run
splits into busy (compute), memory-wait (holding the unit while DRAM or the GB delivers) and idle
cycles; per layer, the first iteration's wall-clock cycles and memory stalls are unions of
intervals, never more than the run.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from accelsim.config.arch import Arch
from accelsim.config.errors import ConfigError
from accelsim.hw.allocation import compulsory_bytes, residency_by_class
from accelsim.hw.area import chip_area
from accelsim.hw.cost import COMPONENTS, CostModel, TaskCost
from accelsim.lowering.graph import Task, TaskGraph
from accelsim.sim.engine import SimResult, TaskRun
from accelsim.sim.schedules import Schedule
from accelsim.sim.steady import SteadyState

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
    steady: SteadyState,
) -> dict:
    """The ``accelsim simulate --json`` document."""
    tasks = graph.tasks
    parts = [0.0] * len(COMPONENTS)
    dram_bytes = gb_bytes = 0.0
    macs = prng = 0
    stall = 0.0
    unit_macs = [0] * len(arch.units)
    rows: dict[str, dict] = {}
    held: dict[str, list[tuple[float, float]]] = {}
    stalled: dict[str, list[tuple[float, float]]] = {}
    mappings: dict[str, list[dict]] = {}
    for r in result.runs:
        task = tasks[r.task]
        cost = cost_of(task, r.unit)
        for k, e in enumerate(cost.energy_pj):
            parts[k] += e
        dram_bytes += cost.dram_bytes
        gb_bytes += cost.gb_bytes
        macs += cost.macs
        prng += cost.prng_values
        unit_macs[r.unit] += cost.macs
        stall += r.memory_wait
        if r.iteration == 0:
            row = rows.setdefault(task.layer, _layer_row(task.layer))
            row[PASS_COLUMNS[task.kind]] += r.held
            row["macs"] += cost.macs
            row["dram_bytes"] += cost.dram_bytes
            row["energy_pj"] += cost.total_energy_pj
            row["tasks"].append(task.name)
            held.setdefault(task.layer, []).append((r.start, r.end))
            stalled.setdefault(task.layer, []).append(stall_interval(r, arch.double_buffered))
            mappings[task.name] = [
                {"unit": arch.units[r.unit].name, **m.to_dict()} for m in cost.mappings
            ]
    for layer, row in rows.items():
        # wall-clock cycles in which some task of the layer held a unit / waited for memory:
        # unions of intervals, so neither can exceed the run however many units overlap
        row["cycles"] = covered(held[layer])
        row["stall_cycles"] = covered(stalled[layer])
    residency = residency_by_class(model.allocation)
    cycles = result.cycles
    logic_leak = model.table.leakage_pj_per_cycle
    sram_leak = model.table.sram_leakage_pj_per_cycle
    leak = logic_leak + sram_leak
    breakdown = {name: parts[k] for k, name in enumerate(COMPONENTS)}
    breakdown["leakage"] = logic_leak * cycles
    breakdown["sram_leakage"] = sram_leak * cycles
    energy = sum(breakdown.values())
    per_iteration = steady.cycles_per_iteration
    dynamic = sum(parts)
    steady_energy = dynamic / iterations + leak * per_iteration
    clock = arch.clock_mhz
    order = {name: i for i, name in enumerate((*graph.layers, "loss"))}
    area = chip_area(arch)  # memoized per chip (accelsim/hw/area.py, docs/area.md)
    return {
        "algorithm": graph.algorithm,
        "arch": arch.name,
        "workload": graph.workload,
        "schedule": schedule.name,
        "pipeline_depth": schedule.depth,
        "weight_delay": schedule.weight_delay,
        "batch_size": graph.batch_size,
        "iterations": iterations,
        "clock_mhz": clock,
        "cycles": cycles,
        "latency_s": latency_s(cycles, clock),
        "energy_pj": energy,
        "energy_breakdown_pj": breakdown,
        "area_mm2": area.total_mm2,
        "area_breakdown_mm2": area.breakdown(),
        "utilization": {
            u.name: min(1.0, result.held_cycles[i] / cycles) if cycles else 0.0
            for i, u in enumerate(arch.units)
        },
        "compute_utilization": {
            u.name: min(1.0, unit_macs[i] / (u.rows * u.cols * cycles))
            if u.kind == "pe_array" and cycles
            else 0.0
            for i, u in enumerate(arch.units)
        },
        "units": {
            u.name: {
                "busy_cycles": result.busy_cycles[i],
                "memory_wait_cycles": result.held_cycles[i] - result.busy_cycles[i],
                "idle_cycles": max(0.0, cycles - result.held_cycles[i]),
            }
            for i, u in enumerate(arch.units)
        },
        "dram": {
            "busy_cycles": result.dram_busy_cycles,
            "longest_wait_cycles": result.dram_longest_wait,
        },
        "dram_bytes": dram_bytes,
        "global_buffer_bytes": gb_bytes,
        "macs": macs,
        "stall_cycles": stall,
        "prng_values": prng,
        "dram_resident": sorted(
            cls for cls, row in residency.items() if row["status"] != "resident"
        ),
        "memory": {
            "global_buffer_kb": arch.global_buffer.size_kb,
            "staging_kb": model.allocation.staging / 1024,
            "resident_kb": model.allocation.capacity / 1024,
            "fused": list(model.fused),
            "compulsory_dram_bytes_per_iteration": compulsory_bytes(model.lives, model.allocation),
            "residency": residency,
            "tensors": [p.to_dict() for p in model.allocation.placements.values()],
        },
        "steady_state": {
            "reached": steady.reached,
            "warmup_iterations": steady.warmup_iterations,
            "measured_iterations": steady.measured_iterations,
            "cycles_per_iteration": per_iteration,
            "latency_s_per_iteration": latency_s(per_iteration, clock),
            "energy_pj_per_iteration": steady_energy,
            "dram_bytes_per_iteration": dram_bytes / iterations,
        },
        "layers": sorted(rows.values(), key=lambda r: order.get(r["layer"], len(order))),
        "mappings": mappings,
    }


def stall_interval(run: TaskRun, double_buffered: bool) -> tuple[float, float]:
    """When a task waited for memory while holding its unit: after its compute when the
    transfer overlaps it (double buffering), before it otherwise."""
    if double_buffered:
        return (run.start + run.compute_cycles, max(run.end, run.start + run.compute_cycles))
    return (run.start, run.start + run.memory_wait)


def covered(intervals: list[tuple[float, float]]) -> float:
    """Length of the union of ``intervals``."""
    total = 0.0
    reach = float("-inf")
    for start, end in sorted(intervals):
        if end <= reach:
            continue
        total += end - max(start, reach)
        reach = end
    return total


def _layer_row(layer: str) -> dict:
    row: dict = {"layer": layer, "cycles": 0, "stall_cycles": 0}
    for column in dict.fromkeys(PASS_COLUMNS.values()):
        row[column] = 0
    row.update({"macs": 0, "dram_bytes": 0.0, "energy_pj": 0.0, "tasks": []})
    return row


def ratios_against(results: dict[str, dict], base: dict) -> tuple[dict, dict]:
    """Per algorithm: the speed-up over ``base`` (a steady-state dict with
    ``cycles_per_iteration`` and ``energy_pj_per_iteration``) and the energy ratio to it."""
    speedup = {
        name: base["cycles_per_iteration"] / r["steady_state"]["cycles_per_iteration"]
        for name, r in results.items()
    }
    energy = {
        name: r["steady_state"]["energy_pj_per_iteration"] / base["energy_pj_per_iteration"]
        for name, r in results.items()
    }
    return speedup, energy


def comparison(results: dict[str, dict], baseline: str = "bp") -> dict:
    """Speedup and energy ratio of each algorithm against the baseline, per steady iteration."""
    speedup, energy = ratios_against(results, results[baseline]["steady_state"])
    return {
        "iterations": {name: r["iterations"] for name, r in results.items()},
        "results": results,
        "speedup_vs_bp": speedup,
        "energy_ratio_vs_bp": energy,
    }


def check_result(doc: dict, inputs: str) -> None:
    """Raise ``ConfigError`` naming ``inputs`` unless every number of the ``simulate``
    document ``doc`` is finite, the run took time (cycles and latency > 0) and energies are
    non-negative with a positive total. A result that breaks this comes from an input out of
    range (an overflow to inf, a clock so fast that latency rounds to 0), so it is an input
    error, reported like any other."""
    bad = _first_non_finite(doc, "")
    if bad is not None:
        path, value = bad
        raise ConfigError(
            inputs, None, f"inputs in range (the result is not finite: {path} = {value})"
        )
    steady = doc.get("steady_state", {})
    positive = (
        ("cycles", doc.get("cycles")),
        ("latency_s", doc.get("latency_s")),
        ("energy_pj", doc.get("energy_pj")),
        ("steady_state.cycles_per_iteration", steady.get("cycles_per_iteration")),
        ("steady_state.latency_s_per_iteration", steady.get("latency_s_per_iteration")),
    )
    for path, value in positive:
        if value is not None and not value > 0:
            raise ConfigError(
                inputs, None, f"inputs in range (the result has {path} = {value:g}, not > 0)"
            )
    for part, value in doc.get("energy_breakdown_pj", {}).items():
        if value < 0:
            raise ConfigError(
                inputs,
                None,
                f"inputs in range (the result has energy_breakdown_pj.{part} = {value:g} < 0)",
            )


def _first_non_finite(value: object, path: str) -> tuple[str, float] | None:
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, value)
    if isinstance(value, dict):
        for key, item in value.items():
            found = _first_non_finite(item, f"{path}.{key}" if path else str(key))
            if found is not None:
                return found
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            found = _first_non_finite(item, f"{path}[{index}]")
            if found is not None:
                return found
    return None

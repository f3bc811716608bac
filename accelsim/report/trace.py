"""Chrome trace-event JSON of a schedule: one track per unit, one slice per task.

Open the file in https://ui.perfetto.dev or chrome://tracing. Times are microseconds of chip
time (``cycles / clock_mhz``); each slice carries the task, iteration, cycles, memory wait,
time queued for the unit and the chosen GEMM mapping.
"""

from __future__ import annotations

from collections.abc import Callable

from accelsim.config.arch import Arch
from accelsim.hw.cost import TaskCost
from accelsim.lowering.graph import Task, TaskGraph
from accelsim.sim.engine import SimResult


def chrome_trace(
    arch: Arch, graph: TaskGraph, result: SimResult, cost_of: Callable[[Task, int], TaskCost]
) -> dict:
    clock = arch.clock_mhz
    events: list[dict] = [
        {
            "name": "process_name",
            "ph": "M",
            "pid": 0,
            "tid": 0,
            "args": {"name": f"{arch.name}: {graph.workload} ({graph.algorithm})"},
        }
    ]
    for i, unit in enumerate(arch.units):
        events.append(
            {"name": "thread_name", "ph": "M", "pid": 0, "tid": i, "args": {"name": unit.name}}
        )
        events.append(
            {"name": "thread_sort_index", "ph": "M", "pid": 0, "tid": i, "args": {"sort_index": i}}
        )
    for r in result.runs:
        task = graph.tasks[r.task]
        cost = cost_of(task, r.unit)
        events.append(
            {
                "name": task.name,
                "cat": task.kind,
                "ph": "X",
                "ts": r.start / clock,
                "dur": r.held / clock,
                "pid": 0,
                "tid": r.unit,
                "args": {
                    "iteration": r.iteration,
                    "cycles": r.held,
                    "compute_cycles": r.compute_cycles,
                    "memory_wait_cycles": r.memory_wait,
                    "queued_cycles": r.queued,
                    "mapping": [m.to_dict() for m in cost.mappings],
                },
            }
        )
    return {"traceEvents": events, "displayTimeUnit": "ns"}

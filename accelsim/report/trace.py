"""Chrome trace-event JSON of a schedule: one track per unit, one slice per task.

Open the file in https://ui.perfetto.dev or chrome://tracing. Times are microseconds of chip
time (``cycles / clock_mhz``); each slice carries the task, iteration, cycles and DRAM wait.
"""

from __future__ import annotations

from accelsim.config.arch import Arch
from accelsim.lowering.graph import TaskGraph
from accelsim.sim.engine import SimResult


def chrome_trace(arch: Arch, graph: TaskGraph, result: SimResult) -> dict:
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
    for it, ti, ui, start, end, waited in result.trace:
        task = graph.tasks[ti]
        events.append(
            {
                "name": task.name,
                "cat": task.kind,
                "ph": "X",
                "ts": start / clock,
                "dur": (end - start) / clock,
                "pid": 0,
                "tid": ui,
                "args": {"iteration": it, "cycles": end - start, "dram_wait_cycles": waited},
            }
        )
    return {"traceEvents": events, "displayTimeUnit": "ns"}

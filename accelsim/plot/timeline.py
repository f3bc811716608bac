"""Per-unit utilization timeline (a Gantt chart) of one simulation.

Input: the Chrome trace-event document of a simulation (``accelsim simulate --trace FILE``, or
``Run.trace()`` of ``accelsim.report.api.run``): one track per unit, one complete ("X") event
per task with ``ts``/``dur`` in microseconds, the task kind in ``cat`` and the iteration in
``args``. Each unit is a row; each task a bar coloured and hatched by its kind (fp, ep, wg, wu,
dfa_ep, loss); iterations alternate in shade so pipelining (PDFA) shows as overlapping rows.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure
from matplotlib.patches import Patch

from accelsim.config.errors import ConfigError
from accelsim.plot.output import Table
from accelsim.plot.style import PAGE_IN, new_figure, paper, plain_numbers, series_style
from accelsim.plot.units import quantity

KIND_ORDER = ("fp", "ep", "dfa_ep", "wg", "wu", "loss")


def trace_events(trace: dict[str, Any], label: str = "trace") -> tuple[list[str], list[dict]]:
    """(unit names by track, task events with times in seconds) from a Chrome trace."""
    events = trace.get("traceEvents") if isinstance(trace, dict) else None
    if not isinstance(events, list):
        raise ConfigError(label, "traceEvents", "a Chrome trace-event document")
    names: dict[int, str] = {}
    tasks = []
    for event in events:
        if not isinstance(event, dict):
            continue
        if event.get("ph") == "M" and event.get("name") == "thread_name":
            names[int(event.get("tid", 0))] = str(event.get("args", {}).get("name"))
        elif event.get("ph") == "X":
            start = float(event["ts"]) * 1e-6
            tasks.append(
                {
                    "track": int(event.get("tid", 0)),
                    "task": str(event.get("name", "")),
                    "kind": str(event.get("cat", "")),
                    "iteration": int(event.get("args", {}).get("iteration", 0)),
                    "start_s": start,
                    "end_s": start + float(event.get("dur", 0.0)) * 1e-6,
                }
            )
    if not tasks:
        raise ConfigError(label, "traceEvents", "at least one task event (ph: X)")
    tracks = sorted({*names, *(t["track"] for t in tasks)})
    units = [names.get(track, f"unit {track}") for track in tracks]
    for t in tasks:
        t["unit"] = units[tracks.index(t["track"])]
    return units, tasks


def timeline_figure(trace: dict[str, Any], label: str = "trace") -> tuple[Figure, Table]:
    units, tasks = trace_events(trace, label)
    kinds = [k for k in KIND_ORDER if any(t["kind"] == k for t in tasks)]
    kinds += sorted({t["kind"] for t in tasks} - set(kinds))
    q = quantity("time_s", [t["end_s"] for t in tasks])
    with paper():
        figure = new_figure(PAGE_IN, 0.6 + 0.38 * len(units))
        axes = figure.subplots()
        for t in tasks:
            style = series_style(kinds.index(t["kind"]))
            row = units.index(t["unit"])
            axes.broken_barh(
                [(t["start_s"] / q.scale, (t["end_s"] - t["start_s"]) / q.scale)],
                (row - 0.38, 0.76),
                facecolors=style.color,
                edgecolors="black",
                linewidth=0.3,
                hatch=style.hatch,
                alpha=1.0 if t["iteration"] % 2 == 0 else 0.6,
            )
        axes.set_yticks(range(len(units)), units)
        axes.set_ylim(len(units) - 0.5, -0.5)  # first unit on top
        axes.set_xlim(0, max(t["end_s"] for t in tasks) / q.scale)
        axes.set_xlabel(q.label)
        plain_numbers(axes)
        axes.set_ylabel("Unit")
        axes.grid(axis="y", visible=False)
        handles = [Patch(label=k, **series_style(i).bar()) for i, k in enumerate(kinds)]
        axes.legend(handles=handles, title="Task", loc="upper left", bbox_to_anchor=(1.0, 1.0))
    columns = ("unit", "task", "kind", "iteration", "start_s", "end_s")
    return figure, Table.from_dicts(tasks, columns)

"""Speedup and energy of each algorithm relative to the BP baseline on the same chip.

Input: ``{workload name: accelsim compare --json dict}``. Left panel: speedup vs BP (BP latency
over the algorithm's latency, higher is better); right panel: energy vs BP (the algorithm's
energy over BP's, lower is better). A dashed line marks 1x, the baseline.

The x axis says what its ticks are: with several workloads, one bar group per workload and the
label ``Workload``; with one workload, a tick per bar naming its algorithm and the label
``Algorithm (<workload>)``. Value labels above the bars never clip at the frame.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from accelsim.plot.bars import fit_value_labels, grouped_bars
from accelsim.plot.output import Table
from accelsim.plot.style import COLUMN_IN, new_figure, paper, plain_numbers, style_for
from accelsim.plot.units import quantity


def compare_figure(comparisons: dict[str, dict[str, Any]]) -> tuple[Figure, Table]:
    workloads = list(comparisons)
    algorithms: list[str] = []
    for data in comparisons.values():
        algorithms += [a for a in data["results"] if a not in algorithms]
    rows = []
    for workload, data in comparisons.items():
        for algorithm, result in data["results"].items():
            rows.append(
                {
                    "workload": workload,
                    "algorithm": algorithm,
                    "cycles": result.get("cycles"),
                    "latency_s": result.get("latency_s"),
                    "energy_pj": result.get("energy_pj"),
                    "speedup_vs_bp": data["speedup_vs_bp"].get(algorithm),
                    "energy_ratio_vs_bp": data["energy_ratio_vs_bp"].get(algorithm),
                }
            )
    styles = {a: style_for(a, algorithms) for a in algorithms}
    with paper():
        figure = new_figure(max(COLUMN_IN, 1.2 + 0.9 * len(workloads) * 2), 2.3)
        panels = figure.subplots(1, 2)
        for axes, key in zip(panels, ("speedup_vs_bp", "energy_ratio_vs_bp"), strict=True):
            values = {(r["workload"], r["algorithm"]): r[key] for r in rows if r[key] is not None}
            grouped_bars(axes, workloads, algorithms, values, styles)
            axes.axhline(1.0, color="black", linestyle="--", linewidth=0.7)
            axes.set_ylabel(quantity(key).label)
            if len(workloads) > 1:
                axes.set_xlabel("Workload")
            else:  # one group: name each bar by its algorithm, the workload in the label
                present = [a for a in algorithms if (workloads[0], a) in values]
                width = 0.8 / max(1, len(algorithms))
                ticks = [-0.4 + width * (algorithms.index(a) + 0.5) for a in present]
                axes.set_xticks(ticks, present)
                axes.set_xlabel(f"Algorithm ({workloads[0]})" if workloads else "Algorithm")
            axes.margins(y=0.15)
            plain_numbers(axes)
        panels[0].set_title("higher is better")
        panels[1].set_title("lower is better")
        handles, labels = panels[0].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside upper center", ncols=len(algorithms))
        for axes in panels:
            fit_value_labels(axes)
    return figure, Table.from_dicts(rows)

"""Where the energy goes: one stacked bar per algorithm, one segment per energy component.

Input: ``{algorithm: accelsim simulate --json dict}`` (for example the ``results`` of a
comparison). Segments are the keys of ``energy_breakdown_pj`` (MACs, SRAM, DRAM, PRNG, leakage,
... whatever the simulator reports), stacked in a fixed order with a colour and a hatch each.
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from accelsim.plot.output import Table
from accelsim.plot.style import COLUMN_IN, new_figure, paper, plain_numbers, series_style
from accelsim.plot.units import quantity


def breakdown_figure(
    results: dict[str, dict[str, Any]], percent: bool = False
) -> tuple[Figure, Table]:
    algorithms = list(results)
    components: list[str] = []
    for result in results.values():
        components += [c for c in result.get("energy_breakdown_pj", {}) if c not in components]
    rows = []
    for algorithm, result in results.items():
        parts = result.get("energy_breakdown_pj", {})
        total = sum(parts.values()) or 1.0
        for component in components:
            value = float(parts.get(component, 0.0))
            rows.append(
                {
                    "algorithm": algorithm,
                    "component": component,
                    "energy_pj": value,
                    "share": value / total,
                }
            )
    totals = [sum(r["energy_pj"] for r in rows if r["algorithm"] == a) for a in algorithms]
    q = quantity("energy_pj", totals)
    with paper():
        figure = new_figure(max(COLUMN_IN, 1.6 + 0.55 * len(algorithms)), 2.6)
        axes = figure.subplots()
        bottoms = [0.0] * len(algorithms)
        for index, component in enumerate(components):
            heights = []
            for a in algorithms:
                row = next(r for r in rows if r["algorithm"] == a and r["component"] == component)
                heights.append(100 * row["share"] if percent else row["energy_pj"] / q.scale)
            axes.bar(
                range(len(algorithms)),
                heights,
                0.6,
                bottom=bottoms,
                label=component,
                **series_style(index).bar(),
            )
            bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
        axes.set_xticks(range(len(algorithms)), algorithms)
        axes.set_xlabel("Algorithm")
        plain_numbers(axes)
        axes.set_ylabel("Share of energy (%)" if percent else q.label)
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), title="Component")
    return figure, Table.from_dicts(rows)

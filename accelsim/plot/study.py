"""The study figure: test accuracy against simulated training time and energy on the chip.

Two panels side by side, one line per algorithm with a marker per epoch: accuracy (y) against
the chip time (left) and energy (right) spent on the training iterations so far. A dashed line
marks the target accuracy; a large open circle marks the epoch where an algorithm first reaches
it, so time-to-accuracy and energy-to-accuracy read off the x axes. The legend sits below the
panels, outside the axes, so it never covers a point. Input: the ``accelsim study
--json`` document (``StudyResult.to_dict()``).
"""

from __future__ import annotations

from typing import Any

from matplotlib.figure import Figure

from accelsim.plot.output import Table
from accelsim.plot.style import PAGE_IN, new_figure, paper, plain_numbers, style_for
from accelsim.plot.units import quantity

COLUMNS = (
    "algorithm",
    "epoch",
    "iterations",
    "time_s",
    "energy_pj",
    "test_accuracy",
    "target_accuracy",
    "reached_target",
)


def study_figure(doc: dict[str, Any]) -> tuple[Figure, Table]:
    algorithms: dict[str, dict] = doc["algorithms"]
    names = list(algorithms)
    target = doc["target_accuracy"]
    rows = []
    for name, outcome in algorithms.items():
        for point in outcome["history"]:
            rows.append(
                {
                    "algorithm": name,
                    "epoch": point["epoch"],
                    "iterations": point["iterations"],
                    "time_s": point["time_s"],
                    "energy_pj": point["energy_pj"],
                    "test_accuracy": point["test_accuracy"],
                    "target_accuracy": target,
                    "reached_target": point["epoch"] == outcome["epochs_to_target"],
                }
            )
    panels = (
        ("time_s", "Simulated training time"),
        ("energy_pj", "Simulated training energy"),
    )
    with paper():
        figure = new_figure(PAGE_IN * 0.75, 2.3)
        axes_pair = figure.subplots(1, 2, sharey=True)
        for axes, (key, words) in zip(axes_pair, panels, strict=True):
            q = quantity(key, [r[key] for r in rows])
            for name in names:
                mine = [r for r in rows if r["algorithm"] == name]
                if not mine:
                    continue
                style = style_for(name, names).line()
                delay = algorithms[name].get("weight_delay", 0)
                label = f"{name} (delay {delay})" if delay else name
                axes.plot(
                    [r[key] / q.scale for r in mine],
                    [100 * r["test_accuracy"] for r in mine],
                    label=label,
                    **style,
                )
                hits = [r for r in mine if r["reached_target"]]
                axes.plot(
                    [r[key] / q.scale for r in hits],
                    [100 * r["test_accuracy"] for r in hits],
                    linestyle="none",
                    marker="o",
                    markersize=9,
                    markerfacecolor="none",
                    markeredgecolor=style["color"] if style["color"] != "#000000" else "black",
                    markeredgewidth=1.0,
                )
            axes.axhline(100 * target, color="0.35", linestyle="--", linewidth=0.8)
            axes.set_xlim(left=0)
            axes.set_xlabel(f"{words} ({q.unit})")
            plain_numbers(axes)
        axes_pair[0].set_ylabel("Test accuracy (%)")
        axes_pair[0].annotate(
            f"target {100 * target:.1f} %",
            xy=(1.0, 100 * target),
            xycoords=("axes fraction", "data"),
            xytext=(-2, -2),
            textcoords="offset points",
            ha="right",
            va="top",
            fontsize=6,
            color="0.35",
        )
        # Outside the axes: accuracy curves fill every corner of a panel sooner or later.
        handles, labels = axes_pair[1].get_legend_handles_labels()
        figure.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 4) or 1)
    return figure, Table.from_dicts(rows, COLUMNS)

"""Pareto fronts: every point of a sweep on two competing metrics, the non-dominated ones joined.

Default axes are cycles (x) and energy (y) per steady-state training iteration
(``cycles_per_iteration``, ``energy_pj_per_iteration``), both minimised and labelled as per
iteration. A point is on
the front when no other point is at least as good on both axes and strictly better on one. With
``maximize_y`` the y metric is maximised instead (for example accuracy against energy to
accuracy). Markers, colours and hatches follow the ``hue`` value (the algorithm by default).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from accelsim.config.errors import ConfigError
from accelsim.plot.output import Table
from accelsim.plot.style import COLUMN_IN, log_ticks, new_figure, paper, plain_numbers, style_for
from accelsim.plot.units import quantity


def pareto_front(points: Sequence[tuple[float, float]], maximize_y: bool = False) -> list[int]:
    """Indices of the non-dominated points (x minimised; y minimised unless ``maximize_y``),
    sorted by x."""
    sign = -1.0 if maximize_y else 1.0
    order = sorted(range(len(points)), key=lambda i: (points[i][0], sign * points[i][1]))
    front: list[int] = []
    best = float("inf")
    for i in order:
        y = sign * points[i][1]
        if y < best:
            front.append(i)
            best = y
    return front


def pareto_figure(
    rows: Sequence[dict[str, Any]],
    point_keys: Sequence[str],
    x: str = "cycles_per_iteration",
    y: str = "energy_pj_per_iteration",
    hue: str | None = "algorithm",
    maximize_y: bool = False,
    logx: bool = False,
    logy: bool = False,
) -> tuple[Figure, Table]:
    for key, option in ((x, "--x"), (y, "--y")):
        if not any(_is_number(r.get(key)) for r in rows):
            raise ConfigError(None, option, "a metric with numbers in the stored points", key)
    if hue is not None and hue not in point_keys:
        raise ConfigError(None, "--hue", "a swept value: " + ", ".join(point_keys), hue)
    rows = [r for r in rows if _is_number(r.get(x)) and _is_number(r.get(y))]
    coords = [(float(r[x]), float(r[y])) for r in rows]
    front = pareto_front(coords, maximize_y)
    on_front = set(front)
    qx = quantity(x, [c[0] for c in coords])
    qy = quantity(y, [c[1] for c in coords])
    hues: list[str] = []
    for r in rows:
        value = str(r.get(hue)) if hue else "points"
        if value not in hues:
            hues.append(value)
    with paper():
        figure = new_figure(COLUMN_IN, 2.6)
        axes = figure.subplots()
        for value in hues:
            members = [
                i for i, r in enumerate(rows) if (str(r.get(hue)) if hue else "points") == value
            ]
            style = style_for(value, hues).line()
            style.pop("linestyle")
            axes.plot(
                [coords[i][0] / qx.scale for i in members],
                [coords[i][1] / qy.scale for i in members],
                linestyle="none",
                label=value,
                alpha=0.85,
                **style,
            )
        axes.plot(
            [coords[i][0] / qx.scale for i in front],
            [coords[i][1] / qy.scale for i in front],
            linestyle="-",
            linewidth=0.9,
            color="black",
            marker="o",
            markersize=8,
            markerfacecolor="none",
            markeredgewidth=0.9,
            label="Pareto front",
            drawstyle="steps-post",
        )
        axes.set_xscale("log" if logx else "linear")
        axes.set_yscale("log" if logy else "linear")
        if logx:
            log_ticks(axes.xaxis, [c[0] / qx.scale for c in coords])
        if logy:
            log_ticks(axes.yaxis, [c[1] / qy.scale for c in coords])
        plain_numbers(axes)
        axes.set_xlabel(qx.label)
        axes.set_ylabel(qy.label)
        axes.legend(title=hue)
    table = [
        {**{k: r.get(k) for k in point_keys}, x: r[x], y: r[y], "on_front": i in on_front}
        for i, r in enumerate(rows)
    ]
    return figure, Table.from_dicts(table)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)

"""Sweep figures from a result store: a metric along one swept value (lines) or over two (heatmap).

Input rows are flat dicts (swept values under their dotted paths, ``algorithm``, and metrics
such as ``latency_s`` or ``utilization.fp_core``) of the points that ran ok; ``point_keys`` says
which keys are swept values. ``where`` keeps only rows whose value matches (compared as text,
so ``--where arch.clock_mhz=200`` matches 200 and 200.0 alike).

Lines: one line per ``hue`` value; any other swept value that still varies splits the lines
further (its value joins the legend label), so nothing is silently averaged. Heatmap: one panel
per ``hue`` value; every other swept value must be fixed (``where``) since a cell holds one number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from matplotlib.figure import Figure

from accelsim.config.algorithms import ALGORITHMS
from accelsim.config.errors import ConfigError
from accelsim.plot.output import Table
from accelsim.plot.style import (
    COLUMN_IN,
    HEATMAP_CMAP,
    SeriesStyle,
    log_ticks,
    new_figure,
    paper,
    plain_numbers,
    series_style,
    style_for,
)
from accelsim.plot.units import quantity


def select(rows: Sequence[dict[str, Any]], where: dict[str, str]) -> list[dict[str, Any]]:
    """Rows whose values match every ``where`` entry; unknown keys are a ConfigError."""
    known = {key for row in rows for key in row}
    for key in where:
        if key not in known:
            raise ConfigError(None, "--where", "a key of the stored points: " + _list(known), key)
    kept = [r for r in rows if all(_text(r.get(k)) == _text(v) for k, v in where.items())]
    if not kept:
        raise ConfigError(None, "--where", "a filter that matches stored points", where)
    return kept


def sweep_line_figure(
    rows: Sequence[dict[str, Any]],
    point_keys: Sequence[str],
    x: str,
    y: str,
    hue: str | None = None,
    where: dict[str, str] | None = None,
    logx: bool = False,
    logy: bool = False,
) -> tuple[Figure, Table]:
    rows = select(rows, where or {})
    _check_key(rows, point_keys, x, "--x", swept=True)
    _check_key(rows, point_keys, y, "--y", swept=False)
    if hue is not None:
        _check_key(rows, point_keys, hue, "--hue", swept=True)
    split = [k for k in point_keys if k not in (x, hue) and len(_distinct(rows, k)) > 1]
    groups: dict[str, list[dict[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: [_rank(k, r.get(k)) for k in (hue, *split) if k]):
        groups.setdefault(_series_label(row, hue, split), []).append(row)
    numeric_x = all(_is_number(r.get(x)) for r in rows)
    categories = _distinct(rows, x)
    qy = quantity(y, [r.get(y) for r in rows if _is_number(r.get(y))])
    qx = quantity(x, [r.get(x) for r in rows] if numeric_x else ())
    names = list(groups)
    table = []
    with paper():
        figure = new_figure(COLUMN_IN, 2.5)
        axes = figure.subplots()
        for name, members in groups.items():
            members = sorted(members, key=lambda r: _order(r.get(x)))
            xs = [(r[x] / qx.scale if numeric_x else categories.index(r.get(x))) for r in members]
            ys = [r.get(y) / qy.scale if _is_number(r.get(y)) else math.nan for r in members]
            # Algorithms keep their colour and hatch across figures; when other swept values
            # split an algorithm's line, the split lines differ by marker and line style.
            if hue == "algorithm":
                style = style_for(str(members[0].get(hue)), names)
                if split:
                    mine = [n for n in names if groups[n][0].get(hue) == members[0].get(hue)]
                    other = series_style(mine.index(name))
                    style = SeriesStyle(style.color, style.hatch, other.marker, other.linestyle)
            else:
                style = series_style(names.index(name))
            axes.plot(xs, ys, label=name, **style.line())
            table += [{**{k: r.get(k) for k in (*point_keys,)}, y: r.get(y)} for r in members]
        if not numeric_x:
            axes.set_xticks(range(len(categories)), [str(c) for c in categories])
        axes.set_xscale("log" if logx else "linear")
        axes.set_yscale("log" if logy else "linear")
        if logx and numeric_x and len(categories) <= 12:
            # Ticks at the swept values, written plainly (not 2x10^1).
            axes.set_xticks(
                [c / qx.scale for c in categories], [_text(c / qx.scale) for c in categories]
            )
            axes.minorticks_off()
        elif logx and numeric_x:
            log_ticks(axes.xaxis, [c / qx.scale for c in categories])
        if logy:
            log_ticks(axes.yaxis, [r[y] / qy.scale for r in rows if _is_number(r.get(y))])
        plain_numbers(axes)
        axes.set_xlabel(qx.label)
        axes.set_ylabel(qy.label)
        if len(groups) > 4:  # many lines: the legend goes beside the axes, not over them
            axes.legend(
                title=_legend_title(hue, split), loc="upper left", bbox_to_anchor=(1.0, 1.0)
            )
        elif len(groups) > 1 or hue:
            axes.legend(title=_legend_title(hue, split))
    return figure, Table.from_dicts(table)


def sweep_heatmap_figure(
    rows: Sequence[dict[str, Any]],
    point_keys: Sequence[str],
    x: str,
    y: str,
    z: str,
    hue: str | None = None,
    where: dict[str, str] | None = None,
) -> tuple[Figure, Table]:
    rows = select(rows, where or {})
    _check_key(rows, point_keys, x, "--x", swept=True)
    _check_key(rows, point_keys, y, "--y", swept=True)
    _check_key(rows, point_keys, z, "--z", swept=False)
    if hue is not None:
        _check_key(rows, point_keys, hue, "--hue", swept=True)
    for key in point_keys:
        if key not in (x, y, hue) and len(_distinct(rows, key)) > 1:
            raise ConfigError(
                None,
                "--where",
                f"{key} fixed for a heatmap (it varies: "
                f"{_list(_distinct(rows, key))}; add --where {key}=VALUE or use it as --hue)",
            )
    panels = _distinct(rows, hue) if hue else [None]
    xs, ys = _distinct(rows, x), _distinct(rows, y)
    qz = quantity(z, [r.get(z) for r in rows if _is_number(r.get(z))])
    qx = quantity(x, [v for v in xs if _is_number(v)] if all(map(_is_number, xs)) else ())
    qy = quantity(y, [v for v in ys if _is_number(v)] if all(map(_is_number, ys)) else ())
    values = [r.get(z) / qz.scale for r in rows if _is_number(r.get(z))]
    low, high = (min(values), max(values)) if values else (0.0, 1.0)
    with paper():
        figure = new_figure(max(COLUMN_IN, 1.0 + 2.4 * len(panels)), 2.6)
        grid = figure.subplots(1, len(panels), squeeze=False)[0]
        image = None
        for axes, panel in zip(grid, panels, strict=True):
            cells = [[math.nan] * len(xs) for _ in ys]
            for r in rows:
                if hue and r.get(hue) != panel:
                    continue
                if _is_number(r.get(z)):
                    cells[ys.index(r.get(y))][xs.index(r.get(x))] = r[z] / qz.scale
            image = axes.imshow(
                cells, cmap=HEATMAP_CMAP, vmin=low, vmax=high, origin="lower", aspect="auto"
            )
            for i, line in enumerate(cells):
                for j, value in enumerate(line):
                    if not math.isnan(value):
                        shade = (value - low) / (high - low) if high > low else 0.0
                        axes.text(
                            j,
                            i,
                            f"{value:.3g}",
                            ha="center",
                            va="center",
                            fontsize=6,
                            color="black" if shade > 0.5 else "white",
                        )
            axes.set_xticks(range(len(xs)), [_tick(v, qx.scale) for v in xs])
            axes.set_yticks(range(len(ys)), [_tick(v, qy.scale) for v in ys])
            axes.set_xlabel(qx.label)
            axes.set_ylabel(qy.label)
            axes.grid(False)
            if hue:
                axes.set_title(f"{hue} = {panel}")
        # The colour scale: labelled with the metric and its SI-scaled unit, plain tick values.
        colorbar = figure.colorbar(image, ax=list(grid))
        colorbar.set_label(qz.label)
        plain_numbers(colorbar.ax)
    keys = [k for k in (x, y, hue) if k]
    table = [{**{k: r.get(k) for k in keys}, z: r.get(z)} for r in rows]
    return figure, Table.from_dicts(table)


# -- helpers -------------------------------------------------------------------------------------
def _check_key(
    rows: Sequence[dict[str, Any]], point_keys: Sequence[str], key: str, option: str, swept: bool
) -> None:
    if swept and key not in point_keys:
        raise ConfigError(None, option, "a swept value: " + _list(point_keys), key)
    if not swept:
        metrics = sorted({k for r in rows for k, v in r.items() if _is_number(v)} - set(point_keys))
        if key not in metrics:
            raise ConfigError(None, option, "a stored metric: " + _list(metrics), key)


def _distinct(rows: Sequence[dict[str, Any]], key: str) -> list[Any]:
    seen: dict[str, Any] = {}
    for row in rows:
        seen.setdefault(_text(row.get(key)), row.get(key))
    return sorted(seen.values(), key=_order)


def _series_label(row: dict[str, Any], hue: str | None, split: list[str]) -> str:
    parts = [str(row.get(hue))] if hue else []
    parts += [f"{_short(k)}={row.get(k)}" for k in split]
    return ", ".join(parts) or "all points"


def _legend_title(hue: str | None, split: list[str]) -> str | None:
    return hue if hue and not split else None


def _short(key: str) -> str:
    return key.split(".", 1)[-1]


def _rank(key: str, value: Any) -> tuple:
    """Sort key of a series: algorithms in their canonical order, other values by _order."""
    if key == "algorithm" and value in ALGORITHMS:
        return (ALGORITHMS.index(value), 0.0, "")
    return _order(value)


def _order(value: Any) -> tuple:
    return (0, float(value), "") if _is_number(value) else (1, 0.0, str(value))


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _tick(value: Any, scale: float) -> str:
    """A heatmap tick: the swept value in the axis' scaled unit, written plainly."""
    return f"{value / scale:g}" if _is_number(value) else str(value)


def _text(value: Any) -> str:
    if _is_number(value) and float(value).is_integer():
        return str(int(value))
    return str(value)


def _list(keys: Any) -> str:
    keys = [str(k) for k in keys]
    return ", ".join(keys) if keys else "none"

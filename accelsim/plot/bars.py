"""Grouped and stacked bar helpers shared by the comparison and breakdown figures."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.text import Text

from accelsim.plot.style import SeriesStyle


def grouped_bars(
    axes: Axes,
    groups: Sequence[str],
    series: Sequence[str],
    values: dict[tuple[str, str], float],
    styles: dict[str, SeriesStyle],
    label_values: bool = True,
) -> None:
    """One cluster per group, one bar per series; missing (group, series) pairs leave a gap."""
    width = 0.8 / max(1, len(series))
    for s_index, name in enumerate(series):
        xs, heights = [], []
        for g_index, group in enumerate(groups):
            if (group, name) in values:
                xs.append(g_index - 0.4 + width * (s_index + 0.5))
                heights.append(values[(group, name)])
        bars = axes.bar(xs, heights, width, label=name, **styles[name].bar())
        if label_values:
            # Upright labels collide once three or more bars share a cluster.
            rotation = 90 if len(series) >= 3 else 0
            labels = axes.bar_label(bars, fmt="%.2f", padding=1.5, fontsize=5.5, rotation=rotation)
            for label in labels:
                label.set_gid("value-label")
    axes.set_xticks(range(len(groups)), groups)
    axes.set_xlim(-0.6, len(groups) - 0.4)


def value_labels(axes: Axes) -> list[Text]:
    """The value labels ``grouped_bars`` wrote on ``axes``."""
    return [t for t in axes.texts if t.get_gid() == "value-label"]


def fit_value_labels(axes: Axes, margin_px: float = 2.0) -> None:
    """Raise the y limit until every value label lies inside the axes (none clips at the frame).

    Call it once the figure is complete (titles, legend), since the layout sets the axes' size.
    Labels sit a fixed number of points above their bar, so a few layout passes settle it.
    """
    labels = value_labels(axes)
    if not labels:
        return
    figure = axes.get_figure()
    for _ in range(6):
        figure.canvas.draw()
        renderer = figure.canvas.get_renderer()
        box = axes.get_window_extent(renderer)
        top = max(t.get_window_extent(renderer).y1 for t in labels)
        if top + margin_px <= box.y1:
            return
        low, high = axes.get_ylim()
        needed = high
        for label in labels:
            value = label.xy[1]  # data height of the bar the label sits on
            bar_px = box.y0 + (value - low) / (high - low) * box.height
            above = label.get_window_extent(renderer).y1 - bar_px  # label height over the bar
            room = max(box.height - above - margin_px, box.height * 0.2)
            needed = max(needed, low + (value - low) * box.height / room)
        axes.set_ylim(low, needed * 1.0001 if needed <= high else needed)

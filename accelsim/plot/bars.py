"""Grouped and stacked bar helpers shared by the comparison and breakdown figures."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes

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
            axes.bar_label(bars, fmt="%.2f", padding=1.5, fontsize=5.5, rotation=rotation)
    axes.set_xticks(range(len(groups)), groups)
    axes.set_xlim(-0.6, len(groups) - 0.4)

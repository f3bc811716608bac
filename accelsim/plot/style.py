"""The paper style: small serif-free type, thin lines, and series that survive greyscale printing.

Every series gets a colour from the Okabe-Ito palette (distinct for colour-blind readers) AND a
hatch, a marker and a line style, so bars and lines stay distinguishable on a black-and-white
page. Algorithms always get the same style in every figure (bp is always the first style), so a
reader can match them across figures. Heatmaps use viridis, whose lightness rises monotonically.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import matplotlib
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FixedLocator,
    FuncFormatter,
    MaxNLocator,
    NullFormatter,
    ScalarFormatter,
)

from accelsim.config.algorithms import ALGORITHMS

# Okabe & Ito (2008), "Color Universal Design"; ordered so neighbours differ in lightness too.
COLORS = ("#000000", "#E69F00", "#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442")
HATCHES = ("", "///", "...", "xxx", "\\\\\\", "+++", "ooo", "---")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1)), (0, (3, 1, 1, 1, 1, 1)), (0, (1, 2)), "-")
HEATMAP_CMAP = "viridis"

# Width of one column of a two-column paper (IEEE: 3.5 in), and of the full page.
COLUMN_IN = 3.5
PAGE_IN = 7.16

RC = {
    "font.family": "DejaVu Sans",
    "font.size": 8,
    "axes.labelsize": 8,
    "axes.titlesize": 8,
    "legend.fontsize": 7,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.2,
    "lines.markersize": 4,
    "hatch.linewidth": 0.5,
    "patch.linewidth": 0.6,
    "axes.grid": True,
    "grid.linewidth": 0.4,
    "grid.alpha": 0.35,
    "axes.axisbelow": True,
    "legend.frameon": False,
    "savefig.dpi": 300,
    "savefig.bbox": "tight",
    "savefig.pad_inches": 0.02,
    "pdf.fonttype": 42,  # TrueType in PDFs: editable text, accepted by IEEE/ACM checks
    "svg.fonttype": "none",  # text stays text in SVGs
}


@dataclass(frozen=True)
class SeriesStyle:
    color: str
    hatch: str
    marker: str
    linestyle: object

    def bar(self) -> dict:
        """Keyword arguments for ``Axes.bar``: colour fill, black edge, hatch."""
        return {"facecolor": self.color, "hatch": self.hatch, "edgecolor": "black"}

    def line(self) -> dict:
        return {
            "color": self.color,
            "marker": self.marker,
            "linestyle": self.linestyle,
            "markerfacecolor": "white" if self.color == "#000000" else self.color,
            "markeredgecolor": "black" if self.color != "#000000" else self.color,
            "markeredgewidth": 0.6,
        }


def series_style(index: int) -> SeriesStyle:
    i = index % len(COLORS)
    return SeriesStyle(COLORS[i], HATCHES[i], MARKERS[i], LINESTYLES[i])


def style_for(name: str, names: list[str]) -> SeriesStyle:
    """Algorithms keep a fixed style everywhere; other series take their rank in ``names``."""
    if name in ALGORITHMS:
        return series_style(ALGORITHMS.index(name))
    return series_style(names.index(name) if name in names else len(names))


@contextlib.contextmanager
def paper() -> Iterator[None]:
    """Apply the paper rc settings for the figures created and saved inside."""
    with matplotlib.rc_context(RC):
        yield


def new_figure(width_in: float = COLUMN_IN, height_in: float = 2.4) -> Figure:
    """A figure with the Agg canvas (no pyplot state) and constrained layout."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    with paper():
        figure = Figure(figsize=(width_in, height_in), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def plain_numbers(axes: Axes) -> None:
    """No ``1e6`` offset or multiplier on linear axes: values are already SI-scaled
    (``accelsim.plot.units.quantity``), so tick labels are written as they are."""
    for axis in (axes.xaxis, axes.yaxis):
        if axis.get_scale() == "linear" and isinstance(axis.get_major_formatter(), ScalarFormatter):
            formatter = ScalarFormatter(useOffset=False)
            formatter.set_scientific(False)
            axis.set_major_formatter(formatter)


def log_ticks(axis: Axis, values: Iterable[float]) -> None:
    """At least two labelled ticks on a log ``axis`` whose data span less than a few decades.

    Ticks go at 1, 2 and 5 times the powers of ten; when the data fall between fewer than two
    of those, at evenly spaced plain values instead (as a linear axis would have them). Labels
    are plain numbers (``20``, ``0.5``), not ``2×10¹``.
    """
    finite = [float(v) for v in values if v is not None and math.isfinite(v) and v > 0]
    if not finite:
        return
    low, high = min(finite), max(finite)
    if high / low >= 100:  # two full decades: matplotlib's own decade ticks are enough
        return
    candidates = [
        m * 10.0**e
        for e in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 2)
        for m in (1, 2, 5)
    ]
    inside = [t for t in candidates if low * 0.999 <= t <= high * 1.001]
    if len(inside) < 2:
        plain = MaxNLocator(nbins=4, min_n_ticks=2).tick_values(low, high)
        inside = [float(t) for t in plain if t > 0 and low * 0.999 <= t <= high * 1.001]
    if len(inside) < 2:
        inside = [low, high] if high > low else [low]
    axis.set_major_locator(FixedLocator(inside))
    axis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.3g}"))
    axis.set_minor_formatter(NullFormatter())

"""The paper style: small serif-free type, thin lines, and series that survive greyscale printing.

Every series gets a colour from the Okabe-Ito palette (distinct for colour-blind readers) AND a
hatch, a marker and a line style, so bars and lines stay distinguishable on a black-and-white
page. Algorithms always get the same style in every figure (bp is always the first style), so a
reader can match them across figures. Heatmaps use viridis, whose lightness rises monotonically.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass

import matplotlib
from matplotlib.figure import Figure

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

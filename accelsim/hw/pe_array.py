"""Analytic timing of one GEMM on an R x C systolic PE array, counted the way SCALE-Sim 3.0.0 does.

A GEMM ``(m x k) @ (k x n)`` is cut into tiles ("folds") that fit the array. Which two GEMM
dimensions are spread over the rows and columns of the array (the *spatial* dimensions Sr, Sc)
and which one streams through it over time (the *temporal* dimension T) is the dataflow:

* ``os`` output stationary: Sr = m (output pixels), Sc = n (filters), T = k;
* ``ws`` weight stationary: Sr = k (window), Sc = n (filters), T = m;
* ``is`` input stationary:  Sr = k (window), Sc = m (output pixels), T = n.

Each fold costs a fixed number of cycles (fill, stream, drain), because SCALE-Sim pads a partly
used fold with idle requests instead of shortening it:

* ``os``:      T + R + C - 2
* ``ws``/``is``: 2R + C + T - 2   (R cycles to load the stationary operand first)

SCALE-Sim reports the index of the last cycle, so a layer takes ``folds * per_fold - 1`` cycles
(before memory stalls). Every formula is derived from ``scalesim/compute/systolic_compute_*.py``
(see docs/pe-array-timing.md); nothing here walks cycles, so a call takes microseconds.
"""

from __future__ import annotations

import operator
from dataclasses import dataclass

DATAFLOWS = ("os", "ws", "is")


@dataclass(frozen=True)
class GemmShape:
    """A GEMM ``(m x k) @ (k x n)``; for a convolution m = output pixels, k = kh*kw*Cin."""

    m: int  # rows of the output (SCALE-Sim Sr for os: ofmap pixels, e.g. N*Ho*Wo)
    k: int  # reduction length (SCALE-Sim T for os: kh*kw*Cin)
    n: int  # output columns (SCALE-Sim Sc for os: filters)

    def __post_init__(self) -> None:
        for name in ("m", "k", "n"):
            value = getattr(self, name)
            try:
                number = operator.index(value)  # also takes numpy integers, not floats
            except TypeError:
                number = 0
            if isinstance(value, bool) or number < 1:
                raise ValueError(f"GemmShape.{name} must be a positive integer, got {value!r}")
            object.__setattr__(self, name, number)


@dataclass(frozen=True)
class ArrayTiming:
    """What one GEMM costs on the array, without memory stalls."""

    cycles: int  # compute cycles incl. fill and drain, without memory stalls
    macs: int  # m*k*n
    folds: int  # number of array tiles (row folds x column folds)
    mapping_efficiency: float  # 0-1, SCALE-Sim's "Mapping Efficiency %" / 100
    compute_utilization: float  # 0-1, SCALE-Sim's "Compute Util %" / 100
    ifmap_reads: int  # SRAM element reads per operand, as SCALE-Sim's demand matrices count them
    filter_reads: int
    ofmap_writes: int


@dataclass(frozen=True)
class FoldPlan:
    """How a GEMM maps onto the array for one dataflow: the spatial/temporal split and folds."""

    dataflow: str
    rows: int
    cols: int
    sr: int  # GEMM extent spread over the array rows
    sc: int  # GEMM extent spread over the array columns
    t: int  # GEMM extent streamed through time
    row_folds: int
    col_folds: int
    cycles_per_fold: int  # demand-matrix rows per fold (fill + stream + drain)

    @property
    def folds(self) -> int:
        return self.row_folds * self.col_folds

    def used_rows(self, row_fold: int) -> int:
        """Array rows busy in a given row fold (only the last one may be partial)."""
        return min(self.rows, self.sr - row_fold * self.rows)

    def used_cols(self, col_fold: int) -> int:
        return min(self.cols, self.sc - col_fold * self.cols)


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def check_array(rows: int, cols: int, dataflow: str) -> None:
    if dataflow not in DATAFLOWS:
        raise ValueError(f"unknown dataflow {dataflow!r}; expected one of {', '.join(DATAFLOWS)}")
    for name, value in (("rows", rows), ("cols", cols)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"array {name} must be a positive integer, got {value!r}")


def fold_plan(shape: GemmShape, rows: int, cols: int, dataflow: str) -> FoldPlan:
    """Spatial/temporal split and fold counts, as ``systolic_compute_<df>.set_params`` sets them."""
    check_array(rows, cols, dataflow)
    m, k, n = shape.m, shape.k, shape.n
    if dataflow == "os":
        sr, sc, t = m, n, k
        per_fold = t + rows + cols - 2
    elif dataflow == "ws":
        sr, sc, t = k, n, m
        per_fold = 2 * rows + cols + t - 2
    else:
        sr, sc, t = k, m, n
        per_fold = 2 * rows + cols + t - 2
    return FoldPlan(
        dataflow, rows, cols, sr, sc, t, ceil_div(sr, rows), ceil_div(sc, cols), per_fold
    )


def gemm_timing(shape: GemmShape, rows: int, cols: int, dataflow: str) -> ArrayTiming:
    """Cycles, utilization and SRAM traffic of one GEMM on a ``rows`` x ``cols`` array."""
    plan = fold_plan(shape, rows, cols, dataflow)
    m, k, n = shape.m, shape.k, shape.n
    folds = plan.folds
    macs = m * k * n
    cycles = folds * plan.cycles_per_fold - 1
    # SCALE-Sim averages per-fold figures; the busy PEs over all folds sum to Sr*Sc.
    mapping = (plan.sr * plan.sc) / (folds * rows * cols)
    # Per-fold utilization divides by the fold's demand height plus its width minus one; for
    # ws/is that adds another C - 1 on top of the cycles the fold occupies (a SCALE-Sim quirk).
    util_cycles = plan.cycles_per_fold if dataflow == "os" else plan.cycles_per_fold + cols - 1
    utilization = macs / (folds * rows * cols * util_cycles)
    if dataflow == "os":
        ifmap, filt, ofmap = m * k * plan.col_folds, k * n * plan.row_folds, m * n
    elif dataflow == "ws":
        ifmap, filt, ofmap = m * k * plan.col_folds, k * n, m * n * plan.row_folds
    else:
        ifmap, filt, ofmap = m * k, k * n * plan.col_folds, m * n * plan.row_folds
    return ArrayTiming(cycles, macs, folds, mapping, utilization, ifmap, filt, ofmap)


def conv_output_size(size: int, filt: int, stride: int) -> int:
    """Output extent as SCALE-Sim computes it: ceil((size - filt + stride) / stride).

    This rounds *up*: when the stride does not divide ``size - filt``, SCALE-Sim adds one more
    window that hangs over the edge (its missing pixels become idle requests), where an
    unpadded PyTorch convolution would round down.
    """
    return ceil_div(size - filt + stride, stride)


def conv_as_gemm(
    ifmap_h: int,
    ifmap_w: int,
    filt_h: int,
    filt_w: int,
    channels: int,
    num_filters: int,
    stride_h: int,
    stride_w: int,
) -> GemmShape:
    """SCALE-Sim's im2col view of an unpadded convolution (batch 1).

    m = Ho*Wo with Ho = ceil((H - kh + s) / s) (see ``conv_output_size``), k = kh*kw*C,
    n = filters (``topology_utils.topo_calc_hyperparams``).
    """
    values = dict(
        ifmap_h=ifmap_h,
        ifmap_w=ifmap_w,
        filt_h=filt_h,
        filt_w=filt_w,
        channels=channels,
        num_filters=num_filters,
        stride_h=stride_h,
        stride_w=stride_w,
    )
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if filt_h > ifmap_h or filt_w > ifmap_w:
        raise ValueError("the filter must not be larger than the input feature map")
    ho = conv_output_size(ifmap_h, filt_h, stride_h)
    wo = conv_output_size(ifmap_w, filt_w, stride_w)
    return GemmShape(m=ho * wo, k=filt_h * filt_w * channels, n=num_filters)

"""SCALE-Sim 3.0.0's memory bookkeeping in CALC (estimate-bandwidth) mode, without traces.

In CALC mode SCALE-Sim assumes the DRAM can always keep the double-buffered SRAMs full, so the
array never waits on reads; its report still carries two memory-dependent figures, and this
module reproduces both in closed form (no loop over folds, output rows or drain events; the
only iteration is a ~log2(cycles)-step bisection that finds the cycle of one write):

* **Stall cycles**: only the ofmap write buffer can stall (the read buffers answer every request
  after one cycle). It stalls when the array fills the whole ofmap SRAM while a drain to DRAM is
  still running; with the drain as wide as the array this provably never happens (see
  ``_drain_ofmap`` and docs/scalesim.md), so the figure is always 0.
* **Total cycles incl. prefetch**: from the first DRAM read that preloads the ifmap or filter
  SRAM (before cycle 0) to the last ofmap DRAM write after the final fold.

The model of the buffers (``memory/read_buffer_estimate_bw.py``, ``memory/write_buffer.py``,
``memory/double_buffered_scratchpad_mem.py`` in scalesim) is written out in
docs/pe-array-timing.md, section "Memory accounting in CALC mode".
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.hw.pe_array import (
    ArrayTiming,
    FoldPlan,
    GemmShape,
    ceil_div,
    conv_output_size,
    fold_plan,
    gemm_timing,
)

# SCALE-Sim's fixed CALC-mode choices (single_layer_sim.run, read_buffer_estimate_bw).
_PREFETCH_ELEMS_PER_CYCLE = 10  # "The number 10 elems per cycle is arbitrary"
_SETS_PER_BUFFER = 100  # each read SRAM is tracked as 100 address sets...
_ACTIVE_SETS = 50  # ...half of them active (active_buf_frac = 0.5)
_READ_PORT_LATENCY = 1
_WORD_BYTES = 1


@dataclass(frozen=True)
class SramSizes:
    """Ifmap, filter and ofmap scratchpad sizes in KiB (SCALE-Sim's *SramSzkB keys)."""

    ifmap_kb: int
    filter_kb: int
    ofmap_kb: int


@dataclass(frozen=True)
class LayerReport:
    """One row of SCALE-Sim's COMPUTE_REPORT.csv; utilizations as fractions 0-1."""

    total_cycles: int  # "Total Cycles": last compute cycle, stalls included
    stall_cycles: int  # "Stall Cycles"
    cycles_incl_prefetch: int  # "Total Cycles (incl. prefetch)"
    overall_utilization: float  # "Overall Util %" / 100
    mapping_efficiency: float  # "Mapping Efficiency %" / 100
    compute_utilization: float  # "Compute Util %" / 100
    timing: ArrayTiming


@dataclass(frozen=True)
class OperandFootprint:
    """Distinct SRAM addresses each read operand touches (drives the initial prefetch)."""

    ifmap_elems: int
    filter_elems: int


def gemm_footprint(shape: GemmShape) -> OperandFootprint:
    return OperandFootprint(ifmap_elems=shape.m * shape.k, filter_elems=shape.k * shape.n)


def conv_footprint(
    ifmap_h: int,
    ifmap_w: int,
    filt_h: int,
    filt_w: int,
    channels: int,
    num_filters: int,
    stride_h: int,
    stride_w: int,
) -> OperandFootprint:
    """Distinct ifmap pixels the windows touch.

    Strides wider than the filter skip pixels, and SCALE-Sim's last window may hang over the
    edge (``conv_output_size`` rounds up), so it is clipped to the feature map.
    """
    ho = conv_output_size(ifmap_h, filt_h, stride_h)
    wo = conv_output_size(ifmap_w, filt_w, stride_w)
    rows = min(stride_h, filt_h) * (ho - 1) + min(filt_h, ifmap_h - (ho - 1) * stride_h)
    cols = min(stride_w, filt_w) * (wo - 1) + min(filt_w, ifmap_w - (wo - 1) * stride_w)
    return OperandFootprint(
        ifmap_elems=rows * cols * channels, filter_elems=filt_h * filt_w * channels * num_filters
    )


def layer_report(
    shape: GemmShape,
    rows: int,
    cols: int,
    dataflow: str,
    sram: SramSizes,
    footprint: OperandFootprint | None = None,
) -> LayerReport:
    """SCALE-Sim 3.0.0's COMPUTE_REPORT row for one layer in CALC bandwidth mode."""
    timing = gemm_timing(shape, rows, cols, dataflow)
    plan = fold_plan(shape, rows, cols, dataflow)
    footprint = footprint or gemm_footprint(shape)
    stream = _OfmapStream(plan, shape)
    drain = _drain_ofmap(stream, sram.ofmap_kb * 1024 // _WORD_BYTES, cols)
    total = timing.cycles + drain.stall_cycles
    first_ifmap, first_filter = _first_request_cycles(plan)
    prefetch_start = min(
        _prefetch_start(footprint.ifmap_elems, sram.ifmap_kb, first_ifmap),
        _prefetch_start(footprint.filter_elems, sram.filter_kb, first_filter),
    )
    last_write = drain.last_write(total)
    overall = shape.m * shape.k * shape.n / (total * rows * cols)
    return LayerReport(
        total_cycles=total,
        stall_cycles=drain.stall_cycles,
        cycles_incl_prefetch=int(last_write - prefetch_start),
        overall_utilization=overall,
        mapping_efficiency=timing.mapping_efficiency,
        compute_utilization=timing.compute_utilization,
        timing=timing,
    )


# -- read side: the preload before cycle 0 ---------------------------------------------------


def _first_request_cycles(plan: FoldPlan) -> tuple[int, int]:
    """Cycle of the first real ifmap / filter request in fold 0 (idle prefix rows before it)."""
    r = plan.rows
    unused_rows = r - plan.used_rows(0)
    if plan.dataflow == "os":
        return 0, 0
    if plan.dataflow == "ws":
        return r, unused_rows  # ifmap behind R load rows; filter block flipped, padding first
    return unused_rows, r


def _prefetch_start(distinct_elems: int, size_kb: int, first_request: int) -> int:
    """First DRAM response cycle of a read buffer (``ReadBufferEstimateBw``).

    Addresses are grouped into sets of ``floor(size/100)`` elements. If the operand never fills
    the 50 active sets, everything is preloaded at the end (``complete_all_prefetches``) so that
    it finishes at cycle -2; otherwise the 50 active sets are preloaded so that they finish one
    cycle before the first request (minus the port latency). Both at 10 elements per cycle.
    """
    per_set = size_kb * 1024 // _WORD_BYTES // _SETS_PER_BUFFER
    if distinct_elems < _ACTIVE_SETS * per_set:
        sets = ceil_div(distinct_elems, per_set)
        end = -1 - _READ_PORT_LATENCY
    else:
        sets = _SETS_PER_BUFFER - _ACTIVE_SETS
        end = first_request - 1 - _READ_PORT_LATENCY
    cycles = ceil_div(sets * per_set, _PREFETCH_ELEMS_PER_CYCLE)
    return end - cycles + 1 + _READ_PORT_LATENCY


# -- write side: the ofmap SRAM draining to DRAM -------------------------------------------


class _OfmapStream:
    """When each ofmap write happens: counts of writes before a cycle, and the inverse.

    In every fold the writes form a skewed block: column c of the u used columns writes h
    consecutive cycles starting at cycle ``a + c`` of the fold. os: a = T-1 + unused rows,
    h = used rows; ws/is: a = 2R-1, h = T. Writes are counted row by row, like SCALE-Sim's
    demand matrix, so the count before any cycle has a closed form.
    """

    def __init__(self, plan: FoldPlan, shape: GemmShape) -> None:
        self.plan = plan
        self.per_fold = plan.cycles_per_fold
        self.cycles = plan.folds * self.per_fold
        self.total = self.before_fold(plan.folds)

    def _fold_shape(self, row_fold: int, col_fold: int) -> tuple[int, int, int]:
        plan = self.plan
        used_c = plan.used_cols(col_fold)
        if plan.dataflow == "os":
            used_r = plan.used_rows(row_fold)
            return plan.t - 1 + plan.rows - used_r, used_r, used_c
        return 2 * plan.rows - 1, plan.t, used_c

    def _fold_writes(self, row_fold: int, col_fold: int) -> int:
        _, h, u = self._fold_shape(row_fold, col_fold)
        return h * u

    def before_fold(self, fold: int) -> int:
        """Writes in folds ``0 .. fold-1`` (column folds outer, row folds inner)."""
        plan = self.plan
        done_blocks, rest = divmod(fold, plan.row_folds)
        # every column block is full width except possibly the last one
        full_width = min(done_blocks, plan.col_folds - 1)
        total = full_width * self._block_writes(0)
        if done_blocks == plan.col_folds:
            total += self._block_writes(plan.col_folds - 1)
        # only the last row fold can be short, and a partial block never reaches it
        return total + rest * self._fold_writes(0, done_blocks) if rest else total

    def _block_writes(self, col_fold: int) -> int:
        """Writes of all row folds of one column fold."""
        plan = self.plan
        used_c = plan.used_cols(col_fold)
        if plan.dataflow == "os":
            return plan.sr * used_c
        return plan.row_folds * plan.t * used_c

    def before_cycle(self, cycle: int) -> int:
        """Writes issued in cycles ``< cycle`` (no stalls)."""
        if cycle <= 0:
            return 0
        if cycle >= self.cycles:
            return self.total
        fold, offset = divmod(cycle, self.per_fold)
        col_fold, row_fold = divmod(fold, self.plan.row_folds)
        a, h, u = self._fold_shape(row_fold, col_fold)
        return self.before_fold(fold) + _skewed_prefix(offset - a, h, u)

    def cycle_of(self, write: int) -> int:
        """Cycle in which the ``write``-th write (1-based) is issued."""
        lo, hi = 0, self.cycles - 1
        while lo < hi:
            mid = (lo + hi) // 2
            if self.before_cycle(mid + 1) >= write:
                hi = mid
            else:
                lo = mid + 1
        return lo


def _clamped_prefix(z: int, h: int) -> int:
    """sum over y <= z of clamp(y, 0, h)."""
    if z <= 0:
        return 0
    if z <= h:
        return z * (z + 1) // 2
    return h * (h + 1) // 2 + (z - h) * h


def _skewed_prefix(x: int, h: int, u: int) -> int:
    """Writes before fold-relative cycle ``a + x``: sum over columns c < u of clamp(x - c, 0, h)."""
    return _clamped_prefix(x, h) - _clamped_prefix(x - u, h)


@dataclass(frozen=True)
class _DrainResult:
    stall_cycles: int
    last_drain_end: int
    lines_left: int  # trace lines still in the SRAM when the last fold ends

    def last_write(self, total_cycles: int) -> int:
        """Cycle of the last DRAM write: what is left drains one line per cycle from the end."""
        if self.lines_left == 0:
            return self.last_drain_end
        return max(self.last_drain_end, total_cycles + self.lines_left - 1)


def _drain_ofmap(stream: _OfmapStream, size_elems: int, line_width: int) -> _DrainResult:
    """``write_buffer.service_writes`` + ``empty_all_buffers`` in closed form.

    Writes are packed into lines of ``line_width`` (the array width, CALC mode's drain
    bandwidth). Half the SRAM, D = size - ceil(size/2) writes, is the drain buffer: once more
    than D writes are held and no drain is running, the partial line is closed and up to
    L = ceil(D/W) lines go to DRAM, one per cycle. SCALE-Sim credits a drained chunk as full
    lines except for padding in its last line (padding in earlier lines counts as freed space;
    kept as is). With W at least the most writes any cycle issues (true for the array width),
    drain i is triggered by write ``i p + delta`` (p = D + 1, delta = 0 if W does not divide D;
    p = D, delta = 1 if it does), always drains L lines, never finds the SRAM full (no stalls)
    and has ended before the next trigger arrives. The derivation is in docs/scalesim.md,
    "Ofmap drain in closed form".
    """
    if size_elems < 2:
        raise ValueError(f"ofmap SRAM must hold at least 2 elements, got {size_elems}")
    if line_width < stream.plan.cols:
        raise ValueError(
            f"drain line width {line_width} is narrower than the array ({stream.plan.cols})"
        )
    drain_size = size_elems - ceil_div(size_elems, 2)
    lines_per_drain = ceil_div(drain_size, line_width)
    total = stream.total
    last = _last_trigger(total, drain_size, line_width)
    if last == 0:
        return _DrainResult(0, 0, ceil_div(total, line_width))
    last_drain_end = stream.cycle_of(last) + lines_per_drain - 1
    # when W divides D one line stays behind after every drain; otherwise each drain empties it
    held = 1 if drain_size % line_width == 0 else 0
    return _DrainResult(0, last_drain_end, held + ceil_div(total - last, line_width))


def _last_trigger(total: int, drain_size: int, line_width: int) -> int:
    """Index of the write that triggers the last drain (0: no drain), derived in docs/scalesim.md.

    W does not divide D: every drain empties the SRAM exactly, triggers at p, 2p, ... with
    p = D + 1. W divides D and D > W: one full line stays behind, triggers at D + 1, 2D + 1, ...
    D = W (one line per drain): the line left behind alternates between 1 write and a full
    line, triggers at q(D + 1) and q(D + 1) - 1 (q >= 2).
    """
    d = drain_size
    if d % line_width:
        return total // (d + 1) * (d + 1)
    if d > line_width:
        return 0 if total <= d else (total - 1) // d * d + 1
    q, r = divmod(total, d + 1)
    if q == 0:
        return 0
    return total if r == d else q * (d + 1)

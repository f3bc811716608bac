"""CALC-mode memory accounting: the closed-form ofmap write stream and the drain-event replay
against an element-by-element replay of SCALE-Sim's write buffer on small cases."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.hw.pe_array import GemmShape, fold_plan
from accelsim.hw.scalesim_calc import (
    SramSizes,
    _drain_ofmap,
    _OfmapStream,
    _prefetch_start,
    conv_footprint,
    layer_report,
)


def skew(block: np.ndarray) -> np.ndarray:
    rows, cols = block.shape
    out = np.full((rows + cols - 1, cols), -1)
    for c in range(cols):
        out[c : c + rows, c] = block[:, c]
    return out


def ofmap_demand_row_counts(shape: GemmShape, rows: int, cols: int, dataflow: str) -> np.ndarray:
    """Writes per cycle, from ofmap demand matrices built fold by fold as scalesim builds them."""
    plan = fold_plan(shape, rows, cols, dataflow)
    parts = []
    for fc in range(plan.col_folds):
        for fr in range(plan.row_folds):
            used_c = plan.used_cols(fc)
            if dataflow == "os":
                block = np.full((rows, cols), -1)
                block[: plan.used_rows(fr), :used_c] = 1
                demand = np.concatenate([np.full((plan.t - 1, cols), -1), np.flip(block, 0)])
            else:
                block = np.full((plan.t, cols), -1)
                block[:, :used_c] = 1
                demand = np.concatenate([np.full((2 * rows - 1, cols), -1), block])
            parts.append(skew(demand))
    return (np.concatenate(parts) != -1).sum(axis=1)


def replay_write_buffer(counts, size: int, width: int) -> tuple[int, int, int]:
    """Element-by-element replay of write_buffer.service_writes + empty_all_buffers.

    Returns (total cycles, stall cycles, last DRAM write cycle).
    """
    drain = size - math.ceil(size * 0.5)
    per_drain = math.ceil(drain / width)
    free, lines, open_line, start = size, [], 0, 0
    drain_end, stalls, ends, outs = 0, 0, [], []

    def drain_from(cycle: int, limit: int) -> int:
        nonlocal start, free
        end = min(start + limit, len(lines))
        count = end - start
        free += count * width - (width - lines[end - 1])
        start = end
        ends.append(cycle + count - 1)
        return cycle + count - 1

    for i, count in enumerate(counts):
        cycle = i + stalls
        current = cycle
        for _ in range(int(count)):
            open_line += 1
            free -= 1
            if open_line == width:
                lines.append(width)
                open_line = 0
            if current < drain_end:
                if free <= 0:
                    current = drain_end
            elif free < size - drain:
                if open_line:
                    lines.append(open_line)
                    open_line = 0
                drain_end = drain_from(current, per_drain)
        stalls += current - cycle
        outs.append(current)
    if open_line:
        lines.append(open_line)
    cycle = outs[-1]
    while start < len(lines):
        cycle = drain_from(cycle, per_drain) + 1
    return max(outs), stalls, max(ends)


small = st.integers(1, 24)
shapes = st.builds(GemmShape, small, small, small)
arrays = st.tuples(st.integers(1, 8), st.integers(1, 8))
dataflows = st.sampled_from(["os", "ws", "is"])


@settings(max_examples=80, deadline=None)
@given(shapes, arrays, dataflows)
def test_write_stream_counts_match_the_demand_matrices(shape, array, dataflow):
    rows, cols = array
    counts = ofmap_demand_row_counts(shape, rows, cols, dataflow)
    stream = _OfmapStream(fold_plan(shape, rows, cols, dataflow), shape)
    cumulative = np.concatenate([[0], np.cumsum(counts)])
    assert stream.cycles == len(counts)
    assert [stream.before_cycle(t) for t in range(len(counts) + 1)] == cumulative.tolist()
    for write in range(1, int(cumulative[-1]) + 1, 7):
        assert cumulative[stream.cycle_of(write)] < write <= cumulative[stream.cycle_of(write) + 1]


@settings(max_examples=150, deadline=None)
@given(shapes, arrays, dataflows, st.integers(2, 200))
def test_drain_replay_matches_element_by_element_replay(shape, array, dataflow, size):
    rows, cols = array
    counts = ofmap_demand_row_counts(shape, rows, cols, dataflow)
    total, stalls, last_write = replay_write_buffer(counts, size, cols)
    stream = _OfmapStream(fold_plan(shape, rows, cols, dataflow), shape)
    result = _drain_ofmap(stream, size, cols)
    ours_total = stream.cycles - 1 + result.stall_cycles
    assert (ours_total, result.stall_cycles) == (total, stalls)
    assert result.last_write(ours_total) == last_write


def test_small_operands_are_preloaded_to_finish_before_cycle_zero():
    # 4096 addresses in a 256 KiB SRAM: 2 sets of 2621 at 10 per cycle = 525 cycles
    assert _prefetch_start(4096, 256, first_request=0) == -525


def test_large_operands_preload_half_the_buffer_before_their_first_request():
    per_set = 64 * 1024 // 100
    start = _prefetch_start(10**6, 64, first_request=40)
    assert start == 40 - math.ceil(50 * per_set / 10)


def test_wide_strides_skip_input_pixels_and_edge_windows_are_clipped():
    # stride 4 with a 2x2 filter reads 2 of every 4 rows and columns
    assert conv_footprint(16, 16, 2, 2, 3, 1, 4, 4).ifmap_elems == 8 * 8 * 3
    # 14x14, 5x5, stride 2: six windows, the last one hangs over the edge
    assert conv_footprint(14, 14, 5, 5, 1, 1, 2, 2).ifmap_elems == 14 * 14


def test_report_fractions_and_prefetch_ordering():
    report = layer_report(GemmShape(100, 50, 30), 16, 8, "ws", SramSizes(4, 4, 2))
    assert report.cycles_incl_prefetch > report.total_cycles
    assert 0 < report.overall_utilization <= 1

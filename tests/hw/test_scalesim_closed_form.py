"""The closed-form ofmap drain against the event-by-event replay it replaced.

``reference_drain`` is the former ``scalesim_calc._drain_ofmap``, kept here (not in the library)
as the slow oracle: it replays every drain event with two bisections each, so a large GEMM took
minutes. The closed form must agree with it exactly on a grid of small shapes, every dataflow,
array widths that do and do not divide the drain half of the ofmap SRAM (the two drain regimes:
CALC mode's drain bandwidth is the array width), and SRAMs from 2 elements up.
"""

from __future__ import annotations

import itertools

import pytest

from accelsim.hw.pe_array import GemmShape, ceil_div, fold_plan
from accelsim.hw.scalesim_calc import (
    SramSizes,
    _drain_ofmap,
    _DrainResult,
    _OfmapStream,
    layer_report,
)


def reference_drain(stream: _OfmapStream, size_elems: int, line_width: int) -> _DrainResult:
    """Replay ``write_buffer.service_writes`` drain event by drain event (the old loop)."""
    active = ceil_div(size_elems, 2)
    drain_size = size_elems - active
    lines_per_drain = ceil_div(drain_size, line_width)
    partial: dict[int, int] = {}
    lines = closed_writes = credited = next_line = drain_end = last_drain_end = 0
    stalls = write = 0
    total = stream.total
    while True:
        running = stream.before_cycle(drain_end - stalls)
        full_at = size_elems + credited
        if write < full_at <= min(running, total):
            wait = drain_end - (stream.cycle_of(full_at) + stalls)
            stalls += wait
            trigger = full_at + 1
        else:
            trigger = max(running + 1, drain_size + credited + 1, write + 1)
        if trigger > total:
            break
        cycle = stream.cycle_of(trigger) + stalls
        full, rest = divmod(trigger - closed_writes, line_width)
        lines += full
        if rest:
            partial[lines] = rest
            lines += 1
        closed_writes = write = trigger
        end_line = min(next_line + lines_per_drain, lines)
        count = end_line - next_line
        credited += count * line_width - (line_width - partial.get(end_line - 1, line_width))
        next_line = end_line
        drain_end = cycle + count - 1
        last_drain_end = max(last_drain_end, drain_end)
    lines += ceil_div(total - closed_writes, line_width)
    return _DrainResult(stalls, last_drain_end, lines - next_line)


DIMS = (1, 2, 5, 9, 17)
ARRAYS = ((1, 1), (1, 4), (3, 2), (4, 4), (5, 3), (8, 6))
SIZES = (2, 3, 4, 5, 8, 9, 12, 13, 24, 25, 49, 64, 100, 257)


def grid():
    for m, k, n in itertools.product(DIMS, repeat=3):
        for (rows, cols), dataflow in itertools.product(ARRAYS, ("os", "ws", "is")):
            yield GemmShape(m=m, k=k, n=n), rows, cols, dataflow


def test_grid_covers_both_drain_regimes():
    regimes = {(s - ceil_div(s, 2)) % cols == 0 for s in SIZES for _, cols in ARRAYS if cols > 1}
    assert regimes == {True, False}


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
def test_closed_form_drain_equals_the_event_replay(dataflow):
    checked = 0
    for shape, rows, cols, df in grid():
        if df != dataflow:
            continue
        stream = _OfmapStream(fold_plan(shape, rows, cols, df), shape)
        for size in SIZES:
            want = reference_drain(stream, size, cols)
            got = _drain_ofmap(stream, size, cols)
            assert got == want, (shape, rows, cols, df, size)
            checked += 1
    assert checked == len(DIMS) ** 3 * len(ARRAYS) * len(SIZES)


def reference_report(shape, rows, cols, dataflow, sram):
    """layer_report with the event replay swapped in for the drain."""
    import accelsim.hw.scalesim_calc as calc

    original = calc._drain_ofmap
    calc._drain_ofmap = reference_drain
    try:
        return calc.layer_report(shape, rows, cols, dataflow, sram)
    finally:
        calc._drain_ofmap = original


@pytest.mark.parametrize("dataflow", ["os", "ws", "is"])
@pytest.mark.parametrize(("rows", "cols"), [(8, 8), (5, 7), (16, 3), (32, 32)])
@pytest.mark.parametrize("ofmap_kb", [1, 2, 3])
def test_layer_reports_equal_the_event_replay(dataflow, rows, cols, ofmap_kb):
    sram = SramSizes(ifmap_kb=2, filter_kb=3, ofmap_kb=ofmap_kb)
    for shape in (GemmShape(300, 70, 90), GemmShape(64, 64, 64), GemmShape(7, 500, 33)):
        got = layer_report(shape, rows, cols, dataflow, sram)
        assert got == reference_report(shape, rows, cols, dataflow, sram)


def test_narrower_drain_than_the_array_is_refused():
    shape = GemmShape(4, 4, 4)
    stream = _OfmapStream(fold_plan(shape, 2, 4, "os"), shape)
    with pytest.raises(ValueError, match="narrower"):
        _drain_ofmap(stream, 100, 3)


def test_llm_ffn_gemm_is_closed_form():
    """M=131072, N=11008, K=4096 (about 0.2 ms; the event replay took 7 s to 12 min).

    Timing is printed by benchmarks/scalesim_speed.py, not asserted here.
    """
    shape = GemmShape(m=131072, k=4096, n=11008)
    sram = SramSizes(ifmap_kb=256, filter_kb=256, ofmap_kb=128)
    want = {"os": 5_858_721_791, "ws": 5_775_501_311, "is": 5_820_645_375}
    for dataflow, cycles in want.items():
        report = layer_report(shape, 32, 32, dataflow, sram)
        assert (report.total_cycles, report.stall_cycles) == (cycles, 0)

"""Steady state of a run: cycles per iteration once the pipeline is full, and whether it was.

Iterations separated by a barrier (bp, dfa, hybrid) carry nothing over, so every iteration is
the steady state and one is enough: ``cycles_per_iteration = end[N-1] / N``.

A pipelined schedule (pdfa) needs its first ``depth`` iterations to fill, and its last
``depth - 1`` iterations drain faster (nothing behind them competes for units or DRAM). The
figure is the mean spacing of iteration ends between the two, ``D = depth``::

    cycles_per_iteration = (end[N-D] - end[D-1]) / (N - 2D + 1)    (before trimming, below)

A pipeline may settle into a repeating pattern rather than a constant spacing (e.g. long, short,
long, short when two iterations share the backward units unevenly), may take longer than
``depth`` iterations to settle, and may drain over more than ``depth - 1`` iterations. The
steady state counts as *reached* when a stretch of spacings repeats with a period
``p <= MAX_PERIOD`` (each within ``TOLERANCE`` of the one ``p`` later) for at least two periods
and ``MIN_WINDOW`` spacings; the figure is the mean over the stretch's latest whole periods (so a
period-2 pattern is not biased by an odd window), and ``warmup_iterations`` counts what lies
before them.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

TOLERANCE = 0.01
MIN_WINDOW = 4
MAX_PERIOD = 4
AUTO_MAX_ITERATIONS = 64


@dataclass(frozen=True)
class SteadyState:
    cycles_per_iteration: float
    warmup_iterations: int  # iterations left out of the measurement
    measured_iterations: int  # spacings averaged
    reached: bool


def steady_state(iteration_end: tuple[float, ...], depth: int) -> SteadyState:
    """The steady state of a run whose iterations ended at ``iteration_end`` (module doc)."""
    n = len(iteration_end)
    if depth <= 1:
        return SteadyState(iteration_end[-1] / n, 0, n, True)
    warmup = depth
    last = n - depth  # the last iteration end before the drain
    if last <= warmup - 1:  # too few iterations for any spacing after the fill
        return SteadyState(iteration_end[-1] / n, 0, n, False)
    window = iteration_end[warmup - 1 : last + 1]
    spacings = [b - a for a, b in pairwise(window)]
    settled = _settled(spacings)
    if settled is None:
        return SteadyState(sum(spacings) / len(spacings), warmup, len(spacings), False)
    first, length, period = settled
    whole = length - length % period
    stretch = spacings[first + length - whole : first + length]  # the latest whole periods
    return SteadyState(sum(stretch) / whole, warmup + first + length - whole, whole, True)


def _settled(spacings: list[float]) -> tuple[int, int, int] | None:
    """(first, length, period) of the longest stretch of spacings (the latest of equals) that
    repeats with the shortest period p <= MAX_PERIOD for at least two periods and MIN_WINDOW
    spacings, else None. A slow drain at the end of a run falls outside the stretch."""

    def close(a: float, b: float) -> bool:
        return abs(a - b) <= TOLERANCE * max(abs(a), abs(b), 1.0)

    for p in range(1, MAX_PERIOD + 1):
        best: tuple[int, int] | None = None  # (length, first)
        run_start = None
        for k in range(len(spacings) - p + 1):
            matches = k < len(spacings) - p and close(spacings[k], spacings[k + p])
            if matches and run_start is None:
                run_start = k
            if not matches and run_start is not None:
                length = k - run_start + p  # spacings run_start .. k - 1 + p
                if best is None or length >= best[0]:
                    best = (length, run_start)
                run_start = None
        if best is not None and best[0] >= max(MIN_WINDOW, 2 * p):
            return best[1], best[0], p
    return None


def default_iterations(depth: int) -> int:
    """Iterations a run starts with when the user gives none: 1 without a pipeline, else the
    fill and drain plus a measurement window of ``MIN_WINDOW + 1`` spacings (doubled until
    reached, up to ``AUTO_MAX_ITERATIONS``)."""
    return 1 if depth <= 1 else 2 * depth + MIN_WINDOW

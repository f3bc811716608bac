"""Memory traffic of one task: two tiling levels, residency, and the stall it causes.

Three levels: each PE array's private buffers (ifmap, weight, ofmap), a global buffer (GB)
shared by the units, and DRAM behind one channel. Every operand a PE array reads or writes passes
through the GB: tensors the allocator keeps resident (``accelsim.hw.allocation``) are read from
it, the others are *staged* through it from DRAM.

Per GEMM ``(M x K) @ (K x N)`` two tilings are chosen (``accelsim.hw.tiling.best_tiling``,
docs/tiling.md), each minimising the bytes moved from the level above:

- **DRAM -> GB**: over the GB's staging area (``Allocation.staging`` shared evenly by the PE
  arrays, which may stream at once), any loop order (os, ws or is). An operand fully resident in
  the GB (or fused) costs nothing at this level and takes no staging space (element size 0);
  one resident in part moves its spilled share ``1 - f`` of the bytes the tiling implies.
- **GB -> unit**: over the unit's private buffers (their sum, halved when double-buffered), in
  the loop order of the unit's dataflow (os keeps output tiles, ws weight tiles, is input tiles).

The tilings count elements of the GEMM view; a conv's im2col ifmap repeats input pixels, so each
operand's traffic is its *unique* bytes times the number of passes the tiling makes over it
(``passes = tiling bytes / GEMM-view bytes``; for the output, partial-sum round trips count at
the accumulator width). Repetitions of a GEMM (groups, time steps) repeat the traffic, except a
filter shared by all time steps, which moves once when one tile holds all of it.

GB bytes are the reads into the unit's buffers plus the DRAM bytes written into the GB on the
way. Stalls: ``transfer = max(GB bytes / GB bandwidth, DRAM bytes / DRAM bandwidth)``; with
double buffering ``stall = max(0, transfer - compute)``, without it ``stall = transfer``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

from accelsim.hw.tiling import Tiling, best_tiling
from accelsim.lowering.graph import GemmWork

KB = 1024
ORDERS = ("os", "ws", "is")


@dataclass(frozen=True)
class OperandBytes:
    """Bytes per operand role of one task: ifmap (A), filter (B), ofmap (C)."""

    ifmap: float = 0.0
    filter: float = 0.0
    ofmap: float = 0.0

    @property
    def total(self) -> float:
        return self.ifmap + self.filter + self.ofmap

    def __add__(self, other: OperandBytes) -> OperandBytes:
        return OperandBytes(
            self.ifmap + other.ifmap, self.filter + other.filter, self.ofmap + other.ofmap
        )

    def scaled(self, a: float, b: float, c: float) -> OperandBytes:
        return OperandBytes(self.ifmap * a, self.filter * b, self.ofmap * c)


@dataclass(frozen=True)
class GemmOperands:
    """One GemmWork's operands: unique bytes and bytes per element (0 = free at this level)."""

    unique: OperandBytes
    a_elem: float
    b_elem: float
    c_elem: float
    psum_elem: float


def gemm_traffic(
    work: GemmWork, ops: GemmOperands, capacity: float, orders: tuple[str, ...] = ORDERS
) -> tuple[OperandBytes, Tiling]:
    """Bytes moved from the level above for all repetitions of ``work`` (module doc)."""
    s = work.shape
    tiling, passes_a, passes_b, passes_c, one_tile_of_b = _passes(
        s.m, s.k, s.n, ops.a_elem, ops.b_elem, ops.c_elem, ops.psum_elem, capacity, orders
    )
    filter_repeats = 1 if work.shared_filter and one_tile_of_b else work.count
    u = ops.unique
    moved = OperandBytes(
        u.ifmap * passes_a * work.count,
        u.filter * passes_b * filter_repeats,
        u.ofmap * passes_c * work.count,
    )
    return moved, tiling


@lru_cache(maxsize=1 << 16)
def _passes(m, k, n, a, b, c, p, capacity, orders):
    """The best tiling and the passes it makes over each operand (memoized: sweeps repeat)."""
    tiling = best_tiling(m, k, n, a, b, c, p, capacity, orders)
    return (
        tiling,
        tiling.a_bytes / (m * k * a) if a else 0.0,
        tiling.b_bytes / (k * n * b) if b else 0.0,
        tiling.c_bytes / (m * n * c) if c else 0.0,
        math.ceil(k / tiling.k_tile) * math.ceil(n / tiling.n_tile) == 1,
    )


def usable_bytes(size_kb: float, double_buffered: bool) -> float:
    return size_kb * KB / (2 if double_buffered else 1)


def transfer_cycles(
    gb_bytes: float, gb_bandwidth: float, dram_bytes: float, dram_bandwidth: float
) -> tuple[int, int]:
    """Cycles to move the bytes through the GB port and the DRAM channel (no contention)."""
    return math.ceil(gb_bytes / gb_bandwidth), math.ceil(dram_bytes / dram_bandwidth)


def stall_cycles(compute: int, transfer: int, double_buffered: bool) -> int:
    """Memory stall of a task: overlapped with compute when double-buffered."""
    return max(0, transfer - compute) if double_buffered else transfer

"""Memory model: tiling and re-fetches in a unit's buffers, tensor residency, transfer stalls.

Three levels: each PE array's private buffers (ifmap, weight, ofmap), a global buffer (GB)
shared by the units, and DRAM behind one channel. The formulas (docs/hardware-model.md):

Tiling of one GEMM (M x K times K x N), weight tile stationary. The usable capacity of a buffer
is its size, halved when double-buffered. A weight tile holds ``k_t`` rows and ``n_t`` columns::

    k_t = min(K, floor(C_w / b_w)),  n_t = min(N, floor(C_w / (k_t b_w)))  (each at least 1)
    T_k = ceil(K / k_t),  T_n = ceil(N / n_t)

- filter traffic: every weight once, ``K N b_w``;
- ifmap traffic: once if the whole ifmap fits its buffer, else once per column tile (``T_n``);
- ofmap traffic: once; when the reduction is split (``T_k > 1``) and a column tile of partial
  sums ``M n_t b_acc`` does not fit the ofmap buffer, each extra K tile adds a write and a read
  of the partial sums: ``2 (T_k - 1) M N b_acc``.

Residency (per iteration, decided once per chip and task graph): the GB is filled in the order
transient errors (two of the largest error tensors), saved activations, then weights with their
gradients and optimizer state, then feedback matrices without a store; what does not fit lives in
DRAM. Training inputs always come from DRAM. An operand that lives in DRAM takes all its traffic
from DRAM; the others from the GB.

Stalls: ``transfer = max(GB bytes / GB bandwidth, DRAM bytes / DRAM bandwidth)``; with double
buffering ``stall = max(0, transfer - compute)``, without it ``stall = transfer``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.hw.pe_array import GemmShape

KB = 1024


@dataclass(frozen=True)
class Tiling:
    k_tile: int
    n_tile: int
    k_tiles: int
    n_tiles: int
    ifmap_passes: int  # times the ifmap streams in from the level above
    psum_round_trips: int  # extra partial-sum write+read round trips per output element


def tile_gemm(
    shape: GemmShape,
    ifmap_bytes: float,
    filter_elem_bytes: float,
    acc_elem_bytes: float,
    ifmap_capacity: float,
    filter_capacity: float,
    ofmap_capacity: float,
) -> Tiling:
    """Weight-stationary tiling of one GEMM into buffers of the given capacities (bytes)."""
    k, n, m = shape.k, shape.n, shape.m
    k_t = max(1, min(k, int(filter_capacity // filter_elem_bytes)))
    n_t = max(1, min(n, int(filter_capacity // (k_t * filter_elem_bytes))))
    k_tiles, n_tiles = math.ceil(k / k_t), math.ceil(n / n_t)
    passes = 1 if ifmap_bytes <= ifmap_capacity else n_tiles
    psums_fit = m * n_t * acc_elem_bytes <= ofmap_capacity
    trips = 0 if (k_tiles == 1 or psums_fit) else k_tiles - 1
    return Tiling(k_t, n_t, k_tiles, n_tiles, passes, trips)


@dataclass(frozen=True)
class Traffic:
    """Bytes moved between a unit's buffers and the level above, per operand."""

    ifmap: float
    filter: float
    ofmap: float

    @property
    def total(self) -> float:
        return self.ifmap + self.filter + self.ofmap


def gemm_traffic(
    tiling: Tiling,
    ifmap_bytes: float,
    filter_bytes: float,
    ofmap_bytes: float,
    psum_bytes: float,
) -> Traffic:
    """Traffic of one GEMM given its tiling and the unique bytes of each operand."""
    return Traffic(
        ifmap=ifmap_bytes * tiling.ifmap_passes,
        filter=filter_bytes,
        ofmap=ofmap_bytes + 2 * tiling.psum_round_trips * psum_bytes,
    )


def usable_bytes(size_kb: float, double_buffered: bool) -> float:
    return size_kb * KB / (2 if double_buffered else 1)


@dataclass(frozen=True)
class Residency:
    """Which tensor classes live in DRAM during an iteration, and the GB bytes planned."""

    dram_tensors: frozenset[str]
    gb_planned_bytes: float


def plan_residency(
    gb_size_kb: float,
    error_bytes: float,
    activation_bytes: float,
    weight_bytes: float,
    feedback_bytes: float,
) -> Residency:
    """Fill the GB in priority order; whatever does not fit lives in DRAM (see module doc)."""
    free = gb_size_kb * KB
    dram = {"input"}
    used = 0.0
    order = (
        (("error",), error_bytes),
        (("activation",), activation_bytes),
        (("weight", "gradient", "optimizer_state"), weight_bytes),
        (("feedback",), feedback_bytes),
    )
    for tensors, size in order:
        if size <= free:
            free -= size
            used += size
        else:
            dram.update(tensors)
    return Residency(frozenset(dram), used)


def transfer_cycles(
    gb_bytes: float, gb_bandwidth: float, dram_bytes: float, dram_bandwidth: float
) -> tuple[int, int]:
    """Cycles to move the bytes through the GB port and the DRAM channel (no contention)."""
    return math.ceil(gb_bytes / gb_bandwidth), math.ceil(dram_bytes / dram_bandwidth)


def stall_cycles(compute: int, transfer: int, double_buffered: bool) -> int:
    """Memory stall of a task: overlapped with compute when double-buffered."""
    return max(0, transfer - compute) if double_buffered else transfer

"""Mapping choice per GEMM: time a GEMM as lowered or transposed and keep the faster one.

A GEMM ``C = A B`` with ``A`` m x k, ``B`` k x n can equally be computed as its transpose
``C^T = B^T A^T``, an ``(n x k) @ (k x m)`` GEMM whose result has the same m n elements. The
two *orientations* are

* ``"mkn"``: the GEMM as the lowering wrote it, shape (m, k, n);
* ``"nkm"``: transposed, shape (n, k, m): m and n swap, k stays the reduction.

A dataflow fixes where the reduction goes (os: through time; ws/is: down the array rows, where
the partial sums accumulate), so for one GEMM the only free choice is which of m and n takes the
remaining spatial extent, and the two orientations are all there is. With ``pe_array.fold_plan``
(Sr, Sc spread over the R rows and C columns, T streamed through time; F = ceil(Sr/R) ceil(Sc/C)):

=========  ==========================  ==========================
dataflow   ``mkn``: (Sr, Sc, T)        ``nkm``: (Sr, Sc, T)
=========  ==========================  ==========================
os         (m, n, k)                   (n, m, k)    rows and columns swap
ws         (k, n, m)                   (k, m, n)    = the ``is`` mapping
is         (k, m, n)                   (k, n, m)    = the ``ws`` mapping
=========  ==========================  ==========================

and each orientation costs, as ``pe_array.gemm_timing`` counts it,

    cycles = F * per_fold - 1,   per_fold = T + R + C - 2 (os)  or  2R + C + T - 2 (ws/is).

``choose_mapping`` evaluates both and returns the one with fewer cycles. **Tie rule:** on equal
cycles the lowered orientation ``"mkn"`` is kept, so the choice is deterministic and a GEMM that
gains nothing from transposing is timed exactly as before (and as SCALE-Sim times it).

Example, DFA's projection ``d = B e`` at batch 1 on a 128 x 128 ws array, m = 1, k = 10,
n = 4704: ``mkn`` has F = ceil(10/128) ceil(4704/128) = 37 folds of 2*128 + 128 + 1 - 2 = 383
cycles, 37 * 383 - 1 = 14170 cycles; ``nkm`` (Sr = 10, Sc = 1, T = 4704) has one fold of
2*128 + 128 + 4704 - 2 = 5086 cycles, 5085 cycles: transposed wins.

Operand roles swap in the transposed GEMM: its "ifmap" (the streamed left operand) is ``B^T``
and its "filter" is ``A^T``, so its ``ifmap_reads`` are reads of the lowered GEMM's filter
operand and vice versa (``GemmMapping.lowered_reads`` maps them back); its output is ``C^T``,
the same element count, so ``ofmap_writes`` keep their meaning.

``accelsim scalesim`` does not use this module: it keeps SCALE-Sim's fixed orientation.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from accelsim.hw.pe_array import ArrayTiming, FoldPlan, GemmShape, fold_plan, gemm_timing

ORIENTATIONS = ("mkn", "nkm")  # as lowered, transposed (C^T = B^T A^T)


@dataclass(frozen=True)
class GemmMapping:
    """One GEMM placed on one array: the orientation, the mapped shape, its folds and timing."""

    orientation: str  # "mkn" (as lowered) or "nkm" (transposed: m and n swapped)
    shape: GemmShape  # the GEMM actually mapped (the lowered one with m, n swapped for "nkm")
    plan: FoldPlan  # spatial/temporal split and folds of ``shape``
    timing: ArrayTiming  # cycles and SRAM accesses of ``shape`` (roles of the mapped GEMM)

    @property
    def transposed(self) -> bool:
        return self.orientation == "nkm"

    @property
    def lowered(self) -> GemmShape:
        """The GEMM as the lowering wrote it."""
        s = self.shape
        return GemmShape(s.n, s.k, s.m) if self.transposed else s

    @property
    def sr(self) -> int:
        """GEMM extent spread over the array rows."""
        return self.plan.sr

    @property
    def sc(self) -> int:
        """GEMM extent spread over the array columns."""
        return self.plan.sc

    @property
    def t(self) -> int:
        """GEMM extent streamed through time."""
        return self.plan.t

    @property
    def folds(self) -> int:
        return self.timing.folds

    @property
    def cycles(self) -> int:
        return self.timing.cycles

    @property
    def utilization(self) -> float:
        """MACs / (R C (cycles + 1)): the share of PE-cycles that do a MAC over the F * per_fold
        cycles the folds occupy (``cycles`` is the index of the last one, hence + 1)."""
        return self.timing.macs / (self.plan.rows * self.plan.cols * (self.timing.cycles + 1))

    @property
    def lowered_reads(self) -> tuple[int, int, int]:
        """SRAM accesses in the lowered GEMM's roles: (A reads, B reads, C writes), i.e. the
        task's (ifmap, filter, ofmap) operands, whichever orientation was mapped."""
        t = self.timing
        if self.transposed:
            return t.filter_reads, t.ifmap_reads, t.ofmap_writes
        return t.ifmap_reads, t.filter_reads, t.ofmap_writes

    def to_dict(self) -> dict:
        """JSON-ready summary (keys are a stable interface for reports)."""
        return {
            "orientation": self.orientation,
            "m": self.shape.m,
            "k": self.shape.k,
            "n": self.shape.n,
            "sr": self.sr,
            "sc": self.sc,
            "t": self.t,
            "folds": self.folds,
            "cycles": self.cycles,
            "utilization": self.utilization,
        }


def map_gemm(
    shape: GemmShape, rows: int, cols: int, dataflow: str, orientation: str
) -> GemmMapping:
    """``shape`` mapped in the given orientation (``"mkn"`` as is, ``"nkm"`` transposed)."""
    if orientation not in ORIENTATIONS:
        raise ValueError(
            f"unknown orientation {orientation!r}; expected one of {', '.join(ORIENTATIONS)}"
        )
    mapped = shape if orientation == "mkn" else GemmShape(shape.n, shape.k, shape.m)
    plan = fold_plan(mapped, rows, cols, dataflow)
    return GemmMapping(orientation, mapped, plan, gemm_timing(mapped, rows, cols, dataflow))


@lru_cache(maxsize=65536)
def choose_mapping(shape: GemmShape, rows: int, cols: int, dataflow: str) -> GemmMapping:
    """The orientation of ``shape`` with the fewest cycles on a ``rows`` x ``cols`` ``dataflow``
    array; on a tie the lowered orientation ``"mkn"``. Memoized (the simulator asks often)."""
    lowered = map_gemm(shape, rows, cols, dataflow, "mkn")
    if shape.m == shape.n:
        return lowered
    transposed = map_gemm(shape, rows, cols, dataflow, "nkm")
    return transposed if transposed.cycles < lowered.cycles else lowered

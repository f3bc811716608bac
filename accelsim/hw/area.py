"""Silicon area of a chip: PE datapaths, vector lanes, SRAMs and PRNGs, scaled to the node.

A chip's area here is the sum of the parts the simulator models, nothing else: every PE of every
PE array, every vector lane, every on-chip SRAM (each PE array's ifmap, weight and ofmap buffers,
each SRAM feedback store, the global buffer) and one LFSR per unit whose feedback weights come
from a PRNG. Control, the network between units, clock tree, I/O pads, DRAM interface and
whitespace are not modelled (docs/area.md compares the DF-LNPU model with real silicon). Every
figure is taken at 45 nm and scaled to the chip's ``technology_nm`` by the first-order rule
``area ~ node^2`` (a full-node shrink halves the area; constant-field scaling of both layout
dimensions). Sources, 45 nm:

==========================  ==========  ===========================================================
part                        um^2        source / assumption
==========================  ==========  ===========================================================
8 / 16 / 32b int add        36/67/137   Horowitz 45 nm area table (below); piecewise linear
8 / 32b int mult            282 / 3495  same table; power law through both points (b^1.816)
16 / 32b fp add             1360 / 4184 same table; other widths take the nearer row (<= 24: 16b)
16 / 32b fp mult            1640 / 7700 same table
flip-flop                   4.522       NanGate FreePDK45 Open Cell Library, DFF_X1
SRAM per KB (lstp / hp)     3200 / 3170 CACTI 7, 45 nm scratchpad, 1 RW port of 128 b, no ECC:
                                        median over 8 KB-1 MB of area / KB (sram_cacti.json)
PE mux / control overhead   +10 %       assumed: operand muxes and local control of a PE
LFSR XOR taps               +50 %       assumed: of the LFSR's flip-flop area
==========================  ==========  ===========================================================

The "Horowitz 45 nm area table" is the energy-and-area slide (45 nm, 0.9 V) that Dally and Han
present with Horowitz's ISSCC 2014 energies (e.g. Dally, "High-Performance Hardware for Machine
Learning", NIPS 2015 tutorial); the ISSCC 2014 paper itself (Fig. 1.1.9) gives energy only. The
areas are the commonly quoted values of that slide, not re-derived here.

PE datapaths (``bits`` = the widest of activation, weight and error, as for energy):

- MAC PE: one multiplier at ``bits`` and one adder at the accumulator width (int or fp rows by
  ``precision.format``), plus flip-flops for two operands and the accumulator
  (``2 * bits + accumulator``), all times 1.10.
- Adder-only PE, for a PE array whose feedback store has ``bits: 1`` and that runs only
  ``dfa_ep`` (a binarized ``B_ij e_j`` is a signed add, accelsim/hw/feedback.py
  ``FeedbackPlan.adder_only``): one adder at the accumulator width, flip-flops for the error,
  the B bit and the accumulator (``error + 1 + accumulator``), times 1.10. A 1-bit unit that
  also runs ``fp``, ``ep`` or ``wg`` multiplies real weights and keeps MAC PEs.
- Vector lane: a MAC PE (assumed: an update ``w -= lr * g`` multiplies).
- PRNG: one LFSR of ``max(32, bits * max(rows, cols))`` state bits (assumed: a 32-bit
  maximal-length LFSR, widened by leap-forward to deliver one B value per array edge PE per
  cycle), each a flip-flop plus 50 % for the XOR taps.

``chip_area(arch)`` is memoized per chip (sweeps price each architecture once).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from functools import lru_cache

from accelsim.config.arch import Arch, Unit
from accelsim.hw.energy import SRAM_CACTI

REFERENCE_NM = 45.0  # node of every figure below
INT_ADD_UM2 = ((8, 36.0), (16, 67.0), (32, 137.0))  # (bits, um^2), Horowitz 45 nm area table
INT_MULT_UM2 = ((8, 282.0), (32, 3495.0))
FP_ADD_UM2 = {16: 1360.0, 32: 4184.0}
FP_MULT_UM2 = {16: 1640.0, 32: 7700.0}
DFF_UM2 = 4.522  # NanGate FreePDK45 Open Cell Library DFF_X1
PE_OVERHEAD = 0.10  # assumed: operand muxes and local control, fraction of datapath + registers
LFSR_MIN_BITS = 32  # assumed: a 32-bit maximal-length LFSR
LFSR_TAP_OVERHEAD = 0.50  # assumed: XOR taps, fraction of the LFSR's flip-flop area


def _sram_mm2_per_kb() -> dict[str, float]:
    """Median over the CACTI sizes of area / KB at 45 nm, per device type (mm^2 per KB)."""
    out = {}
    for cells in ("lstp", "hp"):
        pts = sorted(
            r["area_mm2"] / r["size_kb"]
            for r in SRAM_CACTI["rows"]
            if r["node_nm"] == REFERENCE_NM and r["cells"] == cells
        )
        out[cells] = (pts[(len(pts) - 1) // 2] + pts[len(pts) // 2]) / 2
    return out


SRAM_MM2_PER_KB = _sram_mm2_per_kb()  # 45 nm; ~0.00320 (lstp), ~0.00317 (hp)

SOURCES = (
    "int/fp add and mult: Horowitz 45 nm area table (8/16/32b int add 36/67/137 um2, 8/32b int "
    "mult 282/3495 um2, 16/32b fp add 1360/4184 um2, 16/32b fp mult 1640/7700 um2), as quoted "
    "with the ISSCC 2014 energies in Dally's NIPS 2015 tutorial; int mult interpolated b^1.816",
    "flip-flop: NanGate FreePDK45 Open Cell Library DFF_X1, 4.522 um2",
    "SRAM: CACTI 7 (zigzag-dse 3.9.1 binary), 45 nm scratchpad, 1 RW port of 128 b, no ECC, "
    "median area per KB over 8 KB-1 MB; accelsim/hw/data/sram_cacti.json",
    "assumed: +10 % per PE for operand muxes and local control; a vector lane is a MAC PE; one "
    "LFSR of max(32, bits * max(rows, cols)) bits per PRNG unit, +50 % of its flip-flops for taps",
    "scaling: area ~ (node / 45 nm)^2; control, NoC, clock tree, I/O pads and whitespace excluded",
)


def int_add_um2(bits: int) -> float:
    """Integer adder at 45 nm: piecewise linear through 8, 16, 32 bits, end slopes beyond."""
    pts = INT_ADD_UM2
    if bits <= pts[0][0]:
        return pts[0][1] * bits / pts[0][0]
    for (b0, a0), (b1, a1) in zip(pts, pts[1:], strict=False):
        if bits <= b1 or b1 == pts[-1][0]:
            return a0 + (a1 - a0) * (bits - b0) / (b1 - b0)
    raise AssertionError("unreachable")


def int_mult_um2(bits: int) -> float:
    """Integer multiplier at 45 nm: ``282 * (b/8)^p`` with ``p = log(3495/282) / log(4)``,
    which passes through both published points (p = 1.816; an array multiplier would be 2)."""
    (b0, a0), (b1, a1) = INT_MULT_UM2
    p = math.log(a1 / a0) / math.log(b1 / b0)
    return a0 * (bits / b0) ** p


def _fp_row(table: dict[int, float], bits: int) -> float:
    return table[16] if bits <= 24 else table[32]


def mac_pe_um2(arch: Arch) -> float:
    """One multiply-accumulate PE at 45 nm (datapath, registers, overhead)."""
    p = arch.precision
    bits = max(p.activation, p.weight, p.error)
    if p.format == "fp":
        datapath = _fp_row(FP_MULT_UM2, bits) + _fp_row(FP_ADD_UM2, p.accumulator)
    else:
        datapath = int_mult_um2(bits) + int_add_um2(p.accumulator)
    registers = (2 * bits + p.accumulator) * DFF_UM2
    return (datapath + registers) * (1 + PE_OVERHEAD)


def adder_pe_um2(arch: Arch) -> float:
    """One adder-only PE at 45 nm: signed add of an error into the accumulator (binarized B)."""
    p = arch.precision
    if p.format == "fp":
        datapath = _fp_row(FP_ADD_UM2, p.accumulator)
    else:
        datapath = int_add_um2(p.accumulator)
    registers = (p.error + 1 + p.accumulator) * DFF_UM2
    return (datapath + registers) * (1 + PE_OVERHEAD)


def lfsr_um2(unit: Unit) -> float:
    """The PRNG of a ``feedback.source: prng`` unit at 45 nm (0 for any other unit)."""
    store = unit.feedback
    if store is None or store.source != "prng":
        return 0.0
    state_bits = max(LFSR_MIN_BITS, store.bits * max(unit.rows, unit.cols))
    return state_bits * DFF_UM2 * (1 + LFSR_TAP_OVERHEAD)


def is_adder_only(unit: Unit) -> bool:
    """Binarized feedback (``bits: 1``) on a unit that runs nothing but DFA's error projection."""
    return (
        unit.kind == "pe_array"
        and unit.feedback is not None
        and unit.feedback.bits == 1
        and set(unit.tasks) <= {"dfa_ep"}
    )


def node_area_scale(node_nm: float) -> float:
    """``(node / 45 nm)^2``: the first-order area rule (both layout dimensions shrink)."""
    return (node_nm / REFERENCE_NM) ** 2


@dataclass(frozen=True)
class UnitArea:
    """One unit's area at the chip's node (mm^2); ``pe_um2`` is one PE (or lane) there."""

    name: str
    kind: str  # pe_array | vector
    datapath: str  # mac | adder | vector
    pes: int
    pe_um2: float
    datapath_mm2: float
    buffers_mm2: float  # ifmap + weight + ofmap SRAM
    feedback_sram_mm2: float  # SRAM feedback store (source: sram)
    prng_mm2: float  # LFSR (source: prng)

    @property
    def total_mm2(self) -> float:
        return self.datapath_mm2 + self.buffers_mm2 + self.feedback_sram_mm2 + self.prng_mm2


@dataclass(frozen=True)
class ChipArea:
    """Area of every modelled part of a chip at its node; ``total_mm2`` is the exact sum of
    ``breakdown()`` (same values, same order)."""

    arch: str
    node_nm: float
    scale: float  # (node / 45)^2, applied to every 45 nm figure
    sram_mm2_per_kb: float  # at the chip's node
    units: tuple[UnitArea, ...]
    global_buffer_mm2: float
    total_mm2: float
    sources: tuple[str, ...] = SOURCES

    def breakdown(self) -> dict[str, float]:
        """``{"<unit>.datapath", "<unit>.buffers", "<unit>.feedback_sram", "<unit>.prng",
        "global_buffer"}`` in mm^2; a part a unit does not have is left out."""
        out: dict[str, float] = {}
        for u in self.units:
            out[f"{u.name}.datapath"] = u.datapath_mm2
            if u.kind == "pe_array":
                out[f"{u.name}.buffers"] = u.buffers_mm2
            if u.feedback_sram_mm2:
                out[f"{u.name}.feedback_sram"] = u.feedback_sram_mm2
            if u.prng_mm2:
                out[f"{u.name}.prng"] = u.prng_mm2
        out["global_buffer"] = self.global_buffer_mm2
        return out

    def unit(self, name: str) -> UnitArea:
        return next(u for u in self.units if u.name == name)


def _unit_area(arch: Arch, unit: Unit, scale: float, per_kb: float) -> UnitArea:
    if unit.kind == "vector":
        pe, kind = mac_pe_um2(arch), "vector"
        buffers = feedback = prng = 0.0
    else:
        adder = is_adder_only(unit)
        pe, kind = (adder_pe_um2(arch), "adder") if adder else (mac_pe_um2(arch), "mac")
        b = unit.buffers
        buffers = (b.ifmap_kb + b.weight_kb + b.ofmap_kb) * per_kb
        store = unit.feedback
        feedback = store.size_kb * per_kb if store is not None and store.source == "sram" else 0.0
        prng = lfsr_um2(unit) * scale * 1e-6
    pe *= scale
    return UnitArea(
        name=unit.name,
        kind=unit.kind,
        datapath=kind,
        pes=unit.pes,
        pe_um2=pe,
        datapath_mm2=unit.pes * pe * 1e-6,
        buffers_mm2=buffers,
        feedback_sram_mm2=feedback,
        prng_mm2=prng,
    )


@lru_cache(maxsize=512)
def chip_area(arch: Arch) -> ChipArea:
    """Area of ``arch`` (memoized: an ``Arch`` is frozen and hashable)."""
    scale = node_area_scale(arch.technology_nm)
    per_kb = SRAM_MM2_PER_KB[arch.energy.sram_cells] * scale
    units = tuple(_unit_area(arch, u, scale, per_kb) for u in arch.units)
    gb = arch.global_buffer.size_kb * per_kb
    area = ChipArea(arch.name, arch.technology_nm, scale, per_kb, units, gb, 0.0)
    return dataclasses.replace(area, total_mm2=sum(area.breakdown().values()))


# --- equal-area scaling -------------------------------------------------------------------------


@dataclass(frozen=True)
class EqualAreaScaling:
    """A chip whose PE arrays were resized so its area comes closest to ``target_mm2``."""

    arch: Arch  # the resized chip
    baseline_area_mm2: float
    scaled_area_mm2: float
    target_area_mm2: float
    scale: float  # PEs of the resized PE arrays / PEs of the original ones
    pe_arrays: tuple[tuple[str, int, int], ...]  # (name, rows, cols) after resizing


def _round_half_up(x: float) -> int:
    return math.floor(x + 0.5)


def _dims(unit: Unit, k: float) -> tuple[int, int]:
    return max(1, _round_half_up(unit.rows * k)), max(1, _round_half_up(unit.cols * k))


def scale_pe_arrays(arch: Arch, dims: dict[str, tuple[int, int]]) -> Arch:
    """``arch`` with the named PE arrays resized to ``(rows, cols)``; everything else kept."""
    units = tuple(
        dataclasses.replace(u, rows=dims[u.name][0], cols=dims[u.name][1]) if u.name in dims else u
        for u in arch.units
    )
    return dataclasses.replace(arch, units=units, name=f"{arch.name}-equal-area")


def equal_area_scaling(arch: Arch, target_mm2: float) -> EqualAreaScaling:
    """Resize every PE array of ``arch`` by one common factor so the chip's area is closest to
    ``target_mm2``.

    Rule: each array becomes ``round(rows * k) x round(cols * k)`` (half up, at least 1x1) for
    one ``k`` shared by all arrays, so each keeps its aspect ratio up to rounding and the PE
    count scales by about ``k^2``. Buffers, feedback stores, vector units and the global buffer
    are not changed. As ``k`` grows the sizes only grow, so the chip's area is a staircase in
    ``k``; every step is visited (the ``k`` at which some row or column count changes) up to the
    first size above the target, and the size whose area is closest to the target wins (ties:
    the smaller chip). The result is therefore within one step of the target (one more row or
    column of PEs), unless even 1x1 arrays exceed it.
    """
    base = chip_area(arch)
    arrays = [u for u in arch.units if u.kind == "pe_array"]
    pe = {u.name: base.unit(u.name).pe_um2 * 1e-6 for u in arrays}
    fixed = base.total_mm2 - sum(base.unit(u.name).datapath_mm2 for u in arrays)
    continuous = sum(pe[u.name] * u.rows * u.cols for u in arrays)
    k0 = math.sqrt(max(target_mm2 - fixed, 0.0) / continuous)
    k_max = 2 * k0 + 2 / min(min(u.rows, u.cols) for u in arrays)
    steps = sorted(
        {
            (m + 0.5) / d
            for u in arrays
            for d in (u.rows, u.cols)
            for m in range(math.ceil(d * k_max) + 1)
        }
    )
    best: tuple[float, float, dict[str, tuple[int, int]]] | None = None
    for lo, hi in zip([0.0, *steps], steps, strict=False):
        dims = {u.name: _dims(u, (lo + hi) / 2) for u in arrays}
        area = fixed + sum(pe[name] * r * c for name, (r, c) in dims.items())
        key = (abs(area - target_mm2), area)
        if best is None or key < best[:2]:
            best = (*key, dims)
        if area > target_mm2:
            break
    _, area, dims = best
    scaled = scale_pe_arrays(arch, dims)
    pes_before = sum(u.rows * u.cols for u in arrays)
    pes_after = sum(r * c for r, c in dims.values())
    return EqualAreaScaling(
        arch=scaled,
        baseline_area_mm2=base.total_mm2,
        scaled_area_mm2=chip_area(scaled).total_mm2,
        target_area_mm2=target_mm2,
        scale=pes_after / pes_before,
        pe_arrays=tuple((name, r, c) for name, (r, c) in dims.items()),
    )


# --- the adder-only DEPC against a multiplier DEPC ----------------------------------------------


@dataclass(frozen=True)
class DepcComparison:
    """The same error-propagation array built adder-only (as the chip has it) or with MAC PEs.

    Both run the same GEMMs in the same cycles (same PE count and dataflow), so at equal
    throughput area efficiency is inversely proportional to area: each ``*_gain`` is
    ``area with MAC PEs / area adder-only - 1``.
    """

    unit: str
    pes: int
    adder_pe_um2: float
    mac_pe_um2: float
    adder_array_mm2: float
    mac_array_mm2: float
    buffers_mm2: float  # the unit's SRAM (and PRNG), identical in both
    chip_adder_mm2: float
    chip_mac_mm2: float

    @property
    def array_gain(self) -> float:
        return self.mac_array_mm2 / self.adder_array_mm2 - 1

    @property
    def unit_gain(self) -> float:
        fixed = self.buffers_mm2
        return (self.mac_array_mm2 + fixed) / (self.adder_array_mm2 + fixed) - 1

    @property
    def chip_gain(self) -> float:
        return self.chip_mac_mm2 / self.chip_adder_mm2 - 1

    @property
    def unit_fraction_of_chip(self) -> float:
        return (self.adder_array_mm2 + self.buffers_mm2) / self.chip_adder_mm2

    def pes_for_chip_gain(self, gain: float) -> float:
        """PEs the adder-only array would need for the chip-level ``gain`` (other parts fixed):
        ``(rest + n * mac) / (rest + n * adder) = 1 + gain``."""
        rest = self.chip_adder_mm2 - self.adder_array_mm2
        a, m = self.adder_pe_um2 * 1e-6, self.mac_pe_um2 * 1e-6
        return gain * rest / (m - (1 + gain) * a) if m > (1 + gain) * a else math.inf


def depc_comparison(arch: Arch, unit_name: str) -> DepcComparison:
    """Area of ``arch``'s adder-only unit ``unit_name`` against the same unit with MAC PEs."""
    unit = arch.unit(unit_name)
    area = chip_area(arch)
    ua = area.unit(unit_name)
    mac_pe = mac_pe_um2(arch) * area.scale
    mac_array = unit.pes * mac_pe * 1e-6
    return DepcComparison(
        unit=unit_name,
        pes=unit.pes,
        adder_pe_um2=ua.pe_um2,
        mac_pe_um2=mac_pe,
        adder_array_mm2=ua.datapath_mm2,
        mac_array_mm2=mac_array,
        buffers_mm2=ua.buffers_mm2 + ua.feedback_sram_mm2 + ua.prng_mm2,
        chip_adder_mm2=area.total_mm2,
        chip_mac_mm2=area.total_mm2 - ua.datapath_mm2 + mac_array,
    )

"""Energy per action: a default table with sources, scaled to the chip's node, overridable.

Cost = counts x per-action energy; this module holds only the per-action side. Defaults are
Horowitz, "Computing's energy problem (and what we can do about it)", ISSCC 2014, 45 nm, 0.9 V:

====================  =======  ============================================================
action                pJ       note
====================  =======  ============================================================
8b int add            0.03     Horowitz
32b int add           0.1      Horowitz
8b int mult           0.2      Horowitz
32b int mult          3.1      Horowitz
16b fp add            0.4      Horowitz
32b fp add            0.9      Horowitz
16b fp mult           1.1      Horowitz
32b fp mult           3.7      Horowitz
64b SRAM read         10/20/100  8 KB / 32 KB / 1 MB, Horowitz; log2(size) interpolation
DRAM                  1300-2600 per 64 bits, Horowitz; we take the midpoint 1950 (243.75 pJ/B)
====================  =======  ============================================================

Other widths: integer add energy grows linearly with bits, integer mult with bits squared
(0.2 pJ * (b/8)^2 gives 3.2 pJ at 32 b against the published 3.1). Float formats other than 16
and 32 bits use the nearer row. A MAC is one mult at the operand width plus one add at the
accumulator width. Assumptions (not from Horowitz): a PRNG value costs one LFSR step per 16
generated bits, each step the energy of a 16b int add, and at least one 8b add per value;
leakage is 10 % of the chip's dynamic power at full MAC activity, per cycle, for the whole run.

Node scaling (constant-field / Dennard, C ~ L, E = C V^2): E(node, V) = E45 * (node / 45) *
(V / 0.9)^2 for logic and SRAM; DRAM energy is off-chip and not scaled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import pairwise

from accelsim.config.arch import Arch, Precision

REFERENCE_NM = 45.0
REFERENCE_V = 0.9
LEAKAGE_FRACTION = 0.10  # assumed
DRAM_PJ_PER_BYTE = 1950.0 / 8  # Horowitz 1.3-2.6 nJ per 64 bits, midpoint

INT_ADD_8 = 0.03
INT_ADD_32 = 0.1
INT_MULT_8 = 0.2
INT_MULT_32 = 3.1
FP_ADD = {16: 0.4, 32: 0.9}
FP_MULT = {16: 1.1, 32: 3.7}
SRAM_64BIT = ((8.0, 10.0), (32.0, 20.0), (1024.0, 100.0))  # (KB, pJ per 64-bit read)

SOURCES = {
    "add": "Horowitz ISSCC 2014 (45 nm): int add 0.03 pJ (8b), 0.1 pJ (32b); fp add 0.4/0.9 pJ",
    "mult": "Horowitz ISSCC 2014: int mult 0.2 pJ (8b), 3.1 pJ (32b); fp mult 1.1/3.7 pJ",
    "sram": "Horowitz ISSCC 2014: 64-bit read 10 pJ (8 KB), 20 pJ (32 KB), 100 pJ (1 MB)",
    "dram": "Horowitz ISSCC 2014: 1.3-2.6 nJ per 64 bits (midpoint used)",
    "prng": "assumed: one 16b add per LFSR step, one step per 16 generated bits",
    "leakage": "assumed: 10 % of dynamic power at full MAC activity",
    "scaling": "constant-field (Dennard) scaling: E ~ node * V^2, reference 45 nm, 0.9 V",
}


def int_add_pj(bits: int) -> float:
    """Integer add at 45 nm, linear in width through the 8b and 32b points."""
    if bits < 8:
        return INT_ADD_8 * bits / 8
    return INT_ADD_8 + (INT_ADD_32 - INT_ADD_8) * (bits - 8) / 24


def int_mult_pj(bits: int) -> float:
    """Integer multiply at 45 nm, quadratic in width from the 8b point."""
    return INT_MULT_8 * (bits / 8) ** 2


def fp_pj(table: dict[int, float], bits: int) -> float:
    return table[16] if bits <= 24 else table[32]


def sram_pj_per_byte_45(size_kb: float) -> float:
    """Read (or write) energy per byte of an SRAM of ``size_kb`` at 45 nm.

    Linear in log2(size) between the published points, extended with the end slopes, floored at
    a quarter of the 8 KB figure for tiny buffers.
    """
    pts = SRAM_64BIT
    x = math.log2(max(size_kb, 1e-3))
    for (s0, e0), (s1, e1) in pairwise(pts):
        if size_kb <= s1 or (s1, e1) == pts[-1]:
            x0, x1 = math.log2(s0), math.log2(s1)
            e = e0 + (e1 - e0) * (x - x0) / (x1 - x0)
            return max(e, pts[0][1] / 4) / 8
    raise AssertionError("unreachable")


def node_scale(node_nm: float, voltage_v: float | None = None) -> float:
    v = REFERENCE_V if voltage_v is None else voltage_v
    return (node_nm / REFERENCE_NM) * (v / REFERENCE_V) ** 2


@dataclass(frozen=True)
class EnergyTable:
    """Per-action energy (pJ) of one chip, already scaled to its node."""

    mac_pj: float  # one multiply-accumulate at the MAC precision
    add_pj: float  # one add at the error precision (adder-only EP with binarized B)
    vector_op_pj: float  # one element-wise operation on the vector unit or array outputs
    prng_pj_per_value: float  # one generated feedback weight of ``feedback_bits``
    dram_pj_per_byte: float
    leakage_pj_per_cycle: float
    scale: float  # node scaling factor applied to the 45 nm figures
    sram_override_pj_per_byte: float | None = None
    global_buffer_override_pj_per_byte: float | None = None

    def sram_pj_per_byte(self, size_kb: float) -> float:
        if self.sram_override_pj_per_byte is not None:
            return self.sram_override_pj_per_byte
        return sram_pj_per_byte_45(size_kb) * self.scale

    def global_buffer_pj_per_byte(self, size_kb: float) -> float:
        if self.global_buffer_override_pj_per_byte is not None:
            return self.global_buffer_override_pj_per_byte
        return sram_pj_per_byte_45(size_kb) * self.scale


def mac_pj_45(precision: Precision) -> float:
    bits = max(precision.activation, precision.weight, precision.error)
    if precision.format == "fp":
        return fp_pj(FP_MULT, bits) + fp_pj(FP_ADD, precision.accumulator)
    return int_mult_pj(bits) + int_add_pj(precision.accumulator)


def add_pj_45(precision: Precision) -> float:
    """An adder-only EP core adds (or subtracts) errors at the accumulator width."""
    if precision.format == "fp":
        return fp_pj(FP_ADD, precision.accumulator)
    return int_add_pj(precision.accumulator)


def prng_pj_45(bits: int) -> float:
    steps = math.ceil(bits / 16)
    return max(INT_ADD_8, steps * int_add_pj(16))


def energy_table(arch: Arch, feedback_bits: int = 16) -> EnergyTable:
    """The chip's per-action energies: defaults scaled to its node, then its overrides."""
    spec = arch.energy
    node = spec.scale_to_nm if spec.scale_to_nm is not None else arch.technology_nm
    scale = node_scale(node, spec.voltage_v)
    p = arch.precision
    mac = mac_pj_45(p) * scale
    pe_count = sum(u.rows * u.cols for u in arch.units if u.kind == "pe_array")
    lanes = sum(u.lanes for u in arch.units if u.kind == "vector")
    leak = LEAKAGE_FRACTION * (pe_count * mac + lanes * add_pj_45(p) * scale)
    vector = fp_pj(FP_ADD, p.activation) if p.format == "fp" else int_add_pj(p.activation)
    values = {
        "mac_pj": mac,
        "add_pj": add_pj_45(p) * scale,
        "vector_op_pj": vector * scale,
        "prng_pj_per_value": prng_pj_45(feedback_bits) * scale,
        "leakage_pj_per_cycle": leak,
    }
    for key in values:
        override = spec.override(key)
        if override is not None:
            values[key] = override
    dram = arch.dram.energy_pj_per_byte
    return EnergyTable(
        **values,
        dram_pj_per_byte=DRAM_PJ_PER_BYTE if dram is None else dram,
        scale=scale,
        sram_override_pj_per_byte=spec.override("sram_pj_per_byte"),
        global_buffer_override_pj_per_byte=spec.override("global_buffer_pj_per_byte"),
    )

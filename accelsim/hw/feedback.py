"""The feedback-weight store: where a unit gets the fixed random matrices B of DFA and FA.

Three sources (``feedback.source`` on a unit):

- ``prng``: an LFSR regenerates each B value when the array needs it (the DF-LNPU DEPC). No
  storage and no traffic; every value the array would read costs one PRNG generation.
- ``sram``: a private SRAM of ``size_kb`` holds B at ``bits`` per entry and ``density`` (only the
  non-zero entries are stored). Reads cost SRAM energy at that size. If B does not fit, the chip
  must declare ``fallback: dram``; the overflow share of B then streams from DRAM every use.
- ``dram`` (or no store on the unit): B is an ordinary operand, placed by the residency plan.

With ``bits: 1`` (binarized B, entries +-1) a product ``B_ij e_j`` is a signed add, so the error
unit is adder-only: its MAC energy becomes the energy of an add at the accumulator width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.config.arch import Arch, FeedbackStore, Unit, feedback_error


@dataclass(frozen=True)
class FeedbackPlan:
    """How one unit obtains B for the whole iteration."""

    source: str  # prng | sram | dram
    bits: int
    density: float
    needed_bytes: float  # B bytes this unit's tasks use
    capacity_bytes: float
    dram_fraction: float  # share of B that overflows an SRAM store to DRAM

    @property
    def adder_only(self) -> bool:
        return self.bits == 1

    @property
    def on_chip(self) -> bool:
        return self.source in ("prng", "sram")


def feedback_bytes(entries: int, bits: int) -> float:
    return math.ceil(entries * bits / 8)


def plan_feedback(arch: Arch, unit: Unit, entries: int, default_bits: int) -> FeedbackPlan:
    """Plan the store of ``unit`` for ``entries`` B values; raises if an SRAM store is too small
    and the chip declares no DRAM fallback."""
    store = unit.feedback or FeedbackStore(source="dram", bits=default_bits)
    needed = feedback_bytes(entries, store.bits)
    capacity = store.size_kb * 1024 if store.source == "sram" else 0.0
    overflow = 0.0
    if store.source == "sram" and needed > capacity:
        if store.fallback != "dram":
            raise feedback_error(arch, unit, needed / 1024)
        overflow = (needed - capacity) / needed
    return FeedbackPlan(store.source, store.bits, store.density, needed, capacity, overflow)


@dataclass(frozen=True)
class FeedbackAccess:
    energy_pj: float  # PRNG generations or store reads
    dram_bytes: float  # SRAM-store overflow streamed from DRAM
    prng_values: int


def feedback_access(
    plan: FeedbackPlan,
    values_read: int,
    unique_bytes: float,
    prng_pj_per_value: float,
    store_pj_per_byte: float,
) -> FeedbackAccess:
    """Energy and DRAM bytes for a task that reads ``values_read`` B values from an on-chip
    store (``unique_bytes`` of distinct B)."""
    if plan.source == "prng":
        return FeedbackAccess(values_read * prng_pj_per_value, 0.0, values_read)
    if plan.source == "sram":
        on_chip = values_read * plan.bits / 8 * (1 - plan.dram_fraction)
        return FeedbackAccess(on_chip * store_pj_per_byte, unique_bytes * plan.dram_fraction, 0)
    return FeedbackAccess(0.0, 0.0, 0)

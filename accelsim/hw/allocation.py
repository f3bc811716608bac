"""Global-buffer allocation: which tensors live on chip, whole or in part, over their lifetimes.

The lowering names every tensor a task touches (``accelsim.lowering.graph.Operand.name``).
``tensor_lives`` follows each one through the iteration's tasks in graph order (forward passes,
loss, error tasks, weight gradients, updates): its size in bytes at the chip's precision, the
first and last task that touch it, how many tasks touch it, and whether it is *persistent*
(weights, optimizer state and feedback matrices outlive the iteration) or *transient*
(activations, errors, gradients: live from the task that writes them to the last that reads
them; the network input: from its first read to its last).

``allocate`` fills the part of the global buffer (GB) not kept for staging, by a greedy
fractional interval packing:

1. rank tensors by the DRAM bytes residency saves per byte of GB: the number of tasks that
   touch the tensor (a spilled tensor moves once per touch), minus one for the input (its first
   load is compulsory); ties: smaller tensors, then names;
2. in that order give each tensor the largest share ``f`` in [0, 1] of its bytes that fits the
   GB at every task of its lifetime, given what earlier-ranked tensors hold then (persistent
   tensors are live at every task). A share below 1 is *partial residency*: that fraction of
   each tile is read from the GB and the rest from DRAM.

Fused tensors (``FUSIONS``: a weight gradient handed to its update tile by tile, or a DFA error
``B_l e`` streamed into its weight gradient) are never materialised: they take no GB space and
no DRAM traffic. Tensors a unit keeps in its own feedback store (PRNG or SRAM) are not placed.

A persistent tensor that is fully resident stays on chip across iterations, so it costs no
DRAM traffic at all; ``compulsory_bytes`` counts the input once plus, for every persistent
tensor, the non-resident share read once and (if updated) written once per iteration.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from accelsim.lowering.graph import Operand, TaskGraph

PERSISTENT = frozenset({"weight", "optimizer_state", "feedback"})


@dataclass(frozen=True)
class TensorLife:
    name: str
    tensor_class: str
    bytes: float
    first: int  # position of the first task touching it, in graph order
    last: int
    touches: int  # tasks that read or write it
    written: bool  # some task writes it (weights: the update)

    @property
    def persistent(self) -> bool:
        return self.tensor_class in PERSISTENT


@dataclass(frozen=True)
class Placement:
    """Where one tensor lives during the iteration."""

    name: str
    tensor_class: str
    bytes: float
    resident_fraction: float  # share held in the GB (1 = resident, 0 = spilled to DRAM)
    fused: bool
    free: float = 0.0  # GB bytes free over its lifetime when it was placed
    capacity: float = 0.0  # GB bytes for resident tensors
    persistent: bool = False
    first: int = 0  # the first task touching it (the input's load from DRAM)

    @property
    def reason(self) -> str:
        if self.fused:
            return "fused: streamed tile by tile"
        kb = self.bytes / 1024
        if self.resident_fraction >= 1.0:
            return f"fits: {kb:.1f} KB"
        span = "the whole iteration" if self.persistent else "its lifetime"
        return (
            f"{kb:.1f} KB needed, {max(0.0, self.free) / 1024:.1f} KB of "
            f"{self.capacity / 1024:.1f} KB free over {span} after higher-ranked tensors"
        )

    @property
    def status(self) -> str:
        if self.fused:
            return "fused"
        if self.resident_fraction >= 1.0:
            return "resident"
        return "partly" if self.resident_fraction > 0 else "spilled"

    def to_dict(self) -> dict:
        return {
            "tensor": self.name,
            "class": self.tensor_class,
            "bytes": self.bytes,
            "resident_fraction": self.resident_fraction,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Allocation:
    capacity: float  # GB bytes for resident tensors (the GB minus the staging area)
    staging: float  # GB bytes kept for tiles of operands that stream from DRAM
    placements: Mapping[str, Placement]

    def __post_init__(self) -> None:
        # looked up for every operand of every task of every candidate plan: precompute
        held = {n: 1.0 if p.fused else p.resident_fraction for n, p in self.placements.items()}
        loads = {(n, p.first) for n, p in self.placements.items() if p.tensor_class == "input"}
        object.__setattr__(self, "_held", held)
        object.__setattr__(self, "_loads", loads)

    def fraction(self, name: str) -> float:
        """Share of tensor ``name`` held on chip (fused tensors count as held)."""
        return self._held.get(name, 0.0)

    def fraction_at(self, name: str, task: int) -> float:
        """Share of ``name`` a task reads from the GB: the input arrives from DRAM every
        iteration, so its first reader always loads it (residency serves the re-reads)."""
        if (name, task) in self._loads:
            return 0.0
        return self._held.get(name, 0.0)

    def fused(self, name: str) -> bool:
        p = self.placements.get(name)
        return p is not None and p.fused


def tensor_lives(graph: TaskGraph, bytes_of: Callable[[Operand], float]) -> list[TensorLife]:
    """Every named tensor of ``graph`` with its size and lifetime (module doc)."""
    seen: dict[str, dict] = {}
    for position, task in enumerate(graph.tasks):
        for op in task.operands:
            if not op.name or op.elements <= 0:
                continue
            entry = seen.setdefault(
                op.name,
                {"cls": op.tensor, "bytes": 0.0, "first": position, "touch": set(), "w": False},
            )
            entry["bytes"] = max(entry["bytes"], bytes_of(op))
            entry["last"] = position
            entry["touch"].add(task.index)
            entry["w"] = entry["w"] or op.role in ("ofmap", "write")
    return [
        TensorLife(name, e["cls"], e["bytes"], e["first"], e["last"], len(e["touch"]), e["w"])
        for name, e in seen.items()
    ]


def allocate(
    lives: Iterable[TensorLife],
    capacity: float,
    staging: float,
    tasks: int,
    fused: frozenset[str] = frozenset(),
) -> Allocation:
    """Greedy fractional interval packing of ``lives`` into ``capacity`` bytes (module doc)."""
    usage = np.zeros(max(tasks, 1))
    placements: dict[str, Placement] = {}
    ranked = sorted(lives, key=lambda t: (-_saved_per_byte(t), t.bytes, t.name))
    for t in ranked:
        if t.name in fused:
            placements[t.name] = Placement(t.name, t.tensor_class, t.bytes, 1.0, True)
            continue
        lo, hi = (0, len(usage) - 1) if t.persistent else (t.first, t.last)
        free = capacity - float(usage[lo : hi + 1].max()) if capacity > 0 else 0.0
        share = 0.0 if t.bytes <= 0 else max(0.0, min(1.0, free / t.bytes))
        usage[lo : hi + 1] += share * t.bytes
        placements[t.name] = Placement(
            t.name, t.tensor_class, t.bytes, share, False, free, capacity, t.persistent, t.first
        )
    return Allocation(capacity, staging, placements)


def _saved_per_byte(t: TensorLife) -> float:
    return t.touches - (1 if t.tensor_class == "input" else 0)


def compulsory_bytes(lives: Iterable[TensorLife], allocation: Allocation) -> float:
    """DRAM bytes no schedule can avoid in one iteration (module doc)."""
    total = 0.0
    for t in lives:
        if t.tensor_class == "input":
            total += t.bytes
        elif t.persistent:
            spilled = 1.0 - allocation.fraction(t.name)
            total += spilled * t.bytes * (2 if t.written else 1)
    return total


def residency_by_class(allocation: Allocation) -> dict[str, dict]:
    """Per tensor class: bytes resident, partly resident, spilled and fused (for the report)."""
    out: dict[str, dict] = {}
    for p in allocation.placements.values():
        row = out.setdefault(
            p.tensor_class,
            {"bytes": 0.0, "resident_bytes": 0.0, "tensors": {}},
        )
        row["bytes"] += p.bytes
        row["resident_bytes"] += p.bytes * (1.0 if p.fused else p.resident_fraction)
        row["tensors"][p.status] = row["tensors"].get(p.status, 0) + 1
    for row in out.values():
        share = row["resident_bytes"] / row["bytes"] if row["bytes"] else 1.0
        row["status"] = "resident" if share >= 1.0 else ("partly" if share > 0 else "spilled")
    return out

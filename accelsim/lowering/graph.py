"""The task graph of one training iteration: tasks with GEMM work, operands and dependencies.

A task is one pass of one layer (FP, EP, WG, WU, the DFA error projection) or the loss. It knows
its GEMMs (shapes, how many), its element-wise work and the tensors it reads and writes, counted
in elements: precision belongs to the chip, so bytes are computed by the cost model. Dependencies
point to earlier tasks of the same iteration; the schedule adds the ones across iterations.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from accelsim.hw.pe_array import GemmShape

# Tensor classes decide where an operand lives (DRAM, global buffer, feedback store) and at
# which precision it is stored.
TENSORS = ("input", "activation", "error", "weight", "gradient", "feedback", "optimizer_state")


@dataclass(frozen=True)
class GemmWork:
    """``count`` identical GEMMs: groups of a grouped conv, or time steps of a recurrent layer."""

    shape: GemmShape
    count: int = 1
    shared_filter: bool = False  # the same filter operand for every repetition (time steps)

    @property
    def macs(self) -> int:
        return self.shape.m * self.shape.k * self.shape.n * self.count


@dataclass(frozen=True)
class Operand:
    """A tensor a task touches. ``role``: ifmap | filter | ofmap (GEMM operands) or read | write.

    ``tensor`` is its class (precision and placement rules), ``name`` the tensor itself, shared
    by every task that touches it (``input``, ``<layer>.weight``, ``<layer>.out``,
    ``<layer>.error``, ``<layer>.grad``, ``<layer>.opt``, ``<layer>.B``), so the memory model
    can follow its lifetime from the task that writes it to the last that reads it."""

    role: str
    tensor: str
    elements: int
    name: str = ""


@dataclass(frozen=True)
class Task:
    index: int
    name: str  # "<layer>.<kind>", e.g. "conv1.fp", or "loss"
    kind: str  # fp | ep | wg | wu | loss | dfa_ep
    layer: str
    gemms: tuple[GemmWork, ...]
    vector_ops: int  # element-wise operations (activations, pooling, bias sums, updates)
    operands: tuple[Operand, ...]
    deps: tuple[int, ...]

    @property
    def macs(self) -> int:
        return sum(g.macs for g in self.gemms)

    @property
    def uses_feedback(self) -> bool:
        return any(op.tensor == "feedback" for op in self.operands)

    def elements(self, role: str) -> int:
        return sum(op.elements for op in self.operands if op.role == role)

    def operand(self, role: str) -> Operand:
        return self._roles[role]

    @cached_property
    def _roles(self) -> dict[str, Operand]:
        return {op.role: op for op in reversed(self.operands)}  # the first of a role wins


@dataclass(frozen=True)
class TaskGraph:
    workload: str
    algorithm: str
    schedule: str  # bp | dfa | pdfa | hybrid
    batch_size: int
    tasks: tuple[Task, ...]
    layers: tuple[str, ...]  # parameter layers, first to last
    # Per-iteration memory footprint (elements) the residency plan needs.
    weight_elements: int
    activation_elements: int  # saved for the backward pass
    max_error_elements: int
    feedback_elements: int  # B entries the algorithm needs (after density)
    optimizer_state_per_weight: int
    # Per parameter layer: (layer, route, source layer); route bp | dfa, or loss for the last.
    routes: tuple[tuple[str, str, str], ...]

    def by_kind(self, kind: str) -> tuple[Task, ...]:
        return tuple(t for t in self.tasks if t.kind == kind)

    def task(self, name: str) -> Task:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(name)

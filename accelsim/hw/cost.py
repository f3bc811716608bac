"""Cost of one task on one unit: cycles, stalls, traffic and energy by component (pure functions).

``cost_model`` prepares what every task of an iteration shares (the energy table, the tensor
residency, the feedback stores); ``task_cost`` combines the PE-array timing
(accelsim.hw.pe_array, each GEMM in the faster of its two orientations: accelsim.hw.mapping),
the memory model and the energy table for one task on one unit.
Energy components: compute (MACs, or adds on an adder-only error unit), vector (element-wise),
sram (the unit's private buffers), global_buffer, dram, feedback (PRNG or feedback SRAM).
Leakage is charged per cycle of the whole run by the report, not per task.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from accelsim.config.arch import Arch, Unit
from accelsim.hw.energy import EnergyTable, energy_table
from accelsim.hw.feedback import FeedbackPlan, feedback_access, feedback_bytes, plan_feedback
from accelsim.hw.mapping import GemmMapping, choose_mapping
from accelsim.hw.memory import (
    Residency,
    gemm_traffic,
    plan_residency,
    stall_cycles,
    tile_gemm,
    transfer_cycles,
    usable_bytes,
)
from accelsim.hw.sparsity import ZeroFractions, task_densities
from accelsim.lowering.graph import Task, TaskGraph

COMPONENTS = ("compute", "vector", "sram", "global_buffer", "dram", "feedback")


@dataclass(frozen=True)
class TaskCost:
    cycles: int  # compute + stall, before DRAM contention with other tasks
    compute_cycles: int
    stall_cycles: int
    gb_cycles: int  # cycles to move the task's GB bytes at full GB bandwidth
    dram_cycles: int  # cycles to move the task's DRAM bytes at full DRAM bandwidth
    macs: int
    dram_bytes: float
    gb_bytes: float
    sram_bytes: float
    prng_values: int
    energy_pj: tuple[float, ...]  # one entry per COMPONENTS
    # PE-array tasks: the mapping chosen for each GemmWork of the task, in order; () otherwise
    mappings: tuple[GemmMapping, ...] = ()

    @property
    def total_energy_pj(self) -> float:
        return sum(self.energy_pj)


@dataclass(frozen=True)
class CostModel:
    """What the tasks of one (chip, task graph) pair share."""

    arch: Arch
    table: EnergyTable
    residency: Residency
    feedback: dict[str, FeedbackPlan]  # unit name -> store plan (units that read B)
    # task index -> fraction of its MACs left on a zero-skipping unit (accelsim/hw/sparsity.py)
    densities: Mapping[int, float] = field(default_factory=dict)


def tensor_bits(arch: Arch, tensor: str, feedback_bits: int) -> int:
    p = arch.precision
    if tensor in ("input", "activation"):
        return p.activation
    if tensor == "error":
        return p.error
    if tensor == "feedback":
        return feedback_bits
    return p.weight  # weight, gradient, optimizer_state


def cost_model(
    arch: Arch, graph: TaskGraph, zero_fractions: ZeroFractions | None = None
) -> CostModel:
    """Residency and feedback-store plans for ``graph`` on ``arch`` (raises ConfigError if a
    feedback store cannot hold B and the chip declares no DRAM fallback). ``zero_fractions``
    (measured per layer) set the work left on units with ``zero_skipping``."""
    fb_kinds = {t.kind for t in graph.tasks if t.uses_feedback}
    plans: dict[str, FeedbackPlan] = {}
    unstored = 0
    for unit in arch.units:
        kinds = fb_kinds.intersection(unit.tasks)
        if not kinds:
            continue
        entries = sum(
            t.elements("filter") for t in graph.tasks if t.kind in kinds and t.uses_feedback
        )
        plans[unit.name] = plan_feedback(arch, unit, entries, arch.precision.weight)
        if unit.feedback is None:
            unstored = max(unstored, entries)
    stored_bits = {p.bits for p in plans.values()}
    table = energy_table(arch, min(stored_bits) if stored_bits else arch.precision.weight)
    p = arch.precision
    weight_bytes = graph.weight_elements * p.weight / 8 * (2 + graph.optimizer_state_per_weight)
    residency = plan_residency(
        arch.global_buffer.size_kb,
        error_bytes=2 * graph.max_error_elements * p.error / 8,
        activation_bytes=graph.activation_elements * p.activation / 8,
        weight_bytes=weight_bytes,
        feedback_bytes=feedback_bytes(unstored, p.weight),
    )
    densities = task_densities(graph, zero_fractions)
    return CostModel(arch, table, residency, plans, densities)


def task_cost(task: Task, unit: Unit, model: CostModel) -> TaskCost:
    """Cycles, traffic and energy of ``task`` on ``unit``."""
    if unit.kind == "vector":
        return _vector_cost(task, unit, model)
    return _array_cost(task, unit, model)


def _location(model: CostModel, unit: Unit, tensor: str) -> str:
    """Where the level above the unit keeps ``tensor``: dram, gb, or local (feedback store)."""
    if tensor == "feedback":
        plan = model.feedback.get(unit.name)
        if plan is not None and plan.on_chip:
            return "local"
        if unit.feedback is not None:  # an explicit ``source: dram`` store
            return "dram"
    return "dram" if tensor in model.residency.dram_tensors else "gb"


def _array_cost(task: Task, unit: Unit, model: CostModel) -> TaskCost:
    arch, table = model.arch, model.table
    plan = model.feedback.get(unit.name)
    fb_bits = plan.bits if plan is not None else arch.precision.weight
    roles = {op.role: op for op in task.operands}
    ifmap, filt, ofmap = roles["ifmap"], roles["filter"], roles["ofmap"]
    bpe = {r: tensor_bits(arch, roles[r].tensor, fb_bits) / 8 for r in ("ifmap", "filter", "ofmap")}
    acc_bytes = arch.precision.accumulator / 8
    buf = unit.buffers
    caps = tuple(
        usable_bytes(kb, arch.double_buffered) for kb in (buf.ifmap_kb, buf.weight_kb, buf.ofmap_kb)
    )

    total_in = sum(g.shape.m * g.shape.k * g.count for g in task.gemms) or 1
    total_f = (
        sum(g.shape.k * g.shape.n * (1 if g.shared_filter else g.count) for g in task.gemms) or 1
    )
    total_out = sum(g.shape.m * g.shape.n * g.count for g in task.gemms) or 1
    compute = 0
    reads = [0, 0, 0]  # array-side SRAM accesses of the task's ifmap, filter, ofmap operands
    traffic = [0.0, 0.0, 0.0]
    mappings = []
    for g in task.gemms:
        s = g.shape
        mapping = choose_mapping(s, unit.rows, unit.cols, unit.dataflow)
        mappings.append(mapping)
        compute += mapping.cycles * g.count
        # A transposed mapping swaps the operand roles inside the array; lowered_reads gives the
        # accesses back in the task's roles, so reads[1] stays the filter (feedback) operand.
        for i, n in enumerate(mapping.lowered_reads):
            reads[i] += n * g.count
        # Buffer tiling and fill traffic stay on the lowered shape: the unique bytes moved do
        # not depend on the orientation in this model (a memory-model rewrite will revisit it).
        in_b = ifmap.elements * bpe["ifmap"] * s.m * s.k / total_in
        f_share = s.k * s.n * (1 if g.shared_filter else g.count) / total_f
        f_b = filt.elements * bpe["filter"] * f_share / (1 if g.shared_filter else g.count)
        out_b = ofmap.elements * bpe["ofmap"] * s.m * s.n / total_out
        tiling = tile_gemm(s, in_b, bpe["filter"], acc_bytes, *caps)
        tr = gemm_traffic(tiling, in_b, f_b, out_b, s.m * s.n * acc_bytes)
        filter_repeats = 1 if g.shared_filter and tiling.k_tiles * tiling.n_tiles == 1 else g.count
        traffic[0] += tr.ifmap * g.count
        traffic[1] += tr.filter * filter_repeats
        traffic[2] += tr.ofmap * g.count
    macs = task.macs
    if unit.zero_skipping and task.index in model.densities:
        rho = model.densities[task.index]
        compute = math.ceil(compute * rho)
        macs = math.ceil(macs * rho)
    compute += math.ceil(task.vector_ops / unit.cols)

    dram = gb = 0.0
    for op, moved in zip((ifmap, filt, ofmap), traffic, strict=True):
        where = _location(model, unit, op.tensor)
        if where == "dram":
            dram += moved
        elif where == "gb":
            gb += moved
    sram_pj = [table.sram_pj_per_byte(kb) for kb in (buf.ifmap_kb, buf.weight_kb, buf.ofmap_kb)]
    fb_pj = 0.0
    prng = 0
    local_fb = task.uses_feedback and _location(model, unit, "feedback") == "local"
    if local_fb:
        store_kb = plan.capacity_bytes / 1024
        store_pj = table.sram_pj_per_byte(store_kb) if store_kb else 0.0
        access = feedback_access(
            plan,
            reads[1],
            feedback_bytes(filt.elements, plan.bits),
            table.prng_pj_per_value,
            store_pj,
        )
        fb_pj, prng = access.energy_pj, access.prng_values
        dram += access.dram_bytes
    array_bytes = (
        reads[0] * bpe["ifmap"],
        0.0 if local_fb else reads[1] * bpe["filter"],
        reads[2] * acc_bytes,
    )
    fill_bytes = (traffic[0], 0.0 if local_fb else traffic[1], traffic[2])
    sram_bytes = sum(array_bytes) + sum(fill_bytes)
    sram_energy = sum((a + f) * e for a, f, e in zip(array_bytes, fill_bytes, sram_pj, strict=True))

    adder_only = task.uses_feedback and plan is not None and plan.adder_only
    compute_pj = macs * (table.add_pj if adder_only else table.mac_pj)
    energy = (
        compute_pj,
        task.vector_ops * table.vector_op_pj,
        sram_energy,
        gb * table.global_buffer_pj_per_byte(arch.global_buffer.size_kb),
        dram * table.dram_pj_per_byte,
        fb_pj,
    )
    return _finish(model, compute, gb, dram, macs, sram_bytes, prng, energy, tuple(mappings))


def _vector_cost(task: Task, unit: Unit, model: CostModel) -> TaskCost:
    arch, table = model.arch, model.table
    dram = gb = 0.0
    for op in task.operands:
        moved = op.elements * tensor_bits(arch, op.tensor, arch.precision.weight) / 8
        if _location(model, unit, op.tensor) == "dram":
            dram += moved
        else:
            gb += moved
    compute = math.ceil(task.vector_ops / unit.lanes)
    energy = (
        0.0,
        task.vector_ops * table.vector_op_pj,
        0.0,
        gb * table.global_buffer_pj_per_byte(arch.global_buffer.size_kb),
        dram * table.dram_pj_per_byte,
        0.0,
    )
    return _finish(model, compute, gb, dram, 0, 0.0, 0, energy)


def _finish(model, compute, gb, dram, macs, sram_bytes, prng, energy, mappings=()) -> TaskCost:
    arch = model.arch
    gb_cycles, dram_cycles = transfer_cycles(
        gb, arch.global_buffer.bandwidth_bytes_per_cycle, dram, arch.dram.bandwidth_bytes_per_cycle
    )
    stall = stall_cycles(compute, max(gb_cycles, dram_cycles), arch.double_buffered)
    return TaskCost(
        cycles=compute + stall,
        compute_cycles=compute,
        stall_cycles=stall,
        gb_cycles=gb_cycles,
        dram_cycles=dram_cycles,
        macs=macs,
        dram_bytes=dram,
        gb_bytes=gb,
        sram_bytes=sram_bytes,
        prng_values=prng,
        energy_pj=energy,
        mappings=mappings,
    )

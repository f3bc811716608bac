"""Cost of one task on one unit: cycles, stalls, traffic and energy by component (pure functions).

``cost_model`` prepares what every task of an iteration shares: the energy table, the feedback
stores, and the global-buffer plan. The plan splits the GB into a staging area and space for
resident tensors (``accelsim.hw.allocation``); the split is searched, like a mapper's, among
``STAGING_SHARES`` of the GB, keeping the one with the fewest DRAM bytes per iteration (ties:
the smaller staging area). ``task_cost`` combines the PE-array timing (accelsim.hw.pe_array,
each GEMM in the faster of its two orientations: accelsim.hw.mapping), the memory traffic
(accelsim.hw.memory) and the energy table for one task on one unit.
Energy components: compute (MACs, or adds on an adder-only error unit), vector (element-wise),
sram (the unit's private buffers), global_buffer, dram, feedback (PRNG or feedback SRAM).
Leakage is charged per cycle of the whole run by the report, not per task.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from accelsim.config.arch import Arch, Fusion, Unit
from accelsim.hw.allocation import Allocation, TensorLife, allocate, tensor_lives
from accelsim.hw.energy import EnergyTable, energy_table
from accelsim.hw.feedback import FeedbackPlan, feedback_access, feedback_bytes, plan_feedback
from accelsim.hw.mapping import GemmMapping, choose_mapping
from accelsim.hw.memory import (
    GemmOperands,
    OperandBytes,
    gemm_traffic,
    stall_cycles,
    transfer_cycles,
    usable_bytes,
)
from accelsim.hw.sparsity import ZeroFractions, task_densities
from accelsim.lowering.graph import Operand, Task, TaskGraph

STAGING_SHARES = (1 / 8, 1 / 4, 1 / 2, 3 / 4, 1.0)

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
    allocation: Allocation
    lives: tuple[TensorLife, ...]
    feedback: dict[str, FeedbackPlan]  # unit name -> store plan (units that read B)
    # task index -> fraction of its MACs left on a zero-skipping unit (accelsim/hw/sparsity.py)
    densities: Mapping[int, float] = field(default_factory=dict)
    fused: tuple[str, ...] = ()  # tensors never materialised (fusion)
    # per-graph memo of static per-task work (shared by the candidate plans of cost_model)
    memo: dict = field(default_factory=dict, compare=False, repr=False)

    @property
    def staging_per_array(self) -> float:
        arrays = sum(1 for u in self.arch.units if u.kind == "pe_array") or 1
        return self.allocation.staging / arrays


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
    """Feedback-store plans and the GB plan for ``graph`` on ``arch`` (raises ConfigError if a
    feedback store cannot hold B and the chip declares no DRAM fallback). ``zero_fractions``
    (measured per layer) set the work left on units with ``zero_skipping``."""
    fb_kinds = {t.kind for t in graph.tasks if t.uses_feedback}
    plans: dict[str, FeedbackPlan] = {}
    on_chip_feedback: set[str] = set()
    for unit in arch.units:
        kinds = fb_kinds.intersection(unit.tasks)
        if not kinds:
            continue
        tasks = [t for t in graph.tasks if t.kind in kinds and t.uses_feedback]
        entries = sum(t.elements("filter") for t in tasks)
        plans[unit.name] = plan_feedback(arch, unit, entries, arch.precision.weight)
        if plans[unit.name].on_chip:
            on_chip_feedback.update(t.operand("filter").name for t in tasks)
    stored_bits = {p.bits for p in plans.values()}
    table = energy_table(arch, min(stored_bits) if stored_bits else arch.precision.weight)
    densities = task_densities(graph, zero_fractions)
    lives = tuple(
        life
        for life in tensor_lives(graph, lambda op: operand_bytes(arch, op))
        if life.name not in on_chip_feedback
    )
    fused = fused_tensors(graph, arch.fusion)
    gb = arch.global_buffer.size_kb * 1024
    best: CostModel | None = None
    best_dram = math.inf
    memo: dict[tuple, float] = {}  # the same task with the same residency in several plans
    shared: dict = {}
    for share in STAGING_SHARES:
        staging = share * gb
        allocation = allocate(lives, gb - staging, staging, len(graph.tasks), fused)
        model = CostModel(
            arch, table, allocation, lives, plans, densities, tuple(sorted(fused)), shared
        )
        dram = 0.0
        for task in graph.tasks:
            key = (
                task.index,
                model.staging_per_array if task.gemms else 0.0,
                *(allocation.fraction_at(op.name, task.index) for op in task.operands),
            )
            if key not in memo:
                memo[key] = _dram_bytes(task, model)
            dram += memo[key]
        if dram < best_dram:
            best, best_dram = model, dram
    assert best is not None
    return best


def fused_tensors(graph: TaskGraph, fusion: Fusion) -> frozenset[str]:
    """Tensors handed from producer to consumer tile by tile, never materialised:
    ``wg_wu``: each weight gradient, accumulated by its WG and applied by its WU;
    ``dfa_error_stream``: each DFA error ``B_l e`` formed tile by tile inside its WG."""
    fused: set[str] = set()
    for task in graph.tasks:
        if task.kind == "wg" and fusion.wg_wu:
            fused.add(task.operand("ofmap").name)
        if task.kind == "dfa_ep" and fusion.dfa_error_stream:
            fused.add(task.operand("ofmap").name)
    return frozenset(fused)


def operand_bytes(arch: Arch, op: Operand) -> float:
    """Bytes of ``op`` at the chip's precision (feedback outside a store: weight width)."""
    return op.elements * tensor_bits(arch, op.tensor, arch.precision.weight) / 8


def _dram_bytes(task: Task, model: CostModel) -> float:
    """DRAM bytes of ``task`` (they do not depend on the unit: the DRAM level's tiling is free
    to choose its loop order); used to choose the GB plan."""
    if not task.gemms:
        return sum(
            _spilled(model, op, task) * operand_bytes(model.arch, op) for op in task.operands
        )
    return _gemm_dram(task, model, None).total


def task_cost(task: Task, unit: Unit, model: CostModel) -> TaskCost:
    """Cycles, traffic and energy of ``task`` on ``unit``."""
    if unit.kind == "vector":
        return _vector_cost(task, unit, model)
    return _array_cost(task, unit, model)


def _local_feedback(model: CostModel, unit: Unit | None, task: Task) -> bool:
    """Whether ``task`` reads B from ``unit``'s own store (PRNG or SRAM), not from the GB."""
    if unit is None or not task.uses_feedback:
        return False
    plan = model.feedback.get(unit.name)
    return plan is not None and plan.on_chip


def _spilled(model: CostModel, op: Operand, task: Task) -> float:
    """Share of ``op``'s tensor that ``task`` moves from or to DRAM (1 - its resident share)."""
    return 1.0 - model.allocation.fraction_at(op.name, task.index)


def _gemm_operands(
    task: Task, model: CostModel, fb_bits: int, dram_level: bool, local_fb: bool
) -> list[tuple]:
    """Per GemmWork of ``task``: (work, GemmOperands) with unique bytes split over the GEMMs.

    At the DRAM level an operand with nothing spilled has element size 0 (free, no staging
    space); at the GB level every operand counts, except B read from the unit's own store."""
    ifmap, filt, ofmap = (task.operand(r) for r in ("ifmap", "filter", "ofmap"))
    if dram_level:
        on = tuple(_spilled(model, op, task) > 0 for op in (ifmap, filt, ofmap))
    else:
        on = (True, True, True)
    key = ("gemm_operands", task.index, fb_bits, on, local_fb)
    cached = model.memo.get(key)
    if cached is None:
        cached = model.memo[key] = _split_operands(task, model.arch, fb_bits, on, local_fb)
    return cached


def _split_operands(task: Task, arch: Arch, fb_bits: int, on: tuple, local_fb: bool) -> list:
    ifmap, filt, ofmap = (task.operand(r) for r in ("ifmap", "filter", "ofmap"))
    elem = {op.role: tensor_bits(arch, op.tensor, fb_bits) / 8 for op in (ifmap, filt, ofmap)}
    psum = arch.precision.accumulator / 8
    a_on, b_on, c_on = on
    b_on = b_on and not local_fb
    unique = (
        ifmap.elements * elem["ifmap"],
        0.0 if local_fb else filt.elements * elem["filter"],
        ofmap.elements * elem["ofmap"],
    )
    total_in = sum(g.shape.m * g.shape.k * g.count for g in task.gemms) or 1
    total_f = sum(g.shape.k * g.shape.n * (1 if g.shared_filter else g.count) for g in task.gemms)
    total_out = sum(g.shape.m * g.shape.n * g.count for g in task.gemms) or 1
    out = []
    for g in task.gemms:
        s = g.shape
        reps = 1 if g.shared_filter else g.count
        share = OperandBytes(
            unique[0] * s.m * s.k / total_in,
            unique[1] * s.k * s.n * reps / (total_f or 1) / reps,
            unique[2] * s.m * s.n / total_out,
        )
        out.append(
            (
                g,
                GemmOperands(
                    share,
                    elem["ifmap"] if a_on else 0.0,
                    elem["filter"] if b_on else 0.0,
                    elem["ofmap"] if c_on else 0.0,
                    psum if c_on else 0.0,
                ),
            )
        )
    return out


def _gemm_dram(task: Task, model: CostModel, unit: Unit | None) -> OperandBytes:
    """DRAM bytes per operand role of a GEMM task (staging area of one PE array)."""
    plan = model.feedback.get(unit.name) if unit is not None else None
    fb_bits = plan.bits if plan is not None else model.arch.precision.weight
    local_fb = (
        _local_feedback(model, unit, task) if unit is not None else _any_local_fb(model, task)
    )
    moved = OperandBytes()
    for work, ops in _gemm_operands(task, model, fb_bits, True, local_fb):
        traffic, _ = gemm_traffic(work, ops, model.staging_per_array)
        moved = moved + traffic
    ifmap, filt, ofmap = (task.operand(r) for r in ("ifmap", "filter", "ofmap"))
    return moved.scaled(
        _spilled(model, ifmap, task), _spilled(model, filt, task), _spilled(model, ofmap, task)
    )


def _any_local_fb(model: CostModel, task: Task) -> bool:
    """Without a unit yet: B comes from an on-chip store when every unit that may run the task
    keeps one (units of one kind share the store type on the shipped chips)."""
    if not task.uses_feedback:
        return False
    units = [u for u in model.arch.units if task.kind in u.tasks]
    return bool(units) and all(_local_feedback(model, u, task) for u in units)


def _array_cost(task: Task, unit: Unit, model: CostModel) -> TaskCost:
    arch, table = model.arch, model.table
    plan = model.feedback.get(unit.name)
    fb_bits = plan.bits if plan is not None else arch.precision.weight
    filt = task.operand("filter")
    bpe = {
        r: tensor_bits(arch, task.operand(r).tensor, fb_bits) / 8
        for r in ("ifmap", "filter", "ofmap")
    }
    acc_bytes = arch.precision.accumulator / 8
    buf = unit.buffers
    local_capacity = sum(
        usable_bytes(kb, arch.double_buffered) for kb in (buf.ifmap_kb, buf.weight_kb, buf.ofmap_kb)
    )
    local_fb = _local_feedback(model, unit, task)

    compute = 0
    reads = [0, 0, 0]  # array-side SRAM accesses of the task's ifmap, filter, ofmap operands
    mappings = []
    for g in task.gemms:
        mapping = choose_mapping(g.shape, unit.rows, unit.cols, unit.dataflow)
        mappings.append(mapping)
        compute += mapping.cycles * g.count
        # A transposed mapping swaps the operand roles inside the array; lowered_reads gives the
        # accesses back in the task's roles, so reads[1] stays the filter (feedback) operand.
        for i, n in enumerate(mapping.lowered_reads):
            reads[i] += n * g.count
    fills = OperandBytes()  # GB -> the unit's buffers, in the loop order of its dataflow
    for work, ops in _gemm_operands(task, model, fb_bits, False, local_fb):
        traffic, _ = gemm_traffic(work, ops, local_capacity, (unit.dataflow,))
        fills = fills + traffic
    macs = task.macs
    if unit.zero_skipping and task.index in model.densities:
        rho = model.densities[task.index]
        compute = math.ceil(compute * rho)
        macs = math.ceil(macs * rho)
    compute += math.ceil(task.vector_ops / unit.cols)

    dram = _gemm_dram(task, model, unit).total
    gb = fills.total + dram  # reads into the unit plus DRAM bytes written on the way
    sram_pj = [table.sram_pj_per_byte(kb) for kb in (buf.ifmap_kb, buf.weight_kb, buf.ofmap_kb)]
    fb_pj = 0.0
    prng = 0
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
    fill_bytes = (fills.ifmap, fills.filter, fills.ofmap)
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
    """Element-wise work streams each operand once between the GB and the unit; the spilled
    share of each tensor also crosses DRAM (and is written into the GB on the way)."""
    arch, table = model.arch, model.table
    dram = gb = 0.0
    for op in task.operands:
        if model.allocation.fused(op.name):
            continue  # handed over tile by tile inside the producing unit
        moved = operand_bytes(arch, op)
        spilled = _spilled(model, op, task) * moved
        dram += spilled
        gb += moved + spilled
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

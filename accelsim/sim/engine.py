"""The simpy engine: tasks are processes, units are granted by a dispatcher, DRAM is shared.

A *unit* is one compute block of the chip (a PE array or a vector unit) that runs one task at a
time. A *task* is one pass of one layer (forward, error propagation, weight gradient, update, or
the loss). Each task instance (iteration, task) is a simpy process that

1. waits for its dependencies in the same iteration and for the schedule's cross-iteration
   gates (``accelsim.sim.schedules.GatePolicy``: barriers, PDFA weight delay, pipeline depth);
2. joins the ready queue and is granted a unit by the ``Dispatcher``
   (``accelsim.sim.ready``: deterministic priority, fastest free unit);
3. holds the unit for its compute cycles and its DRAM transfer: the DRAM access latency
   (``dram.latency_ns``, once per task: tiles then stream back to back), then the bytes on
   the shared channel (``accelsim.sim.dram.FairShareChannel``: equal shares, no starvation).
   Double-buffered chips overlap the transfer with compute (the task ends when both are
   done); otherwise the
   transfer precedes compute. Global-buffer transfers are charged per task, uncontended;
4. releases the unit and records a ``TaskRun``.

Events are whole tasks and transfers, never cycles, so run time grows with the number of
tasks, not with their length.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import simpy

from accelsim.config.arch import Arch
from accelsim.hw.cost import TaskCost
from accelsim.lowering.graph import Task, TaskGraph
from accelsim.sim.dram import FairShareChannel
from accelsim.sim.ready import Dispatcher, task_priority
from accelsim.sim.schedules import GatePolicy, Schedule


@dataclass(frozen=True)
class TaskRun:
    """One task instance as it ran: when it was ready, held its unit, and what it did."""

    iteration: int
    task: int  # index into the graph's tasks
    unit: int  # index into the chip's units
    ready: float  # dependencies and gates met
    start: float  # unit granted
    end: float  # unit released
    compute_cycles: int

    @property
    def held(self) -> float:
        return self.end - self.start

    @property
    def queued(self) -> float:
        """Cycles ready but waiting for a unit."""
        return self.start - self.ready

    @property
    def memory_wait(self) -> float:
        """Cycles the task held its unit without computing (waiting for DRAM or the GB)."""
        return max(0.0, self.held - self.compute_cycles)


@dataclass(frozen=True)
class SimResult:
    cycles: int  # end of the last task, rounded up to a whole cycle
    iteration_end: tuple[float, ...]
    runs: tuple[TaskRun, ...]  # in completion order
    busy_cycles: tuple[int, ...]  # per unit: compute cycles
    held_cycles: tuple[float, ...]  # per unit: cycles a task held it (compute + memory wait)
    dram_busy_cycles: float  # cycles with at least one DRAM transfer in flight
    dram_longest_wait: float  # most any transfer took beyond its uncontended time


CostFn = Callable[[Task, int], TaskCost]


def simulate(
    graph: TaskGraph, arch: Arch, schedule: Schedule, cost_of: CostFn, iterations: int = 1
) -> SimResult:
    """Run ``iterations`` consecutive iterations of ``graph`` on ``arch``.

    ``cost_of(task, unit_index)`` returns the task's cost on that unit (callers memoize it).
    """
    env = simpy.Environment()
    candidates = {
        kind: [i for i, u in enumerate(arch.units) if kind in u.tasks]
        for kind in {t.kind for t in graph.tasks}
    }
    dispatcher = Dispatcher(env, candidates, lambda task, unit: cost_of(task, unit).cycles)
    channel = FairShareChannel(env)
    policy = GatePolicy.of(schedule, graph)
    double_buffered = arch.double_buffered
    latency = arch.dram.latency_cycles
    tasks = graph.tasks
    done = [[env.event() for _ in tasks] for _ in range(iterations)]
    iteration_done = [env.all_of(row) for row in done]
    layer_rank = {name: r for r, name in enumerate(graph.layers)}
    runs: list[TaskRun] = []
    busy = [0] * len(arch.units)
    held = [0.0] * len(arch.units)

    def dram_transfer(cycles: int) -> simpy.Event:
        """The first bytes arrive after the access latency; the stream then shares the
        channel. Returns the event of the last byte's arrival."""
        if not latency:
            return channel.transfer(cycles)
        return env.process(_after_latency(cycles))

    def _after_latency(cycles: int):
        yield env.timeout(latency)
        yield channel.transfer(cycles)

    def execute(i: int, task: Task):
        gate = policy.gates(i, task)
        events = [done[i][d] for d in task.deps] + [done[j][t] for j, t in gate.tasks]
        if gate.iteration_done is not None:
            events.append(iteration_done[gate.iteration_done])
        if len(events) == 1:
            yield events[0]
        elif events:
            yield env.all_of(events)
        ready = env.now
        unit = yield dispatcher.request(task_priority(i, task, layer_rank), task)
        cost = cost_of(task, unit)
        start = env.now
        if cost.dram_cycles == 0:
            yield env.timeout(cost.cycles)
        elif double_buffered:
            # both start now; waiting for one and then the other ends at the later of the two
            arrived = dram_transfer(cost.dram_cycles)
            yield env.timeout(max(cost.compute_cycles, cost.gb_cycles))
            if not arrived.processed:
                yield arrived
        else:
            yield dram_transfer(cost.dram_cycles)
            yield env.timeout(cost.compute_cycles + max(0, cost.gb_cycles - cost.dram_cycles))
        end = env.now
        dispatcher.release(unit)
        busy[unit] += cost.compute_cycles
        held[unit] += end - start
        runs.append(TaskRun(i, task.index, unit, ready, start, end, cost.compute_cycles))
        done[i][task.index].succeed()

    for i in range(iterations):
        for task in tasks:
            env.process(execute(i, task))
    env.run()
    ends = [0.0] * iterations
    for r in runs:
        ends[r.iteration] = max(ends[r.iteration], r.end)
    return SimResult(
        cycles=math.ceil(env.now - 1e-9),
        iteration_end=tuple(ends),
        runs=tuple(runs),
        busy_cycles=tuple(busy),
        held_cycles=tuple(held),
        dram_busy_cycles=channel.busy,
        dram_longest_wait=channel.longest_wait,
    )

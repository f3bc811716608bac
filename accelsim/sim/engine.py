"""The simpy engine: units are resources, tasks are processes, a schedule orders iterations.

A *unit* is one compute block of the chip (a PE array or a vector unit); like a fuel pump at a
gas station it serves one task at a time, and tasks queue for it in arrival order. A *task* is
one pass of one layer (forward, error propagation, weight gradient, update, or the loss); it
waits for the tasks it depends on, takes a unit that may run its kind, holds it for the cycles
the cost model computed, and releases it. A *schedule* says how consecutive training iterations
may overlap: ``bp``, ``dfa`` and ``hybrid`` finish one iteration before the next starts, while
``pdfa`` lets the forward pass of the next iteration start on a layer as soon as that layer's
weights are updated, with up to ``depth`` iterations in flight (as in KAIST's DF-LNPU).

DRAM is one shared channel (a simpy resource of capacity 1): a task's DRAM transfer is cut into
at most ``DRAM_CHUNKS`` pieces, each waiting for the channel and holding it for its share of
``bytes / bandwidth`` cycles, so concurrent transfers interleave and together never exceed the
bandwidth. Queues (units and DRAM) serve earlier iterations first, then lower layers. With double
buffering the transfer overlaps the task's compute; without it, it precedes the compute.
Events are whole tasks, never
cycles, so run time and memory grow with the number of tasks, not with their length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import simpy

from accelsim.config.arch import Arch
from accelsim.hw.cost import TaskCost
from accelsim.lowering.graph import Task, TaskGraph

# (iteration, task index, unit index, start cycle, end cycle, wait-for-DRAM cycles)
TraceRecord = tuple[int, int, int, int, int, int]
DRAM_CHUNKS = 8


@dataclass(frozen=True)
class Schedule:
    name: str  # bp | dfa | pdfa | hybrid
    depth: int = 1  # iterations in flight; 1 puts a barrier between iterations

    @property
    def pipelined(self) -> bool:
        return self.depth > 1


@dataclass(frozen=True)
class SimResult:
    cycles: int
    iteration_end: tuple[int, ...]
    trace: tuple[TraceRecord, ...]
    busy_cycles: tuple[int, ...]  # per unit


CostFn = Callable[[Task, int], TaskCost]


def simulate(
    graph: TaskGraph, arch: Arch, schedule: Schedule, cost_of: CostFn, iterations: int = 1
) -> SimResult:
    """Run ``iterations`` consecutive iterations of ``graph`` on ``arch``.

    ``cost_of(task, unit_index)`` returns the task's cost on that unit (callers memoize it).
    """
    env = simpy.Environment()
    units = [simpy.PriorityResource(env, capacity=1) for _ in arch.units]
    dram = simpy.PriorityResource(env, capacity=1)
    candidates = {
        kind: [i for i, u in enumerate(arch.units) if kind in u.tasks]
        for kind in {t.kind for t in graph.tasks}
    }
    double_buffered = arch.double_buffered
    tasks = graph.tasks
    done = [[env.event() for _ in tasks] for _ in range(iterations)]
    iter_done = [env.all_of(row) for row in done]
    trace: list[TraceRecord] = []
    busy = [0] * len(arch.units)
    wu_of = {t.layer: t.index for t in tasks if t.kind == "wu"}
    # Queues serve earlier iterations first, then lower layers: under pdfa the first layer's
    # update finishes early so the next forward pass can start (DF-LNPU's ordering).
    layer_rank = {name: r for r, name in enumerate(graph.layers)}
    stride = len(tasks) * (len(graph.layers) + 1)
    rank = [layer_rank.get(t.layer, len(graph.layers)) * len(tasks) + t.index for t in tasks]

    def gates(i: int, task: Task) -> list[simpy.Event]:
        events = [done[i][d] for d in task.deps]
        if not schedule.pipelined:
            if not task.deps and i >= 1:
                events.append(iter_done[i - 1])
            return events
        if task.kind == "fp" and i >= schedule.depth - 1 and task.layer in wu_of:
            events.append(done[i - schedule.depth + 1][wu_of[task.layer]])
        if not task.deps and i >= schedule.depth:
            events.append(iter_done[i - schedule.depth])
        return events

    def transfer(cycles: int, priority: int, waited: list[int]):
        # A few chunks per task let concurrent transfers interleave (close to fair sharing)
        # while the event count stays bounded per task.
        chunk = -(-cycles // DRAM_CHUNKS)
        left = cycles
        while left > 0:
            with dram.request(priority=priority) as req:
                asked = env.now
                yield req
                waited.append(env.now - asked)
                step = min(chunk, left)
                yield env.timeout(step)
                left -= step

    def run(i: int, task: Task):
        events = gates(i, task)
        if events:
            yield env.all_of(events)
        choice = candidates[task.kind]
        priority = i * stride + rank[task.index]
        if len(choice) == 1:
            unit = choice[0]
            req = units[unit].request(priority=priority)
            yield req
        else:
            reqs = [units[u].request(priority=priority) for u in choice]
            fired = yield env.any_of(reqs)
            unit = next(u for u, r in zip(choice, reqs, strict=True) if r in fired)
            req = reqs[choice.index(unit)]
            for u, r in zip(choice, reqs, strict=True):
                if r is not req:
                    if r.triggered:
                        units[u].release(r)
                    else:
                        r.cancel()
        cost = cost_of(task, unit)
        start = env.now
        waited: list[int] = []
        if cost.dram_cycles == 0:
            yield env.timeout(cost.cycles)
        elif double_buffered:
            yield env.all_of(
                [
                    env.timeout(max(cost.compute_cycles, cost.gb_cycles)),
                    env.process(transfer(cost.dram_cycles, priority, waited)),
                ]
            )
        else:
            yield env.process(transfer(cost.dram_cycles, priority, waited))
            yield env.timeout(cost.compute_cycles + max(0, cost.gb_cycles - cost.dram_cycles))
        end = env.now
        units[unit].release(req)
        busy[unit] += end - start
        trace.append((i, task.index, unit, int(start), int(end), int(sum(waited))))
        done[i][task.index].succeed()

    for i in range(iterations):
        for task in tasks:
            env.process(run(i, task))
    env.run()
    ends = [0] * iterations
    for rec in trace:
        ends[rec[0]] = max(ends[rec[0]], rec[4])
    return SimResult(int(env.now), tuple(ends), tuple(trace), tuple(busy))

"""Which ready task a free unit runs next: a deterministic priority queue and a dispatcher.

A task is *ready* once its dependencies and its schedule gates have fired. Ready tasks wait in
one queue ordered by ``task_priority`` (smaller first):

1. older iterations first, so no iteration is starved by the ones behind it;
2. then by pass: forward (fp) before the loss, error tasks (ep, dfa_ep), weight gradients (wg)
   and weight updates (wu): the forward pass and the error chain are on the critical path;
3. then lower layers first: under pdfa the next forward pass needs the first layer's weights
   first, and under bp the first layer's large gradient starts its update early;
4. then the task's index in the graph (a total order, so ties never depend on event order).

The *weight-update dispatch policy* is this same order: updates run on their unit as soon as
their gradient exists, oldest iteration and lowest layer first.

The ``Dispatcher`` assigns ready tasks to free units only after every event due at the current
time has run (a deferred, lowest-priority simpy event), so tasks that become ready at the same
cycle compete by priority, not by the order simpy happened to process them. Each task goes to
the free unit that may run its kind and runs it in the fewest cycles (ties: the unit listed
first in the chip file).
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import simpy
from simpy.events import Event

from accelsim.lowering.graph import Task

PASS_RANK = {"fp": 0, "loss": 1, "ep": 2, "dfa_ep": 2, "wg": 3, "wu": 4}
# simpy runs events due at the same time by priority (URGENT 0, NORMAL 1): 2 runs after them.
LATE = 2

Priority = tuple[int, int, int, int]


def task_priority(iteration: int, task: Task, layer_rank: dict[str, int]) -> Priority:
    """Queue key of ``task`` in ``iteration`` (smaller runs first; see module doc)."""
    return (
        iteration,
        PASS_RANK[task.kind],
        layer_rank.get(task.layer, len(layer_rank)),
        task.index,
    )


class _Deferred(Event):
    """An event that fires after every other event due at the current time."""

    def __init__(self, env: simpy.Environment) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, LATE)


@dataclass(order=True)
class _Request:
    priority: Priority
    kind: str = field(compare=False)
    task: Task = field(compare=False)
    grant: simpy.Event = field(compare=False)


@dataclass
class Dispatcher:
    """Grants units to ready tasks in priority order (see module doc)."""

    env: simpy.Environment
    candidates: dict[str, Sequence[int]]  # task kind -> units that may run it
    cycles_on: Callable[[Task, int], float]  # cycles of a task on a unit (unit choice)
    _free: list[bool] = field(default_factory=list)
    _queue: list[_Request] = field(default_factory=list)
    _pending: bool = False

    def __post_init__(self) -> None:
        units = {u for us in self.candidates.values() for u in us}
        self._free = [True] * (max(units) + 1 if units else 0)

    def request(self, priority: Priority, task: Task) -> simpy.Event:
        """An event whose value is the unit granted to ``task``."""
        grant = self.env.event()
        bisect.insort(self._queue, _Request(priority, task.kind, task, grant))
        self._kick()
        return grant

    def release(self, unit: int) -> None:
        self._free[unit] = True
        self._kick()

    def _kick(self) -> None:
        if not self._pending:
            self._pending = True
            _Deferred(self.env).callbacks.append(self._dispatch)

    def _dispatch(self, _event: Event) -> None:
        self._pending = False
        waiting: list[_Request] = []
        for req in self._queue:
            free = [u for u in self.candidates[req.kind] if self._free[u]]
            if not free:
                waiting.append(req)
                continue
            unit = (
                free[0]
                if len(free) == 1
                else min(free, key=lambda u: (self.cycles_on(req.task, u), u))
            )
            self._free[unit] = False
            req.grant.succeed(unit)
        self._queue = waiting

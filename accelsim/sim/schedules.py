"""How consecutive training iterations may overlap: the schedule of each algorithm, and its gates.

- ``bp`` (bp, fa): the BP-serialized baseline; the EP chain runs last layer to first, and the
  next iteration starts when this one is done.
- ``dfa`` (dfa, sparse-dfa): every layer's EP is ``B_l e``, free to run in parallel on the
  backward units as soon as the loss is known; iterations still follow one another.
- ``hybrid`` (modular-dfa, hybrid-dfa): the task graph mixes BP chains and DFA projections;
  iterations follow one another.
- dfa and hybrid graphs trained with a weight delay of 1 (``training.weight_delay: 1`` or
  ``--weight-delay 1``) are pipelined exactly like pdfa below (``pipelines``): the delay is
  what makes the overlap legal, whichever layers train by BP. The gates are the same; how much
  overlaps follows from the graph (a BP chain down to the first layer delays its update).
- ``pdfa``: DFA whose next forward pass overlaps the current backward work. Two settings:

  * ``weight_delay`` d (0 or 1; the workload's ``training.weight_delay``, default 1 as on
    DF-LNPU): the forward pass of layer l in iteration i reads the weights written by the
    update of layer l in iteration ``i - 1 - d``. With d = 1 the forward pass of i + 1 may run
    on weights not yet updated by i; only i + 2 waits for them. With d = 0 every forward pass
    waits for the previous iteration's update of its layer.
  * ``depth`` D (the chip's ``pipeline_depth``, default 2): iterations in flight, the number of
    sets of saved activations the chip keeps. Iteration i writes layer l's output into slot
    ``i mod D``, so its forward pass of layer l waits until every reader of that slot from
    iteration i - D is done: the weight gradient of layer l + 1 (its input) and the task that
    forms layer l's error (``B_l e`` or the loss, which apply ``f'(a_l)``). A delay of d needs
    ``D >= d + 1``.

  Updates of one layer stay in order: the update of layer l in iteration i waits for the one in
  iteration i - 1 (read-modify-write of the same weights).

``gates`` is the one place that turns these rules into events to wait for.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.config.arch import Arch
from accelsim.config.errors import ConfigError
from accelsim.lowering.graph import Task, TaskGraph


@dataclass(frozen=True)
class Schedule:
    name: str  # bp | dfa | pdfa | hybrid
    depth: int = 1  # iterations in flight; 1 puts a barrier between iterations
    weight_delay: int = 0  # forward of i reads the update of i - 1 - weight_delay

    @property
    def pipelined(self) -> bool:
        return self.depth > 1


@dataclass(frozen=True)
class Gates:
    """What one task instance waits for besides its own iteration's dependencies."""

    tasks: tuple[tuple[int, int], ...]  # (iteration, task index) that must be done
    iteration_done: int | None  # an iteration that must be completely done, if any


def schedule_for(
    graph: TaskGraph, arch: Arch, depth: int | None = None, weight_delay: int = 0
) -> Schedule:
    """The schedule of ``graph`` on ``arch`` (``depth`` overrides the chip's pipeline_depth)."""
    if not pipelines(graph.schedule, weight_delay):
        # iterations are separated by a barrier: BP is the serialized baseline, and a DFA graph
        # trained on fresh weights (delay 0) waits for its updates anyway
        return Schedule(graph.schedule, 1, weight_delay)
    depth = depth if depth is not None else arch.pipeline_depth
    if graph.schedule != "pdfa" and depth < 2:
        # a chip that keeps one set of activations cannot overlap: dfa and hybrid graphs run
        # serialized there (pdfa asks for the pipeline by name, so it gets the error below)
        return Schedule(graph.schedule, 1, weight_delay)
    if weight_delay > depth - 1:
        raise ConfigError(
            arch.source,
            "pipeline_depth",
            f"at least {weight_delay + 1} iterations in flight for pdfa with weight_delay "
            f"{weight_delay} (or set training.weight_delay: 0)",
            depth,
        )
    return Schedule(graph.schedule, depth, weight_delay)


def pipelines(schedule: str, weight_delay: int) -> bool:
    """Does a graph of ``schedule`` overlap consecutive iterations? pdfa always (its default
    delay is 1); dfa and hybrid graphs (dfa, sparse-dfa, modular-dfa, hybrid-dfa) when trained
    with a weight delay of 1, which is what lets the next forward pass run before this update
    lands; bp graphs (bp, fa) never: they are the BP-serialized baseline."""
    return schedule == "pdfa" or (schedule in ("dfa", "hybrid") and weight_delay >= 1)


@dataclass(frozen=True)
class GatePolicy:
    """Turns a schedule's rules into the events each task instance waits for (module doc)."""

    schedule: Schedule
    updates: dict[str, int]  # layer -> index of its weight-update task
    slot_readers: dict[str, tuple[int, ...]]  # layer -> tasks that read its saved output

    @classmethod
    def of(cls, schedule: Schedule, graph: TaskGraph) -> GatePolicy:
        updates = {t.layer: t.index for t in graph.tasks if t.kind == "wu"}
        gradients = {t.layer: t for t in graph.tasks if t.kind == "wg"}
        readers: dict[str, tuple[int, ...]] = {}
        for layer, above in zip(graph.layers, (*graph.layers[1:], None), strict=True):
            # the error of ``layer`` (its WG's dependency) applies f'(a_l); the layer above
            # reads a_l as the input of its weight gradient
            wanted = set(gradients[layer].deps) if layer in gradients else set()
            if above is not None and above in gradients:
                wanted.add(gradients[above].index)
            readers[layer] = tuple(sorted(wanted))
        return cls(schedule, updates, readers)

    def gates(self, iteration: int, task: Task) -> Gates:
        """Cross-iteration events ``task`` of ``iteration`` waits for."""
        schedule = self.schedule
        if not schedule.pipelined:
            first = not task.deps and iteration >= 1
            return Gates((), iteration - 1 if first else None)
        wanted: list[tuple[int, int]] = []
        wu = self.updates.get(task.layer)
        if task.kind == "fp" and wu is not None:
            source = iteration - 1 - schedule.weight_delay
            if source >= 0:
                wanted.append((source, wu))
        if task.kind == "wu" and iteration >= 1:
            wanted.append((iteration - 1, task.index))
        previous = iteration - schedule.depth  # the last user of this activation slot
        if task.kind == "fp" and previous >= 0:
            wanted.extend((previous, t) for t in self.slot_readers.get(task.layer, ()))
        return Gates(tuple(wanted), None)

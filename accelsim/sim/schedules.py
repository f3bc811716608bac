"""Which schedule an algorithm runs under, and how deep the pipelined-DFA schedule goes.

- ``bp`` (bp, fa): the BP-serialized baseline; the EP chain runs last layer to first, and the
  next iteration starts when this one is done.
- ``dfa`` (dfa, sparse-dfa): every layer's EP is ``B_l e``, free to run in parallel on the
  backward units as soon as the loss is known; iterations still follow one another.
- ``hybrid`` (modular-dfa, hybrid-dfa): the task graph mixes BP chains and DFA projections;
  iterations follow one another.
- ``pdfa``: DFA whose next forward pass overlaps the current backward work: layer ``l`` of
  iteration ``i`` runs forward once its update from iteration ``i - depth + 1`` is done, with at
  most ``depth`` iterations in flight (the chip's ``pipeline_depth``, 2 by default).
"""

from __future__ import annotations

from accelsim.config.arch import Arch
from accelsim.lowering.graph import TaskGraph
from accelsim.sim.engine import Schedule


def schedule_for(graph: TaskGraph, arch: Arch, depth: int | None = None) -> Schedule:
    if graph.schedule != "pdfa":
        return Schedule(graph.schedule, 1)
    return Schedule("pdfa", depth if depth is not None else arch.pipeline_depth)

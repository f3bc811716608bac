"""The ``modular-dfa`` preset: the DFA extensions with its defaults (see ``extensions``)."""

from __future__ import annotations

from accelsim.nn.algorithms.extensions import build_extended
from accelsim.nn.algorithms.plan import Plan, PlanContext
from accelsim.nn.algorithms.registry import register


@register("modular-dfa")
def build(ctx: PlanContext) -> Plan:
    return build_extended(ctx, "modular-dfa")

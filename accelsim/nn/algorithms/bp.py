"""Back-propagation: every layer's error arrives from above through the transposed weights."""

from __future__ import annotations

from accelsim.nn.algorithms.plan import FromAbove, Plan, PlanContext
from accelsim.nn.algorithms.registry import register


@register("bp")
def build_bp(ctx: PlanContext) -> Plan:
    return Plan("bp", {layer.name: FromAbove() for layer in ctx.param_layers})

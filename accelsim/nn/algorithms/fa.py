"""Feedback alignment (Lillicrap et al. 2016): BP's path with fixed random B in place of W^T.

Each layer that passes error down does so through a fixed random array of its weight's shape
(for a conv layer: a random kernel, used in the transposed convolution); entries are Gaussian
with std 1/sqrt(fan_in of W) (scale ``fan_in``, the scale of W itself) or 1 (``unit``).
"""

from __future__ import annotations

import math

from accelsim.nn.algorithms.feedback import feedback_std, gaussian
from accelsim.nn.algorithms.plan import FromAbove, Plan, PlanContext
from accelsim.nn.algorithms.registry import register
from accelsim.nn.layers.base import FeedbackArrays, Layer


def fa_arrays(ctx: PlanContext, layer: Layer, purpose: str = "fa") -> FeedbackArrays:
    rng = ctx.rng(purpose, layer)
    return {
        param: gaussian(rng, shape, feedback_std(ctx.feedback.scale, math.prod(shape[1:])))
        for param, shape in layer.feedback_shapes().items()
    }


@register("fa")
def build_fa(ctx: PlanContext) -> Plan:
    """BP's DAG with B in place of W^T at every parameter layer (frozen ones too) that has a
    trainable layer below it; a layer with none (the lowest one) never passes error down."""
    trainable = {layer.name for layer in ctx.param_layers}
    down = {
        layer.name: fa_arrays(ctx, layer)
        for layer in ctx.layers
        if layer.feedback_shapes() and ctx.ancestors(layer.name) & trainable
    }
    return Plan("fa", {layer.name: FromAbove() for layer in ctx.param_layers}, down)

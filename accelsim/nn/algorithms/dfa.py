"""Direct feedback alignment (Nøkland 2016): each hidden layer gets the output error directly.

``d_l = (B_l e) * f'(a_l)`` with a fixed random B_l per layer; the last layer gets e itself.
For conv layers B_l is either dense (to all C x H x W units) or convolutional (one row per
channel, shared over positions), chosen by ``training.feedback.conv_mode``. ``pdfa`` (pipelined
DFA) computes the same updates; its pipeline only changes when they are applied on the chip.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

from accelsim.nn.algorithms.feedback import (
    ConvFeedback,
    DenseFeedback,
    FeedbackOperator,
    feedback_std,
    gaussian,
)
from accelsim.nn.algorithms.feedback_ops import is_sequence_layer, sequence_operator
from accelsim.nn.algorithms.plan import OUTPUT, Direct, FromAbove, Plan, PlanContext, Source
from accelsim.nn.algorithms.registry import register
from accelsim.nn.layers.base import Layer

OperatorFactory = Callable[[PlanContext, Layer, str], FeedbackOperator]


def dfa_operator(
    ctx: PlanContext, layer: Layer, signal: str = OUTPUT, purpose: str = "dfa"
) -> FeedbackOperator:
    """The default DFA operator from ``signal`` to ``layer`` (dense, or conv per conv_mode)."""
    if is_sequence_layer(layer):  # recurrent / per-step: B e_t at every step, B shared over t
        return sequence_operator(ctx, layer, signal, purpose=purpose)
    k = ctx.signal_size(signal)
    std = feedback_std(ctx.feedback.scale, k)
    rng = ctx.rng(purpose, layer)
    shape = layer.output_shape
    if layer.spec.kind == "conv" and ctx.feedback.conv_mode == "conv":
        return ConvFeedback(gaussian(rng, (shape[0], k), std), shape)
    return DenseFeedback(gaussian(rng, (math.prod(shape), k), std), shape)


def direct_plan(
    ctx: PlanContext,
    algorithm: str,
    signals: Mapping[str, str | None],
    operator: OperatorFactory = dfa_operator,
) -> Plan:
    """A plan where layer ``name`` reads ``signals[name]`` directly (None or absent: BP).

    DFA, modular DFA (signal = the module's top layer) and hybrid DFA (some layers None) are
    all calls of this with different ``signals``; ``operator`` picks the feedback form.
    """
    sources: dict[str, Source] = {}
    for layer in ctx.param_layers:
        signal = signals.get(layer.name)
        sources[layer.name] = (
            FromAbove() if signal is None else Direct(signal, operator(ctx, layer, signal))
        )
    return Plan(algorithm, sources)


@register("dfa")
def build_dfa(ctx: PlanContext) -> Plan:
    hidden = ctx.param_layers[:-1]
    return direct_plan(ctx, "dfa", {layer.name: OUTPUT for layer in hidden})


@register("pdfa")
def build_pdfa(ctx: PlanContext) -> Plan:
    plan = build_dfa(ctx)
    return Plan("pdfa", plan.sources, plan.down)

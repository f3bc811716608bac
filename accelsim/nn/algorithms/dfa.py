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
from accelsim.nn.algorithms.feedback_ops import (
    is_feature_map,
    is_sequence_layer,
    sequence_operator,
)
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
    if is_feature_map(layer) and ctx.feedback.conv_mode == "conv":
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
    all calls of this with different ``signals``; ``operator`` picks the feedback form. A
    conv/linear layer whose output only a batchnorm reads has its injection moved to that
    batchnorm's output (``injection_site``): the error reaches it through the batchnorm.
    """
    sources: dict[str, Source] = {}
    moved: set[str] = set()  # batchnorm layers that took a conv's injection
    for layer in ctx.param_layers:
        if layer.name in moved:
            continue
        signal = signals.get(layer.name)
        if signal is None:
            sources[layer.name] = FromAbove()
            continue
        site = injection_site(ctx, layer)
        if site is not layer and signal != site.name:
            sources[site.name] = Direct(signal, operator(ctx, site, signal))
            moved.add(site.name)
            sources[layer.name] = FromAbove()
        else:
            sources[layer.name] = Direct(signal, operator(ctx, layer, signal))
    return Plan(algorithm, sources)


def injection_site(ctx: PlanContext, layer: Layer) -> Layer:
    """Where DFA injects the error meant for ``layer``: the batchnorm that alone reads a conv
    or linear layer without activation (conv -> bn -> relu: the pre-activation is the
    batchnorm's output), else the layer itself."""
    if layer.spec.kind not in ("conv", "linear") or layer.spec.activation != "none":
        return layer
    if is_sequence_layer(layer):
        return layer
    readers = ctx.readers(layer.name)
    if len(readers) == 1 and readers[0].spec.kind == "batchnorm":
        return readers[0]
    return layer


def block_plan(ctx: PlanContext, algorithm: str, operator: OperatorFactory = dfa_operator) -> Plan:
    """``dfa_injection: block_outputs``: B e at the output of every residual block (an
    ``add`` layer below the classifier), BP inside each block (the layers between the add
    and the block's input, its immediate dominator); every trainable layer outside the blocks
    gets B e as in plain DFA."""
    blocks = residual_blocks(ctx)
    inside = set().union(*blocks.values()) if blocks else set()
    last = ctx.param_layers[-1].name
    signals = {
        layer.name: OUTPUT
        for layer in ctx.param_layers
        if layer.name != last and layer.name not in inside
    }
    plan = direct_plan(ctx, algorithm, signals, operator)
    sources = dict(plan.sources)
    for layer in ctx.layers:
        if layer.name in blocks:
            sources[layer.name] = Direct(OUTPUT, operator(ctx, layer, OUTPUT))
    for name in inside:
        if isinstance(sources.get(name), Direct):  # a folded batchnorm inside a block
            sources[name] = FromAbove()
    return Plan(algorithm, sources)


def residual_blocks(ctx: PlanContext) -> dict[str, set[str]]:
    """add layer -> the layers of its block: ancestors of the add strictly dominated by its
    immediate dominator (the block's input, e.g. the previous block's add)."""
    inputs = ctx.inputs
    order = {layer.name: i for i, layer in enumerate(ctx.layers)}
    order["input"] = -1
    dom: dict[str, set[str]] = {"input": {"input"}}
    for layer in ctx.layers:
        common = set.intersection(*(dom[name] for name in inputs[layer.name]))
        dom[layer.name] = common | {layer.name}
    last = ctx.layers[-1].name
    blocks: dict[str, set[str]] = {}
    for layer in ctx.layers:
        if layer.spec.kind != "add" or layer.name == last:
            continue
        head = max(dom[layer.name] - {layer.name}, key=order.__getitem__)
        blocks[layer.name] = {
            name for name in ctx.ancestors(layer.name) if head in dom[name] and name != head
        }
    return blocks


@register("dfa")
def build_dfa(ctx: PlanContext) -> Plan:
    if ctx.feedback.dfa_injection == "block_outputs":
        return block_plan(ctx, "dfa")
    hidden = ctx.param_layers[:-1]
    return direct_plan(ctx, "dfa", {layer.name: OUTPUT for layer in hidden})


@register("pdfa")
def build_pdfa(ctx: PlanContext) -> Plan:
    plan = build_dfa(ctx)
    return Plan("pdfa", plan.sources, plan.down)

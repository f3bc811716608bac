"""The backward engine: runs any ``Plan`` over the forward records of one mini-batch.

It walks the layers top-down once (reverse network order, a topological order of the DAG). At
a trainable layer it forms the error ``d`` at the pre-activation output - from the errors
arriving from the layers that read its output, summed (``FromAbove``), or from a signal through
a feedback operator (``Direct``) - and turns it into gradients. It computes the error at a
layer's input only when a layer below needs it, so pure DFA never back-propagates, and a
frozen layer (``trainable: false``) passes error down without computing gradients.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from accelsim.config.workload import NETWORK_INPUT
from accelsim.nn.algorithms.plan import OUTPUT, Direct, Plan
from accelsim.nn.kernels.activation import activation_backward
from accelsim.nn.layers.base import Layer


@dataclass(slots=True)
class Record:
    """What the forward pass keeps of one layer: pre-activation a, output h, layer cache."""

    a: np.ndarray
    h: np.ndarray
    cache: Any


def backward(
    layers: Sequence[Layer], records: Sequence[Record], e: np.ndarray, plan: Plan
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``e`` = dL/d(logits). Returns (gradients by full parameter name, d per trainable layer
    and per layer with a ``Direct`` source).

    Layers are visited in reverse network order (a topological order of the DAG). The error
    at a layer's output is the sum of the errors its readers send down; a layer computes the
    error at its inputs only when one of them needs it (``Plan.needs_error``)."""
    sends_down = plan.sends_down(layers)
    needs = plan.needs_error(layers)
    signals: dict[str, np.ndarray] = {OUTPUT: e}
    grads: dict[str, np.ndarray] = {}
    # dL/dh at a layer's output, summed over the readers that sent theirs so far
    upstream: dict[str, np.ndarray] = {layers[-1].name: e}
    for index in range(len(layers) - 1, -1, -1):
        layer, record = layers[index], records[index]
        kind = layer.spec.activation
        dh = upstream.pop(layer.name, None)
        source = plan.sources.get(layer.name)
        delta = None
        if isinstance(source, Direct):
            injected = source.operator.apply(signals[source.signal])
            delta = _through_activation(injected, record, kind)
            signals[layer.name] = delta
        elif dh is not None and (layer.trainable or sends_down[index]):
            delta = _through_activation(dh, record, kind)
            if layer.trainable:
                signals[layer.name] = delta
        if delta is None:
            continue
        if layer.trainable:
            for param, grad in layer.backward_weight(delta, record.cache).items():
                grads[f"{layer.name}.{param}"] = grad
        if not sends_down[index]:
            continue
        dx = layer.backward_data(delta, record.cache, plan.down.get(layer.name))
        parts = dx if layer.multi_input else [dx]
        for name, part in zip(_inputs(layer, layers, index), parts, strict=True):
            if needs.get(name):
                previous = upstream.get(name)
                upstream[name] = part if previous is None else previous + part
    del signals[OUTPUT]
    return grads, signals


def _inputs(layer: Layer, layers: Sequence[Layer], index: int) -> tuple[str, ...]:
    if layer.spec.inputs:
        return tuple(layer.spec.inputs)
    return (layers[index - 1].name,) if index else (NETWORK_INPUT,)


def _through_activation(dh: np.ndarray, record: Record, kind: str) -> np.ndarray:
    if kind == "none":
        return dh
    return activation_backward(np.ascontiguousarray(dh, dtype=np.float32), record.a, record.h, kind)

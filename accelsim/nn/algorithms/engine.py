"""The backward engine: runs any ``Plan`` over the forward records of one mini-batch.

It walks the layers top-down once. At a parameter layer it forms the error ``d`` at the
pre-activation output - from the error arriving from above (``FromAbove``) or from a signal
through a feedback operator (``Direct``) - and turns it into gradients. It computes the error at
a layer's input only when a layer below needs it, so pure DFA never back-propagates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

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
    """``e`` = dL/d(logits). Returns (gradients by full parameter name, d per parameter layer)."""
    sends_down = plan.sends_down(layers)
    signals: dict[str, np.ndarray] = {OUTPUT: e}
    grads: dict[str, np.ndarray] = {}
    upstream: np.ndarray | None = e  # dL/dh at the current layer's output, when known
    for index in range(len(layers) - 1, -1, -1):
        layer, record = layers[index], records[index]
        kind = layer.spec.activation
        delta = None
        if layer.has_params:
            source = plan.source(layer.name)
            if isinstance(source, Direct):
                injected = source.operator.apply(signals[source.signal])
                delta = _through_activation(injected, record, kind)
            else:
                delta = _through_activation(upstream, record, kind)
            signals[layer.name] = delta
            for param, grad in layer.backward_weight(delta, record.cache).items():
                grads[f"{layer.name}.{param}"] = grad
        elif upstream is not None and sends_down[index]:
            delta = _through_activation(upstream, record, kind)
        upstream = (
            layer.backward_data(delta, record.cache, plan.down.get(layer.name))
            if sends_down[index] and delta is not None
            else None
        )
    del signals[OUTPUT]
    return grads, signals


def _through_activation(dh: np.ndarray, record: Record, kind: str) -> np.ndarray:
    if kind == "none":
        return dh
    return activation_backward(np.ascontiguousarray(dh, dtype=np.float32), record.a, record.h, kind)

"""Measured zero fractions of a trained network: what a zero-skipping chip would skip.

For every parameter layer ``l`` of a network, on one batch of data and with the algorithm it was
trained with: ``input`` = fraction of exact zeros in the activations the layer multiplies
(``h_{l-1}``, after pooling and flattening; the data itself for the first layer) and ``error`` =
fraction of exact zeros in its error ``d_l`` (at the pre-activation output; ``e`` for the last
layer). These are the numbers ``accelsim.hw.sparsity`` turns into the work left per task.
"""

from __future__ import annotations

import numpy as np

from accelsim.nn.algorithms import backward
from accelsim.nn.kernels.loss import softmax_cross_entropy
from accelsim.nn.network import Network


def zero_fraction(array: np.ndarray) -> float:
    return float(np.count_nonzero(array == 0)) / array.size if array.size else 0.0


def measure_zero_fractions(
    network: Network, x: np.ndarray, y: np.ndarray, algorithm: str
) -> dict[str, dict[str, float]]:
    """{layer: {"input": z, "error": z}} for every parameter layer, measured on (x, y)."""
    logits, records = network.forward_records(x, update_running=False)
    classes = logits.shape[-1]
    flat = np.ascontiguousarray(logits.reshape(-1, classes), dtype=np.float32)
    labels = np.ascontiguousarray(np.asarray(y).reshape(-1), dtype=np.int64)
    _, e = softmax_cross_entropy(flat, labels)
    _, errors = backward(network.layers, records, e.reshape(logits.shape), network.plan(algorithm))
    out: dict[str, dict[str, float]] = {}
    for index, layer in enumerate(network.layers):
        if layer.trainable:
            out[layer.name] = {
                "input": zero_fraction(network.layer_input(x, records, index)),
                "error": zero_fraction(errors[layer.name]),
            }
    return out

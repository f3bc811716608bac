"""Per-layer figures of a trained network for the hardware model: feedback size, zeros.

For every parameter layer: where its error came from (``bp``: from above; ``direct``: through
a fixed feedback operator), the feedback's form, the density actually used (stored weights /
weights of the dense B onto the same target), its bytes as stored here (float32 values plus
int32 indices for CSR) against the dense B's bytes, and, measured on one batch, the fraction
of exact zeros in the layer's input activations, its output activations and its error d_l.
"""

from __future__ import annotations

import math

import numpy as np

from accelsim.nn.algorithms.engine import backward
from accelsim.nn.algorithms.feedback_ops import (
    CSRFeedback,
    DilatedConvFeedback,
    PooledSignal,
    SequenceFeedback,
    operator_bytes,
    operator_density,
)
from accelsim.nn.algorithms.plan import Direct
from accelsim.nn.kernels.loss import softmax_cross_entropy


def _zeros(array: np.ndarray) -> float:
    return float(np.count_nonzero(array == 0)) / array.size if array.size else 0.0


def _form(op) -> str:
    inner = op.inner if isinstance(op, PooledSignal) else op
    name = {
        CSRFeedback: "csr",
        DilatedConvFeedback: "dilated_conv",
        SequenceFeedback: "sequence_csr" if getattr(inner, "density", 1) < 1 else "sequence",
    }.get(type(inner))
    if name is None:
        name = type(inner).__name__.replace("Feedback", "").lower()
    return f"pooled_{name}" if isinstance(op, PooledSignal) else name


def layer_stats(network, x: np.ndarray, y: np.ndarray, algorithm: str) -> dict[str, dict]:
    """{layer: figures} for every trainable layer, zeros measured on the batch (x, y)
    (the input of a layer with several inputs is its first one)."""
    plan = network.plan(algorithm)
    logits, records = network.forward_records(x, update_running=False)
    classes = logits.shape[-1]
    flat = np.ascontiguousarray(logits.reshape(-1, classes), dtype=np.float32)
    labels = np.ascontiguousarray(np.asarray(y).reshape(-1), dtype=np.int64)
    _, e = softmax_cross_entropy(flat, labels)
    _, errors = backward(network.layers, records, e.reshape(logits.shape), plan)
    out: dict[str, dict] = {}
    for index, (layer, record) in enumerate(zip(network.layers, records, strict=True)):
        if layer.trainable:
            previous = network.layer_input(x, records, index)
            source = plan.source(layer.name)
            figures: dict = {
                "error_source": "bp",
                "feedback": "none",
                "feedback_density": 0.0,
                "feedback_bytes": 0,
                "feedback_dense_bytes": 0,
            }
            down = plan.down.get(layer.name)
            if isinstance(source, Direct):
                op = source.operator
                signal = source.signal
                k = (
                    math.prod(network.output_shape)
                    if signal == "output"
                    else math.prod(layer_by(network, signal).output_shape)
                )
                if isinstance(op, PooledSignal):
                    k = layer_by(network, signal).output_shape[0]
                if isinstance(op, SequenceFeedback):
                    dense = op.dense_matrix().size * 4
                else:
                    dense = 4 * math.prod(op.target_shape) * k
                figures.update(
                    error_source="direct",
                    signal=signal,
                    feedback=_form(op),
                    feedback_density=operator_density(op, k),
                    feedback_bytes=operator_bytes(op),
                    feedback_dense_bytes=dense,
                )
            elif down:
                size = int(sum(a.nbytes for a in down.values()))
                figures.update(
                    feedback="fa",
                    feedback_density=1.0,
                    feedback_bytes=size,
                    feedback_dense_bytes=size,
                )
            figures.update(
                input_zero_fraction=_zeros(previous),
                output_zero_fraction=_zeros(record.h),
                error_zero_fraction=_zeros(errors[layer.name]),
            )
            out[layer.name] = figures
    return out


def layer_by(network, name: str):
    return next(layer for layer in network.layers if layer.name == name)

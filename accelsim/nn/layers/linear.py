"""Fully connected layer ``a = x W^T + b`` on flattened inputs (or per time step of a sequence)."""

from __future__ import annotations

from typing import Any

import numpy as np

from accelsim.nn.kernels.linear import (
    linear_backward_data,
    linear_backward_weight,
    linear_forward,
)
from accelsim.nn.layers.base import FeedbackArrays, Layer, uniform_init


class Linear(Layer):
    """weight (out_features, in_features), bias (out_features,), as torch.nn.Linear.

    Inputs of any per-sample shape are flattened first (the implicit flatten before a linear
    layer); with ``spec.per_step`` a (T, F) sequence is mapped step by step to (T, out).
    """

    def init_params(self, rng: np.random.Generator) -> None:
        spec = self.spec
        self.params["weight"] = uniform_init(
            rng, (spec.out_features, spec.in_features), spec.in_features
        )
        if spec.bias:
            self.params["bias"] = uniform_init(rng, (spec.out_features,), spec.in_features)

    def feedback_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": self.params["weight"].shape}

    def _rows(self, x: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(x.reshape(-1, self.spec.in_features), dtype=np.float32)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        rows = self._rows(x)
        out = linear_forward(rows, self.params["weight"], self.params.get("bias"))
        return out.reshape(x.shape[0], *self.output_shape), rows

    def backward_data(
        self, delta: np.ndarray, cache: Any, feedback: FeedbackArrays | None = None
    ) -> np.ndarray:
        weight = feedback["weight"] if feedback else self.params["weight"]
        dx = linear_backward_data(self._delta_rows(delta), weight)
        return dx.reshape(delta.shape[0], *self.input_shape)

    def backward_weight(self, delta: np.ndarray, cache: Any) -> dict[str, np.ndarray]:
        dw, db = linear_backward_weight(cache, self._delta_rows(delta))
        grads = {"weight": dw}
        if "bias" in self.params:
            grads["bias"] = db
        return grads

    def _delta_rows(self, delta: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(delta.reshape(-1, self.spec.out_features), dtype=np.float32)

"""Flatten: (N, *shape) -> (N, prod(shape)); a view, free in both directions."""

from __future__ import annotations

from typing import Any

import numpy as np

from accelsim.nn.layers.base import FeedbackArrays, Layer


class Flatten(Layer):
    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        return x.reshape(x.shape[0], -1), None

    def backward_data(
        self, delta: np.ndarray, cache: Any, feedback: FeedbackArrays | None = None
    ) -> np.ndarray:
        return delta.reshape(delta.shape[0], *self.input_shape)

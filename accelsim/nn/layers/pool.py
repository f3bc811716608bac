"""Max and average pooling, 1-D and 2-D (a 1-D pool runs as a 1-high 2-D pool)."""

from __future__ import annotations

from typing import Any

import numpy as np

from accelsim.nn.kernels.pool import pool2d_backward, pool2d_forward
from accelsim.nn.layers.base import FeedbackArrays, Layer


class Pool(Layer):
    def __init__(self, spec) -> None:
        super().__init__(spec)
        one_d = spec.spatial_rank == 1
        self._kernel = (1, *spec.kernel) if one_d else tuple(spec.kernel)
        self._stride = (1, *spec.stride) if one_d else tuple(spec.stride)
        self._padding = (0, *spec.padding) if one_d else tuple(spec.padding)
        self._one_d = one_d

    def _as_2d(self, array: np.ndarray) -> np.ndarray:
        if self._one_d:
            array = array.reshape(array.shape[0], array.shape[1], 1, array.shape[2])
        return np.ascontiguousarray(array, dtype=np.float32)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        x2 = self._as_2d(x)
        y, argmax = pool2d_forward(
            x2, self._kernel, self._stride, self._padding, self.spec.pool_mode
        )
        return y.reshape(x.shape[0], *self.output_shape), (x2.shape, argmax)

    def backward_data(
        self, delta: np.ndarray, cache: Any, feedback: FeedbackArrays | None = None
    ) -> np.ndarray:
        x_shape, argmax = cache
        dx = pool2d_backward(
            self._as_2d(delta),
            argmax,
            x_shape,
            self._kernel,
            self._stride,
            self._padding,
            self.spec.pool_mode,
        )
        return dx.reshape(delta.shape[0], *self.input_shape)

"""Convolution layers, 1-D (N, C, L) and 2-D (N, C, H, W), with stride, padding, dilation, groups.

A 1-D convolution runs as a 2-D one on a (N, C, 1, L) view with a 1-high kernel, so both share
one set of kernels; parameters keep PyTorch's layouts, (C_out, C_in/groups, k) for conv1d and
(C_out, C_in/groups, kh, kw) for conv2d.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from accelsim.nn.kernels.conv import (
    conv2d_backward_data,
    conv2d_backward_weight,
    conv2d_forward,
)
from accelsim.nn.layers.base import FeedbackArrays, Layer, uniform_init


class Conv(Layer):
    def __init__(self, spec) -> None:
        super().__init__(spec)
        one_d = spec.spatial_rank == 1
        # the 2-D geometry the kernels see; a 1-D layer is 1 high
        self._stride = (1, *spec.stride) if one_d else tuple(spec.stride)
        self._padding = (0, *spec.padding) if one_d else tuple(spec.padding)
        self._dilation = (1, *spec.dilation) if one_d else tuple(spec.dilation)
        self._one_d = one_d

    @property
    def weight_shape(self) -> tuple[int, ...]:
        spec = self.spec
        return (spec.out_channels, spec.in_channels // spec.groups, *spec.kernel)

    def init_params(self, rng: np.random.Generator) -> None:
        fan_in = math.prod(self.weight_shape[1:])
        self.params["weight"] = uniform_init(rng, self.weight_shape, fan_in)
        if self.spec.bias:
            self.params["bias"] = uniform_init(rng, (self.spec.out_channels,), fan_in)

    def feedback_shapes(self) -> dict[str, tuple[int, ...]]:
        return {"weight": self.weight_shape}

    def _as_2d(self, array: np.ndarray) -> np.ndarray:
        """A (N, C, L) array or (O, I, k) weight as its 1-high 2-D view."""
        if self._one_d:
            array = array.reshape(array.shape[0], array.shape[1], 1, array.shape[2])
        return np.ascontiguousarray(array, dtype=np.float32)

    def _geometry(self) -> tuple:
        return self._stride, self._padding, self._dilation, self.spec.groups

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        x2 = self._as_2d(x)
        w2 = self._as_2d(self.params["weight"])
        y = conv2d_forward(x2, w2, self.params.get("bias"), *self._geometry())
        return y.reshape(x.shape[0], *self.output_shape), x2

    def backward_data(
        self, delta: np.ndarray, cache: Any, feedback: FeedbackArrays | None = None
    ) -> np.ndarray:
        weight = feedback["weight"] if feedback else self.params["weight"]
        dx = conv2d_backward_data(
            self._as_2d(delta), self._as_2d(weight), cache.shape, *self._geometry()
        )
        return dx.reshape(delta.shape[0], *self.input_shape)

    def backward_weight(self, delta: np.ndarray, cache: Any) -> dict[str, np.ndarray]:
        w2_shape = self._as_2d(self.params["weight"]).shape
        dw, db = conv2d_backward_weight(cache, self._as_2d(delta), w2_shape, *self._geometry())
        grads = {"weight": dw.reshape(self.weight_shape)}
        if "bias" in self.params:
            grads["bias"] = db
        return grads

"""The layers of graph workloads: add, concat, batch normalisation, dropout, global average pool.

``Add`` and ``Concat`` take several inputs (``multi_input``); their backward returns one error
per input, which the engine sums where a tensor fans out. ``BatchNorm`` trains on batch
statistics and evaluates with running ones (PyTorch's rules, accelsim.nn.kernels.batchnorm);
``Dropout`` is inverted dropout drawing its masks from a generator the network seeds.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from accelsim.config.workload import BATCHNORM_EPS, BATCHNORM_MOMENTUM
from accelsim.nn.kernels.batchnorm import (
    batchnorm_backward,
    batchnorm_forward_eval,
    batchnorm_forward_train,
)
from accelsim.nn.layers.base import FeedbackArrays, Layer


class Add(Layer):
    """a = x_1 + x_2 + ... (inputs of one shape)."""

    multi_input = True

    def forward(self, x: list[np.ndarray]) -> tuple[np.ndarray, Any]:
        out = np.array(x[0], dtype=np.float32, copy=True)
        for other in x[1:]:
            out += other
        return out, len(x)

    def backward_data(
        self, delta: np.ndarray, cache: Any, feedback: FeedbackArrays | None = None
    ) -> list[np.ndarray]:
        return [delta] * cache


class Concat(Layer):
    """a = the inputs stacked along channels (dim 0 of the per-sample shape)."""

    multi_input = True

    def forward(self, x: list[np.ndarray]) -> tuple[np.ndarray, Any]:
        sizes = [part.shape[1] for part in x]
        return np.ascontiguousarray(np.concatenate(x, axis=1), dtype=np.float32), sizes

    def backward_data(
        self, delta: np.ndarray, cache: Any, feedback: FeedbackArrays | None = None
    ) -> list[np.ndarray]:
        cuts = np.cumsum(cache)[:-1]
        return [np.ascontiguousarray(part) for part in np.split(delta, cuts, axis=1)]


class GlobalAvgPool(Layer):
    """(N, C, *spatial) -> (N, C): the mean over all spatial positions."""

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        rows = x.reshape(x.shape[0], x.shape[1], -1)
        return rows.mean(axis=2, dtype=np.float32), rows.shape[2]

    def backward_data(
        self, delta: np.ndarray, cache: Any, feedback: FeedbackArrays | None = None
    ) -> np.ndarray:
        n, c = delta.shape
        spread = np.broadcast_to((delta / np.float32(cache))[:, :, None], (n, c, cache))
        return np.ascontiguousarray(spread).reshape(n, *self.input_shape)


class Dropout(Layer):
    """Inverted dropout: in training a = x * m / (1 - p), m ~ Bernoulli(1 - p) per element;
    in evaluation a = x. ``rng`` (set by the network from its seed) draws the masks."""

    def __init__(self, spec) -> None:
        super().__init__(spec)
        self.rng = np.random.default_rng(0)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        p = self.spec.p
        if not self.training or p == 0.0:
            return x, None
        keep = self.rng.random(x.shape, dtype=np.float32) >= np.float32(p)
        mask = keep.astype(np.float32) * np.float32(1.0 / (1.0 - p))
        return x * mask, mask

    def backward_data(
        self, delta: np.ndarray, cache: Any, feedback: FeedbackArrays | None = None
    ) -> np.ndarray:
        return delta if cache is None else delta * cache


class BatchNorm(Layer):
    """torch.nn.BatchNorm1d/2d with affine parameters (weight = gamma, bias = beta) and running
    statistics (momentum 0.1; the running variance is the unbiased batch variance)."""

    def init_params(self, rng: np.random.Generator) -> None:
        channels = self.spec.out_channels
        self.params["weight"] = np.ones(channels, np.float32)
        self.params["bias"] = np.zeros(channels, np.float32)
        self.buffers["running_mean"] = np.zeros(channels, np.float32)
        self.buffers["running_var"] = np.ones(channels, np.float32)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        gamma, beta = self.params["weight"], self.params["bias"]
        if not self.training:
            y = batchnorm_forward_eval(
                x,
                gamma,
                beta,
                self.buffers["running_mean"],
                self.buffers["running_var"],
                BATCHNORM_EPS,
            )
            return y, None
        y, xhat, mean, var, invstd = batchnorm_forward_train(x, gamma, beta, BATCHNORM_EPS)
        if self.update_running:
            count = x.size // x.shape[1]
            unbiased = var * (count / max(count - 1, 1))
            m = BATCHNORM_MOMENTUM
            for key, value in (("running_mean", mean), ("running_var", unbiased)):
                buffer = self.buffers[key]
                buffer[...] = ((1.0 - m) * buffer + m * value).astype(np.float32)
        return y, (xhat, invstd)

    def _backward(self, delta: np.ndarray, cache: Any, want_dx: bool):
        if cache is None:
            raise RuntimeError(f"{self.name}: backward needs a training-mode forward pass")
        xhat, invstd = cache
        return batchnorm_backward(delta, xhat, self.params["weight"], invstd, want_dx)

    def backward_data(
        self, delta: np.ndarray, cache: Any, feedback: FeedbackArrays | None = None
    ) -> np.ndarray:
        # the exact local backward under every algorithm: gamma is a per-channel scale, no
        # weight transport to replace (as W_hh stays exact inside a recurrent layer under FA)
        dx, _, _ = self._backward(delta, cache, True)
        return dx

    def backward_weight(self, delta: np.ndarray, cache: Any) -> dict[str, np.ndarray]:
        _, dgamma, dbeta = self._backward(delta, cache, False)
        return {"weight": dgamma, "bias": dbeta}

    def fan_in(self, param: str = "weight") -> int:
        return math.prod(self.input_shape[1:])

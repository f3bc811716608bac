"""Fixed random feedback operators: how an error signal ``e`` reaches a layer directly (DFA).

An operator maps a signal of shape (N, *signal_shape) to an error of shape (N, *target_shape)
at a layer's pre-activation output. It is drawn once from a seeded generator and never trained.
New forms (sparse CSR, dilated or grouped convolutions) are new subclasses of
``FeedbackOperator``; the backward engine only calls ``apply``.

Distribution: every entry is drawn i.i.d. from a zero-mean Gaussian whose standard deviation is
``1/sqrt(fan_in)`` for scale ``fan_in`` (fan_in = K, the number of signal components one output
of the operator sums over) or 1 for scale ``unit``. See docs/algorithms.md.
"""

from __future__ import annotations

import math
import zlib

import numpy as np

from accelsim.nn.kernels.linear import linear_forward


def feedback_rng(seed: int, purpose: str, index: int) -> np.random.Generator:
    """The generator for one feedback array: depends only on (seed, purpose, layer index).

    Keying by layer index (not by draw order) keeps each B unchanged when other layers or
    algorithms are added; crc32 gives a stable number for ``purpose`` across processes.
    """
    return np.random.default_rng([seed, zlib.crc32(purpose.encode()), index])


def feedback_std(scale: str, fan_in: int) -> float:
    return 1.0 / math.sqrt(max(fan_in, 1)) if scale == "fan_in" else 1.0


def gaussian(rng: np.random.Generator, shape: tuple[int, ...], std: float) -> np.ndarray:
    return (rng.standard_normal(size=shape) * std).astype(np.float32)


class FeedbackOperator:
    """Base class: ``apply(signal) -> error`` at the target layer's pre-activation output."""

    target_shape: tuple[int, ...]

    def apply(self, signal: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def arrays(self) -> dict[str, np.ndarray]:
        """The fixed random arrays it holds (for inspection, storage size and tests)."""
        raise NotImplementedError


class DenseFeedback(FeedbackOperator):
    """``d = B e`` with B of shape (prod(target_shape), K): one weight per target unit and class.

    For a conv layer this projects the output error onto the whole C x H x W feature map
    (Nøkland 2016; Launay et al. 2020).
    """

    def __init__(self, matrix: np.ndarray, target_shape: tuple[int, ...]) -> None:
        if matrix.shape[0] != math.prod(target_shape):
            raise ValueError(f"B has {matrix.shape[0]} rows for a target of {target_shape}")
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.target_shape = tuple(target_shape)

    def apply(self, signal: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(signal.reshape(signal.shape[0], -1), dtype=np.float32)
        return linear_forward(flat, self.matrix, None).reshape(signal.shape[0], *self.target_shape)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"B": self.matrix}


class ConvFeedback(FeedbackOperator):
    """Convolutional form: ``d[c, p] = sum_k B[c, k] e_k`` at every spatial position ``p``.

    Equivalently a 1 x 1 convolution with kernel B (C x K) of the error tiled over the C x H x W
    map's spatial grid: each channel gets one projection of e, shared by all positions.
    """

    def __init__(self, matrix: np.ndarray, target_shape: tuple[int, ...]) -> None:
        if matrix.shape[0] != target_shape[0]:
            raise ValueError(f"B has {matrix.shape[0]} rows for {target_shape[0]} channels")
        self.matrix = np.ascontiguousarray(matrix, dtype=np.float32)
        self.target_shape = tuple(target_shape)

    def apply(self, signal: np.ndarray) -> np.ndarray:
        flat = np.ascontiguousarray(signal.reshape(signal.shape[0], -1), dtype=np.float32)
        per_channel = linear_forward(flat, self.matrix, None)  # (N, C)
        spatial = (1,) * (len(self.target_shape) - 1)
        tiled = np.broadcast_to(
            per_channel.reshape(*per_channel.shape, *spatial), (signal.shape[0], *self.target_shape)
        )
        return np.ascontiguousarray(tiled)

    def arrays(self) -> dict[str, np.ndarray]:
        return {"B": self.matrix}

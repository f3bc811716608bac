"""The ``Dataset`` boundary object and the input normalisation every loader applies."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Dataset:
    """Train and test splits: inputs float32 (N, *input_shape), labels int64 (N,)."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    num_classes: int

    @property
    def input_shape(self) -> tuple[int, ...]:
        return tuple(self.x_train.shape[1:])

    def reshaped(self, input_shape: tuple[int, ...]) -> Dataset:
        """The same samples viewed with another per-sample shape of equal size."""
        return Dataset(
            self.name,
            self.x_train.reshape(len(self.x_train), *input_shape),
            self.y_train,
            self.x_test.reshape(len(self.x_test), *input_shape),
            self.y_test,
            self.num_classes,
        )


def standardise(x_train: np.ndarray, x_test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shift and scale both splits by the training set's global mean and std (one scalar each).

    A global (not per-feature) statistic keeps images' relative contrast and never divides by
    the zero variance of always-blank border pixels.
    """
    mean = float(x_train.mean())
    std = float(x_train.std()) or 1.0
    scale = np.float32(1.0 / std)
    return (
        ((x_train - mean) * scale).astype(np.float32),
        ((x_test - mean) * scale).astype(np.float32),
    )

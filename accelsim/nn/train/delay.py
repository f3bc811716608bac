"""Stale weights, as a pipelined chip sees them: the gradient of step t uses the weights of t - d.

A pipelined chip (pdfa on DF-LNPU) starts the forward pass of the next input before the update
of the current one has landed, so each gradient is computed with weights that are ``d`` updates
old (``training.weight_delay``, 0 or 1, default 1 for pdfa: ``resolve_weight_delay``), while the
update itself is applied to the current weights:

    g_t = grad L(w_{max(0, t - d)}; batch_t),    w_{t+1} = optimizer(w_t, g_t).

``WeightDelay`` keeps a ring of the last ``d + 1`` parameter versions; ``stale()`` swaps the
oldest into the network for the gradient and swaps the current ones back afterwards. With
``d = 0`` it does nothing at all, so training is bit-identical to the undelayed loop.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterator

import numpy as np


class WeightDelay:
    """A ring of parameter snapshots for a gradient delay of ``delay`` optimizer steps."""

    def __init__(self, params: dict[str, np.ndarray], delay: int) -> None:
        if delay < 0:
            raise ValueError(f"weight delay must be >= 0, got {delay}")
        self.params = params  # the network's own arrays, updated in place by the optimizer
        self.delay = delay
        # ring[0] is w_{max(0, t - d)}, ring[-1] the current weights w_t
        self.ring: deque[dict[str, np.ndarray]] = deque(maxlen=delay + 1)
        if delay:
            self.ring.append(_copy(params))

    @contextlib.contextmanager
    def stale(self) -> Iterator[None]:
        """Inside the block the network holds the weights of ``delay`` steps ago."""
        if not self.delay or len(self.ring) == 1:
            yield
            return
        _load(self.params, self.ring[0])
        try:
            yield
        finally:
            _load(self.params, self.ring[-1])

    def stepped(self) -> None:
        """Record the weights after an optimizer step (drops the oldest beyond the delay)."""
        if self.delay:
            self.ring.append(_copy(self.params))


def _copy(params: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {name: array.copy() for name, array in params.items()}


def _load(params: dict[str, np.ndarray], values: dict[str, np.ndarray]) -> None:
    for name, array in params.items():
        np.copyto(array, values[name])

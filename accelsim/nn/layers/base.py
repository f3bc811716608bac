"""The layer protocol: a thin object that owns its parameters and calls the numba kernels.

A layer computes only its structural operation ``a = op(x)`` (affine map, convolution, pooling,
reshape); the network applies the layer's activation ``h = f(a)`` on top, so every training
algorithm sees the same injection point, the pre-activation output ``a``. Backward is split in
two, as the kernels are: ``backward_data`` carries an error from ``a`` down to the input (with
the layer's own weights for BP, or fixed feedback arrays of the same shapes for FA), and
``backward_weight`` turns the error at ``a`` into parameter gradients. Both take the ``cache``
that ``forward`` returned, so a layer object holds no per-batch state.

Layers with several inputs (add, concat; ``multi_input``) take a list of arrays in ``forward``
and return a list of errors, one per input, from ``backward_data``. Like a PyTorch module a
layer has a mode: ``training`` (batch statistics, dropout on) or evaluation; batch
normalisation also keeps running statistics (``buffers``), updated in training mode while
``update_running`` is set.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accelsim.config.workload import LayerSpec

FeedbackArrays = dict[str, np.ndarray]


class Layer:
    """Base class; parameter-free layers (pool, flatten) override only the three passes."""

    multi_input = False  # forward takes a list of inputs (add, concat)

    def __init__(self, spec: LayerSpec) -> None:
        self.spec = spec
        self.name = spec.name
        # local parameter name ("weight", "bias", "weight_ih", ...) -> float32 array
        self.params: dict[str, np.ndarray] = {}
        # state that is not trained (batchnorm's running statistics)
        self.buffers: dict[str, np.ndarray] = {}
        self.training = True  # mode: training (batch statistics, dropout) or evaluation
        self.update_running = True  # a training-mode forward updates the running statistics

    @property
    def has_params(self) -> bool:
        return bool(self.params)

    @property
    def trainable(self) -> bool:
        """Has parameters that training updates (``trainable: false`` keeps them fixed)."""
        return self.has_params and self.spec.trainable

    @property
    def input_shape(self) -> tuple[int, ...]:
        return self.spec.input_shape

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Per-sample shape of ``a`` (and of ``h``), without the batch dimension."""
        return self.spec.output_shape

    def init_params(self, rng: np.random.Generator) -> None:
        """Draw initial parameters; the default (no parameters) does nothing."""

    def fan_in(self, param: str = "weight") -> int:
        """Inputs feeding one output unit through ``param`` (PyTorch's definition)."""
        shape = self.params[param].shape
        return int(np.prod(shape[1:]))

    def feedback_shapes(self) -> dict[str, tuple[int, ...]]:
        """Parameters that FA replaces by fixed random arrays of the same shape in backward."""
        return {}

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        """``x`` (N, *input_shape) -> (``a`` (N, *output_shape), cache for the backward passes)."""
        raise NotImplementedError

    def backward_data(
        self, delta: np.ndarray, cache: Any, feedback: FeedbackArrays | None = None
    ) -> np.ndarray:
        """Error at ``a`` -> error at the input ``x``; ``feedback`` replaces weights (FA)."""
        raise NotImplementedError

    def backward_weight(self, delta: np.ndarray, cache: Any) -> dict[str, np.ndarray]:
        """Error at ``a`` -> gradients keyed by local parameter name (empty without params)."""
        return {}


def uniform_init(rng: np.random.Generator, shape: tuple[int, ...], fan_in: int) -> np.ndarray:
    """PyTorch's default for linear/conv weights and biases: U(-1/sqrt(fan_in), 1/sqrt(fan_in)).

    (kaiming_uniform with a = sqrt(5) reduces to this bound for weights.)
    """
    bound = 1.0 / np.sqrt(max(fan_in, 1))
    return rng.uniform(-bound, bound, size=shape).astype(np.float32)

"""A training algorithm as a plan: where each parameter layer's error comes from.

Every algorithm in accelsim (BP, FA, DFA and the DFA variants) is one ``Plan``:

- ``sources[name]`` says how layer ``name`` gets its error ``d`` at its pre-activation output:
  ``FromAbove()`` - by back-propagation from the nearest parameter layer above (through the
  parameter-free layers in between); ``Direct(signal, operator)`` - injected as
  ``d = operator(signal) * f'(a)``, where ``signal`` is the output error ``e`` ("output") or
  the error of another parameter layer above (modular DFA uses a module's top layer).
- ``down[name]`` holds, for a layer that passes error down, fixed arrays replacing its weights
  in that backward step (FA); a layer absent from ``down`` uses its own weights (BP).

The last parameter layer always takes its error from the loss (``FromAbove``): it gets ``e``.
BP = all ``FromAbove``; FA = all ``FromAbove`` with ``down`` arrays; DFA = all ``Direct`` from
"output" except the last. ``PlanContext`` gives a builder what it needs to draw a plan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from accelsim.config.errors import ConfigError
from accelsim.config.training import FeedbackSpec, TrainingSpec
from accelsim.nn.algorithms.feedback import FeedbackOperator, feedback_rng
from accelsim.nn.layers.base import FeedbackArrays, Layer

OUTPUT = "output"  # the signal name of the output error e = dL/d(logits)


@dataclass(frozen=True)
class FromAbove:
    """The error arrives by back-propagation from the layer above."""


@dataclass(frozen=True, eq=False)
class Direct:
    """The error is injected from ``signal`` through a fixed random ``operator``."""

    signal: str
    operator: FeedbackOperator


Source = FromAbove | Direct


@dataclass(frozen=True, eq=False)
class Plan:
    algorithm: str
    sources: Mapping[str, Source]
    down: Mapping[str, FeedbackArrays] = field(default_factory=dict)

    def source(self, name: str) -> Source:
        return self.sources.get(name, FromAbove())

    def check(self, layers: Sequence[Layer]) -> None:
        """Reject plans the backward engine could not run (a builder bug, not user input)."""
        param = [layer.name for layer in layers if layer.has_params]
        if not isinstance(self.source(param[-1]), FromAbove):
            raise ValueError(f"{self.algorithm}: the last layer {param[-1]} must take e")
        for position, name in enumerate(param):
            src = self.source(name)
            if (
                isinstance(src, Direct)
                and src.signal != OUTPUT
                and (src.signal not in param[position + 1 :])
            ):
                raise ValueError(
                    f"{self.algorithm}: {name} reads the error of {src.signal}, "
                    "which is not a parameter layer above it"
                )

    def sends_down(self, layers: Sequence[Layer]) -> list[bool]:
        """Per layer: must it compute the error at its input? Yes iff the nearest parameter
        layer below takes its error from above; DFA layers therefore skip backward_data."""
        flags = [False] * len(layers)
        below_needs = False
        for index, layer in enumerate(layers):
            flags[index] = below_needs
            if layer.has_params:
                below_needs = isinstance(self.source(layer.name), FromAbove)
        return flags


@dataclass(frozen=True)
class PlanContext:
    """What a plan builder may use: the layers, the training settings and the seed."""

    layers: tuple[Layer, ...]
    output_shape: tuple[int, ...]
    training: TrainingSpec
    seed: int
    source: str  # the workload's label, for error messages

    @property
    def feedback(self) -> FeedbackSpec:
        return self.training.feedback

    @property
    def param_layers(self) -> tuple[Layer, ...]:
        return tuple(layer for layer in self.layers if layer.has_params)

    def index(self, name: str) -> int:
        return next(i for i, layer in enumerate(self.layers) if layer.name == name)

    def signal_shape(self, signal: str) -> tuple[int, ...]:
        if signal == OUTPUT:
            return self.output_shape
        return self.layers[self.index(signal)].output_shape

    def signal_size(self, signal: str) -> int:
        return math.prod(self.signal_shape(signal))

    def rng(self, purpose: str, layer: Layer) -> np.random.Generator:
        return feedback_rng(self.seed, purpose, self.index(layer.name))

    def error(self, expected: str, got: object) -> ConfigError:
        return ConfigError(self.source, "training.algorithm", expected, got)

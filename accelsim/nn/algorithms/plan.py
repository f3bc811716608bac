"""A training algorithm as a plan: where each parameter layer's error comes from.

Every algorithm in accelsim (BP, FA, DFA and the DFA variants) is one ``Plan``:

- ``sources[name]`` says how layer ``name`` gets its error ``d`` at its pre-activation output:
  ``FromAbove()`` - by back-propagation from the layers that read its output (through the
  parameter-free layers in between, summed where an output fans out); ``Direct(signal,
  operator)`` - injected as
  ``d = operator(signal) * f'(a)``, where ``signal`` is the output error ``e`` ("output") or
  the error of another parameter layer above (modular DFA uses a module's top layer). A layer
  with a ``Direct`` source ignores any error arriving from above. Any layer may have one: on
  graph workloads DFA injects at a batchnorm that normalises a conv's output, and with
  ``dfa_injection: block_outputs`` at the ``add`` ending a residual block (docs/algorithms.md).
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
from accelsim.config.workload import NETWORK_INPUT
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
        trainable = [layer.name for layer in layers if layer.trainable]
        if not isinstance(self.source(trainable[-1]), FromAbove):
            raise ValueError(f"{self.algorithm}: the last layer {trainable[-1]} must take e")
        order = [layer.name for layer in layers]
        with_error = {n for n in order if n in trainable or n in self.sources}
        for name, src in self.sources.items():
            if name not in order:
                raise ValueError(f"{self.algorithm}: no layer {name}")
            if (
                isinstance(src, Direct)
                and src.signal != OUTPUT
                and (src.signal not in with_error or order.index(src.signal) <= order.index(name))
            ):
                raise ValueError(
                    f"{self.algorithm}: {name} reads the error of {src.signal}, "
                    "which is not a parameter layer above it"
                )

    def needs_error(self, layers: Sequence[Layer]) -> dict[str, bool]:
        """Per layer: must the error at its output be computed (summed over its readers)?

        A trainable layer taking its error from above needs it; a layer with a ``Direct``
        source does not; any other layer needs it iff it must pass it on (``sends_down``)."""
        return self._flow(layers)[1]

    def sends_down(self, layers: Sequence[Layer]) -> list[bool]:
        """Per layer: must it compute the error at its input(s)? Yes iff one of its inputs
        needs an error (``needs_error``); DFA layers therefore skip backward_data."""
        return self._flow(layers)[0]

    def _flow(self, layers: Sequence[Layer]) -> tuple[list[bool], dict[str, bool]]:
        needs: dict[str, bool] = {NETWORK_INPUT: False}
        sends: list[bool] = []
        for layer, inputs in zip(layers, resolve_inputs(layers), strict=True):
            down = any(needs[name] for name in inputs)
            sends.append(down)
            source = self.sources.get(layer.name)
            if isinstance(source, Direct):
                needs[layer.name] = False
            elif layer.trainable:
                needs[layer.name] = True
            else:
                needs[layer.name] = down
        return sends, needs


def resolve_inputs(layers: Sequence[Layer]) -> list[tuple[str, ...]]:
    """Per layer, the names it reads (``input`` = the network input); a spec built by hand
    without ``inputs`` reads the previous layer."""
    out: list[tuple[str, ...]] = []
    previous = NETWORK_INPUT
    for layer in layers:
        out.append(tuple(layer.spec.inputs) or (previous,))
        previous = layer.name
    return out


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
        """The layers training updates (parameter layers without ``trainable: false``)."""
        return tuple(layer for layer in self.layers if layer.trainable)

    @property
    def inputs(self) -> dict[str, tuple[str, ...]]:
        """Layer name -> the names it reads."""
        return {
            layer.name: names
            for layer, names in zip(self.layers, resolve_inputs(self.layers), strict=True)
        }

    def readers(self, name: str) -> list[Layer]:
        """The layers that read layer ``name``'s output."""
        inputs = self.inputs
        return [layer for layer in self.layers if name in inputs[layer.name]]

    def ancestors(self, name: str) -> set[str]:
        """Every layer whose output reaches ``name`` (not ``input``, not ``name`` itself)."""
        inputs = self.inputs
        seen: set[str] = set()
        stack = [i for i in inputs[name] if i != NETWORK_INPUT]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.add(current)
                stack.extend(i for i in inputs[current] if i != NETWORK_INPUT)
        return seen

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

"""``Network``: a workload's layers with their parameters, a forward pass and training directions.

``Network.from_spec(workload)`` builds the layers, draws PyTorch-style initial parameters from
the seed and exposes them as ``params`` ("conv1.weight", ...; PyTorch layouts). ``forward``
gives logits; ``loss_and_grads(x, y, algorithm)`` gives the mean softmax cross-entropy and, per
parameter, the exact gradient (``bp``) or the algorithm's update direction (fa, dfa, ...).
Feedback matrices are drawn once per algorithm from the same seed and then kept fixed.

The layers form a DAG in network order (each reads the layers its spec's ``inputs`` name).
``forward``/``loss`` evaluate (batchnorm uses running statistics, dropout is off);
``train_step`` runs in training mode (batch statistics, updated running statistics, dropout
masks from a generator seeded by the network's seed). Frozen layers (``trainable: false``)
appear in ``params`` but not in ``trainable_params`` nor in the gradients.
"""

from __future__ import annotations

import math
import zlib
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.config.training import TrainingSpec
from accelsim.config.workload import NETWORK_INPUT, Workload, load_workload
from accelsim.nn.algorithms import Plan, PlanContext, Record, backward, build_plan
from accelsim.nn.algorithms.plan import resolve_inputs
from accelsim.nn.kernels.activation import activation_forward
from accelsim.nn.kernels.loss import softmax_cross_entropy
from accelsim.nn.layers import Layer, build_layer


class Network:
    def __init__(self, workload: Workload, seed: int = 0) -> None:
        self.workload = workload
        self.seed = seed
        self.training = workload.training or TrainingSpec()
        self.layers: tuple[Layer, ...] = tuple(
            build_layer(spec, workload.source, index) for index, spec in enumerate(workload.layers)
        )
        rng = np.random.default_rng(seed)
        for layer in self.layers:
            layer.init_params(rng)
        for index, layer in enumerate(self.layers):
            if layer.spec.kind == "dropout":  # its own stream: masks depend only on the seed
                layer.rng = np.random.default_rng([seed, zlib.crc32(b"dropout"), index])
        self._inputs = resolve_inputs(self.layers)
        # the index of the last layer reading each output (to free outputs early in evaluation)
        self._last_read: dict[str, int] = {}
        for index, names in enumerate(self._inputs):
            for name in names:
                self._last_read[name] = index
        self._plans: dict[str, Plan] = {}

    @classmethod
    def from_spec(
        cls,
        source: str | Path | dict[str, Any] | Workload,
        input_shape: tuple[int, ...] | None = None,
        seed: int = 0,
    ) -> Network:
        """Build from a workload file, an already-parsed dict or a ``Workload``.

        ``input_shape`` (per sample, e.g. (1, 28, 28)) overrides the dataset's shape. With it
        the ``dataset`` section may be left out, e.g.
        ``Network.from_spec({"layers": [{"type": "linear", "out_features": 10}]},
        input_shape=(1, 28, 28))``: the workload then has a nameless dataset of that shape,
        batch size 32, and as many classes as the final layer has outputs. Such a network
        simulates like any other and trains with ``fit(net.workload, data=...)``; without
        ``data`` there is nothing to load and ``fit`` raises ``ConfigError``. Neither a
        ``dataset`` section nor ``input_shape`` is a ``ConfigError`` naming the ``dataset`` key.
        """
        if isinstance(source, Workload):
            if input_shape is not None and tuple(input_shape) != source.dataset.input_shape:
                raise ValueError("to override input_shape pass the workload file or dict")
            workload = source
        else:
            workload = load_workload(source, input_shape=input_shape)
        return cls(workload, seed)

    # -- parameters ---------------------------------------------------------------------------
    @property
    def params(self) -> dict[str, np.ndarray]:
        """Full name -> the layer's own array (in-place updates change the network)."""
        return {
            f"{layer.name}.{name}": array
            for layer in self.layers
            for name, array in layer.params.items()
        }

    @property
    def trainable_params(self) -> dict[str, np.ndarray]:
        """The parameters training updates: ``params`` without those of frozen layers."""
        return {
            f"{layer.name}.{name}": array
            for layer in self.layers
            if layer.trainable
            for name, array in layer.params.items()
        }

    @property
    def buffers(self) -> dict[str, np.ndarray]:
        """State that is not trained ("bn1.running_mean", ...); the layers' own arrays."""
        return {
            f"{layer.name}.{name}": array
            for layer in self.layers
            for name, array in layer.buffers.items()
        }

    def set_params(self, values: dict[str, np.ndarray]) -> None:
        """Copy ``values`` into the parameters (same names and shapes)."""
        params = self.params
        for name, value in values.items():
            if name not in params or params[name].shape != np.shape(value):
                raise KeyError(f"no parameter {name} of shape {np.shape(value)}")
            params[name][...] = value

    @property
    def num_params(self) -> int:
        return sum(array.size for array in self.params.values())

    @property
    def output_shape(self) -> tuple[int, ...]:
        return self.layers[-1].output_shape

    # -- passes -------------------------------------------------------------------------------
    def forward(self, x: np.ndarray) -> np.ndarray:
        """Logits, (N, classes) (or (N, T, classes) for per-step outputs)."""
        logits, _ = self._forward(x, keep=False, training=False)
        return logits

    def loss_and_grads(
        self, x: np.ndarray, y: np.ndarray, algorithm: str = "bp"
    ) -> tuple[float, dict[str, np.ndarray]]:
        loss, grads, _ = self.train_step(x, y, algorithm)
        return loss, grads

    def train_step(
        self, x: np.ndarray, y: np.ndarray, algorithm: str = "bp"
    ) -> tuple[float, dict[str, np.ndarray], np.ndarray]:
        """``loss_and_grads`` that also returns the logits (for training accuracy)."""
        plan = self.plan(algorithm)
        logits, records = self._forward(x, keep=True, training=True)
        loss, e = self._loss(logits, y)
        grads, _ = backward(self.layers, records, e, plan)
        ordered = {name: grads[name] for name in self.trainable_params}
        return loss, ordered, logits

    def loss(self, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        """(mean cross-entropy, logits) without gradients."""
        logits = self.forward(x)
        return self._loss(logits, y)[0], logits

    def use_plan(self, plan: Plan) -> None:
        """Train ``plan.algorithm`` with this plan (e.g. hand-made feedback) from now on."""
        plan.check(self.layers)
        self._plans[plan.algorithm] = plan

    def forward_records(
        self, x: np.ndarray, update_running: bool = True
    ) -> tuple[np.ndarray, list[Record]]:
        """Logits and, per layer, what the backward engine needs (a, h, cache), from a
        training-mode pass; ``update_running=False`` leaves batchnorm's running statistics
        as they are (for measurements on test data)."""
        return self._forward(x, keep=True, training=True, update_running=update_running)

    def layer_input(self, x: np.ndarray, records: list[Record], index: int) -> np.ndarray:
        """The (first) input layer ``index`` read in the pass that gave ``records``."""
        name = self._inputs[index][0]
        if name == NETWORK_INPUT:
            return np.asarray(x, dtype=np.float32)
        return records[self._index[name]].h

    def plan(self, algorithm: str) -> Plan:
        """The algorithm's plan with its fixed feedback arrays (drawn once, then cached)."""
        if algorithm not in self._plans:
            ctx = PlanContext(
                self.layers,
                self.output_shape,
                self.training.for_algorithm(algorithm),
                self.seed,
                self.workload.source,
            )
            self._plans[algorithm] = build_plan(algorithm, ctx)
        return self._plans[algorithm]

    @property
    def _index(self) -> dict[str, int]:
        return {layer.name: index for index, layer in enumerate(self.layers)}

    def _forward(
        self, x: np.ndarray, keep: bool, training: bool, update_running: bool = True
    ) -> tuple[np.ndarray, list[Record]]:
        h = np.ascontiguousarray(x, dtype=np.float32)
        if h.shape[1:] != self.layers[0].input_shape:
            h = h.reshape(h.shape[0], *self.layers[0].input_shape)
        outputs: dict[str, np.ndarray] = {NETWORK_INPUT: h}
        records: list[Record] = []
        for index, (layer, names) in enumerate(zip(self.layers, self._inputs, strict=True)):
            layer.training = training
            layer.update_running = update_running
            if layer.multi_input:
                a, cache = layer.forward([outputs[name] for name in names])
            else:
                a, cache = layer.forward(outputs[names[0]])
            kind = layer.spec.activation
            h = a if kind == "none" else activation_forward(a, kind)
            outputs[layer.name] = h
            if keep:
                records.append(Record(a, h, cache))
            else:
                for name in names:
                    if self._last_read[name] == index:
                        del outputs[name]
        return h, records

    def _loss(self, logits: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
        classes = logits.shape[-1]
        flat = np.ascontiguousarray(logits.reshape(-1, classes), dtype=np.float32)
        labels = np.ascontiguousarray(np.asarray(y).reshape(-1), dtype=np.int64)
        loss, dlogits = softmax_cross_entropy(flat, labels)
        return float(loss), dlogits.reshape(logits.shape)


def accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    """Fraction of samples (or steps) whose arg-max logit is the label."""
    predicted = logits.reshape(-1, logits.shape[-1]).argmax(axis=1)
    labels = np.asarray(y).reshape(-1)
    return float(np.mean(predicted == labels)) if labels.size else math.nan

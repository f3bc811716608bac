"""Recurrent layers (tanh RNN, LSTM, GRU) over batch-first sequences (N, T, F).

The layer runs its cell from a zero state and outputs either every hidden state (``output:
sequence``, (N, T, H)) or only the last one (``output: last``, (N, H)). Parameters are named
and laid out as in PyTorch (``weight_ih`` (G*H, F), ``weight_hh`` (G*H, H), ``bias_ih``,
``bias_hh``; LSTM gates i, f, g, o; GRU gates r, z, n) and initialised as PyTorch does,
U(-1/sqrt(H), 1/sqrt(H)).

Backward accepts the error at the output - (N, H) for a last-step layer under BP - or an error
for every step, (N, T, H), which is how DFA injects ``B e`` at each step's hidden state. Either
way it runs back-propagation through time inside the layer (docs/dfa-extensions.md says why).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from accelsim.nn.kernels.rnn import (
    CELL_GATES,
    recurrent_forward,
    recurrent_gate_errors,
    recurrent_input_error,
    recurrent_weight_grads,
)
from accelsim.nn.layers.base import FeedbackArrays, Layer


class Recurrent(Layer):
    def __init__(self, spec) -> None:
        super().__init__(spec)
        self.cell = spec.cell
        self.hidden = spec.hidden_size
        self.steps, self.features = spec.input_shape
        # error flows from h_t to h_{t-1} inside the layer (BPTT); DFA variants may turn it off
        self.through_time = True

    def init_params(self, rng: np.random.Generator) -> None:
        size = CELL_GATES[self.cell] * self.hidden
        bound = 1.0 / np.sqrt(self.hidden)
        shapes = {"weight_ih": (size, self.features), "weight_hh": (size, self.hidden)}
        if self.spec.bias:
            shapes.update(bias_ih=(size,), bias_hh=(size,))
        for name, shape in shapes.items():
            self.params[name] = rng.uniform(-bound, bound, size=shape).astype(np.float32)

    def fan_in(self, param: str = "weight_ih") -> int:
        return self.params[param].shape[1]

    def feedback_shapes(self) -> dict[str, tuple[int, ...]]:
        # FA replaces the weights that carry error to the layer below; the recurrence inside
        # the layer stays exact (as for DFA), so W_hh keeps its own transpose.
        return {"weight_ih": self.params["weight_ih"].shape}

    @property
    def injection_shape(self) -> tuple[int, int]:
        """Shape of a per-step error (T, H): where DFA injects into this layer."""
        return (self.steps, self.hidden)

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, Any]:
        x = np.ascontiguousarray(x.reshape(x.shape[0], self.steps, self.features), np.float32)
        p = self.params
        h_all, saved = recurrent_forward(
            self.cell, x, p["weight_ih"], p["weight_hh"], p.get("bias_ih"), p.get("bias_hh")
        )
        out = h_all if self.spec.output == "sequence" else np.ascontiguousarray(h_all[:, -1])
        return out, {"saved": saved, "delta": None, "gates": None}

    def _gates(self, delta: np.ndarray, cache: dict) -> tuple[np.ndarray, np.ndarray]:
        """BPTT for ``delta``, computed once and shared by backward_weight and backward_data."""
        if cache["delta"] is not delta:
            n = delta.shape[0]
            if delta.ndim == 2:  # error at the last hidden state only
                dh = np.zeros((n, self.steps, self.hidden), np.float32)
                dh[:, -1] = delta
            else:
                dh = delta.reshape(n, self.steps, self.hidden)
            cache["gates"] = recurrent_gate_errors(
                self.cell, dh, cache["saved"], self.params["weight_hh"], self.through_time
            )
            cache["delta"] = delta
        return cache["gates"]

    def backward_weight(self, delta: np.ndarray, cache: Any) -> dict[str, np.ndarray]:
        d_in, d_hid = self._gates(delta, cache)
        dw_ih, dw_hh, db_ih, db_hh = recurrent_weight_grads(cache["saved"], d_in, d_hid)
        grads = {"weight_ih": dw_ih, "weight_hh": dw_hh}
        if "bias_ih" in self.params:
            grads.update(bias_ih=db_ih, bias_hh=db_hh)
        return grads

    def backward_data(
        self, delta: np.ndarray, cache: Any, feedback: FeedbackArrays | None = None
    ) -> np.ndarray:
        d_in, _ = self._gates(delta, cache)
        weight = feedback["weight_ih"] if feedback else self.params["weight_ih"]
        dx = recurrent_input_error(d_in, weight)
        return dx.reshape(delta.shape[0], *self.input_shape)

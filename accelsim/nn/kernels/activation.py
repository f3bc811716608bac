"""Elementwise activations h = f(a) and their derivatives, for kind in relu | tanh | sigmoid | none.

    relu:    f(a) = max(a, 0)            f'(a) = 1 if a > 0 else 0   (0 at a = 0, like PyTorch)
    tanh:    f(a) = tanh(a)              f'(a) = 1 - h^2
    sigmoid: f(a) = 1 / (1 + exp(-a))    f'(a) = h (1 - h)
    none:    f(a) = a                    f'(a) = 1
The derivatives use the stored output h where that is cheaper than recomputing from a.
One fused parallel loop per call over the flattened array.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

KINDS = ("relu", "tanh", "sigmoid", "none")
_CODE = {kind: i for i, kind in enumerate(KINDS)}
_MIN_PARALLEL = 1 << 21  # below this, waking the workers costs more than the loop


@njit(cache=True, inline="always")
def _f(a, code):
    if code == 0:
        return a if a > 0 else np.float32(0.0)
    if code == 1:
        return np.tanh(a)
    if code == 2:
        return np.float32(1.0) / (np.float32(1.0) + np.exp(-a))
    return a


@njit(cache=True, inline="always")
def _df(a, h, code):
    if code == 0:
        return np.float32(1.0) if a > 0 else np.float32(0.0)
    if code == 1:
        return np.float32(1.0) - h * h
    if code == 2:
        return h * (np.float32(1.0) - h)
    return np.float32(1.0)


@njit(cache=True, parallel=True)
def _forward_par(a, code, out):
    for i in prange(a.size):
        out[i] = _f(a[i], code)


@njit(cache=True)
def _forward_seq(a, code, out):
    for i in range(a.size):
        out[i] = _f(a[i], code)


@njit(cache=True, parallel=True)
def _backward_par(dh, a, h, code, out):
    for i in prange(a.size):
        out[i] = dh[i] * _df(a[i], h[i], code)


@njit(cache=True)
def _backward_seq(dh, a, h, code, out):
    for i in range(a.size):
        out[i] = dh[i] * _df(a[i], h[i], code)


def _flat(v: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(v, np.float32).reshape(-1)


def activation_forward(a: np.ndarray, kind: str) -> np.ndarray:
    """h = f(a), a new float32 array of a's shape."""
    code = _CODE[kind]
    src = _flat(a)
    out = np.empty(src.size, np.float32)
    (_forward_par if src.size >= _MIN_PARALLEL else _forward_seq)(src, code, out)
    return out.reshape(np.shape(a))


def activation_derivative(a: np.ndarray, h: np.ndarray, kind: str) -> np.ndarray:
    """f'(a) alone (DFA multiplies it with a projected error), shape of a."""
    return activation_backward(np.ones(np.shape(a), np.float32), a, h, kind)


def activation_backward(dh: np.ndarray, a: np.ndarray, h: np.ndarray, kind: str) -> np.ndarray:
    """da = dh * f'(a), given the pre-activation a and the output h = f(a)."""
    code = _CODE[kind]
    d, src, hv = _flat(dh), _flat(a), _flat(h)
    out = np.empty(src.size, np.float32)
    (_backward_par if src.size >= _MIN_PARALLEL else _backward_seq)(d, src, hv, code, out)
    return out.reshape(np.shape(a))

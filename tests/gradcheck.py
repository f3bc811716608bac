"""Finite-difference helpers the kernel tests share (a torch-free check of every backward pass).

Imported as ``from gradcheck import ...``: pyproject's ``pythonpath = ["tests"]`` puts this
folder on ``sys.path``.
"""

from __future__ import annotations

import numpy as np


def numeric_grad(fun, v, eps=1e-6):
    """Central finite differences of the scalar fun at every element of the float64 array v."""
    grad = np.zeros_like(v)
    flat, gflat = v.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + eps
        up = fun(v)
        flat[i] = old - eps
        down = fun(v)
        flat[i] = old
        gflat[i] = (up - down) / (2 * eps)
    return grad


def assert_close(got, want, rel=1e-5):
    """float32 result vs float64 truth: error small against the array's scale."""
    scale = max(1.0, float(np.abs(want).max()))
    assert np.shape(got) == np.shape(want)
    np.testing.assert_allclose(got, want, rtol=rel, atol=rel * scale)

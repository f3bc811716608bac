"""Batch normalisation over (N, C, S) arrays: per channel c, statistics over the N x S values.

Training mode (PyTorch's ``BatchNorm1d``/``BatchNorm2d`` in ``train()``), with M = N * S:

    mu_c = (1/M) sum x,   var_c = (1/M) sum (x - mu_c)^2   (biased),   r_c = 1/sqrt(var_c + eps)
    xhat = (x - mu_c) r_c,   y = gamma_c xhat + beta_c

Backward, given dy: dbeta_c = sum dy, dgamma_c = sum dy xhat and

    dx = (gamma_c r_c / M) (M dy - dbeta_c - xhat dgamma_c).

Evaluation mode normalises with given (running) statistics: y = gamma (x - mean) / sqrt(var +
eps) + beta. Sums accumulate in float64; one parallel loop over channels per call. A (N, C)
input is (N, C, 1), a (N, C, H, W) input is (N, C, H*W).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange


@njit(cache=True, parallel=True)
def _forward_train(x, gamma, beta, eps, y, xhat, mean, var, invstd):
    n, c, s = x.shape
    m = n * s
    for ch in prange(c):
        total = 0.0
        for i in range(n):
            for j in range(s):
                total += x[i, ch, j]
        mu = total / m
        sq = 0.0
        for i in range(n):
            for j in range(s):
                d = x[i, ch, j] - mu
                sq += d * d
        v = sq / m
        r = 1.0 / np.sqrt(v + eps)
        mean[ch] = mu
        var[ch] = v
        invstd[ch] = r
        g = gamma[ch]
        b = beta[ch]
        for i in range(n):
            for j in range(s):
                xh = np.float32((x[i, ch, j] - mu) * r)
                xhat[i, ch, j] = xh
                y[i, ch, j] = g * xh + b


@njit(cache=True, parallel=True)
def _forward_eval(x, gamma, beta, mean, var, eps, y):
    n, c, s = x.shape
    for ch in prange(c):
        r = 1.0 / np.sqrt(np.float64(var[ch]) + eps)
        scale = np.float32(gamma[ch] * r)
        shift = np.float32(beta[ch] - mean[ch] * gamma[ch] * r)
        for i in range(n):
            for j in range(s):
                y[i, ch, j] = x[i, ch, j] * scale + shift


@njit(cache=True, parallel=True)
def _backward(dy, xhat, gamma, invstd, dx, dgamma, dbeta, want_dx):
    n, c, s = dy.shape
    m = n * s
    for ch in prange(c):
        sb = 0.0
        sg = 0.0
        for i in range(n):
            for j in range(s):
                sb += dy[i, ch, j]
                sg += dy[i, ch, j] * xhat[i, ch, j]
        dbeta[ch] = sb
        dgamma[ch] = sg
        if want_dx:
            k = gamma[ch] * invstd[ch] / m
            for i in range(n):
                for j in range(s):
                    dx[i, ch, j] = np.float32(k * (m * dy[i, ch, j] - sb - xhat[i, ch, j] * sg))


def _as3(x: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(x, np.float32).reshape(x.shape[0], x.shape[1], -1)


def batchnorm_forward_train(
    x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(y, xhat, batch mean (C,), biased batch variance (C,), 1/sqrt(var + eps) (C,)).

    ``x`` is (N, C, *spatial); y and xhat have its shape, the statistics are float64."""
    x3 = _as3(x)
    c = x3.shape[1]
    y = np.empty_like(x3)
    xhat = np.empty_like(x3)
    mean, var, invstd = np.empty(c), np.empty(c), np.empty(c)
    _forward_train(x3, gamma, beta, float(eps), y, xhat, mean, var, invstd)
    return y.reshape(x.shape), xhat.reshape(x.shape), mean, var, invstd


def batchnorm_forward_eval(
    x: np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float,
) -> np.ndarray:
    """y = gamma (x - mean) / sqrt(var + eps) + beta with the given per-channel statistics."""
    x3 = _as3(x)
    y = np.empty_like(x3)
    _forward_eval(x3, gamma, beta, mean, var, float(eps), y)
    return y.reshape(x.shape)


def batchnorm_backward(
    dy: np.ndarray,
    xhat: np.ndarray,
    gamma: np.ndarray,
    invstd: np.ndarray,
    want_dx: bool = True,
) -> tuple[np.ndarray | None, np.ndarray, np.ndarray]:
    """(dx or None, dgamma (C,), dbeta (C,)) of training-mode batch normalisation."""
    dy3, xh3 = _as3(dy), _as3(xhat)
    c = dy3.shape[1]
    dx = np.empty_like(dy3) if want_dx else np.empty((0, 0, 0), np.float32)
    dgamma, dbeta = np.empty(c, np.float32), np.empty(c, np.float32)
    _backward(dy3, xh3, gamma, invstd, dx, dgamma, dbeta, want_dx)
    return (dx.reshape(dy.shape) if want_dx else None), dgamma, dbeta

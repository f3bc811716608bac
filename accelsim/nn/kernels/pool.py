"""Pooling kernels (2-D, NCHW): max pooling with its argmax, and average pooling.

Max:  y[n, c, oh, ow] = max over the window of x (padding counts as -inf); ``argmax`` keeps the
      flat index ``h*W + w`` of the winner in its input plane (PyTorch's ``return_indices``), and
      the backward pass adds dy at that index.
Avg:  y = (1 / (kh*kw)) * sum over the window, padding counted as zeros (PyTorch's default
      ``count_include_pad=True``; in floor mode every window lies inside the padded input, so
      the divisor is always kh*kw). Its backward spreads dy / (kh*kw) over the window.
Work is split over the N*C planes, which are independent, so no two threads write one element.
1-D pooling is 2-D pooling with H = 1 (``pool1d_*``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from accelsim.nn.kernels._im2col import out_size

Pair = tuple[int, int]


@njit(cache=True, parallel=True)
def _max_forward(x3, kh, kw, sh, sw, ph, pw, ho, wo, y3, arg3):
    planes, h, w = x3.shape
    src = x3.reshape(x3.size)
    for q in prange(planes):
        base = q * h * w
        for oh in range(ho):
            r0 = oh * sh - ph
            i_lo, i_hi = max(0, -r0), min(kh, h - r0)
            for ow in range(wo):
                c0 = ow * sw - pw
                j_lo, j_hi = max(0, -c0), min(kw, w - c0)
                best = np.float32(-np.inf)
                where = -1
                for i in range(i_lo, i_hi):
                    row = (r0 + i) * w + c0
                    for j in range(j_lo, j_hi):
                        v = src[np.uint64(base + row + j)]
                        # PyTorch's rule: strictly greater wins (first maximum kept), NaN wins.
                        # Selects, not branches: random data mispredicts (5x slower).
                        take = (v > best) | (v != v)
                        best = v if take else best
                        where = row + j if take else where
                y3[q, oh, ow] = best
                arg3[q, oh, ow] = where


@njit(cache=True, parallel=True)
def _max_backward(dy3, arg3, dx3):
    planes, ho, wo = dy3.shape
    for q in prange(planes):
        dx = dx3[q].reshape(dx3.shape[1] * dx3.shape[2])
        dx[:] = 0.0
        for oh in range(ho):
            for ow in range(wo):
                k = arg3[q, oh, ow]
                if k >= 0:
                    dx[np.uint64(k)] += dy3[q, oh, ow]


@njit(cache=True, parallel=True)
def _avg_forward(x3, kh, kw, sh, sw, ph, pw, ho, wo, y3):
    planes, h, w = x3.shape
    src = x3.reshape(x3.size)
    scale = np.float32(1.0 / (kh * kw))
    for q in prange(planes):
        base = q * h * w
        for oh in range(ho):
            r0 = oh * sh - ph
            i_lo, i_hi = max(0, -r0), min(kh, h - r0)
            for ow in range(wo):
                c0 = ow * sw - pw
                j_lo, j_hi = max(0, -c0), min(kw, w - c0)
                acc = np.float32(0.0)
                for i in range(i_lo, i_hi):
                    row = base + (r0 + i) * w + c0
                    for j in range(j_lo, j_hi):
                        acc += src[np.uint64(row + j)]
                y3[q, oh, ow] = acc * scale


@njit(cache=True, parallel=True)
def _avg_backward(dy3, kh, kw, sh, sw, ph, pw, dx3):
    planes, h, w = dx3.shape
    ho, wo = dy3.shape[1], dy3.shape[2]
    dst = dx3.reshape(dx3.size)
    scale = np.float32(1.0 / (kh * kw))
    for q in prange(planes):
        base = q * h * w
        dst[base : base + h * w] = 0.0
        for oh in range(ho):
            r0 = oh * sh - ph
            i_lo, i_hi = max(0, -r0), min(kh, h - r0)
            for ow in range(wo):
                c0 = ow * sw - pw
                j_lo, j_hi = max(0, -c0), min(kw, w - c0)
                g = dy3[q, oh, ow] * scale
                for i in range(i_lo, i_hi):
                    row = base + (r0 + i) * w + c0
                    for j in range(j_lo, j_hi):
                        dst[np.uint64(row + j)] += g


def _out_shape(x_shape, kernel, stride, padding) -> Pair:
    return (
        out_size(x_shape[2], kernel[0], stride[0], padding[0], 1),
        out_size(x_shape[3], kernel[1], stride[1], padding[1], 1),
    )


def pool2d_forward(
    x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair, mode: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """Pool x (N, C, H, W) -> (y (N, C, Ho, Wo), argmax int32 (N, C, Ho, Wo) or None for avg)."""
    n, c, h, w = x.shape
    ho, wo = _out_shape(x.shape, kernel, stride, padding)
    assert ho > 0 and wo > 0 and mode in ("max", "avg")
    x3 = np.ascontiguousarray(x, np.float32).reshape(n * c, h, w)
    y = np.empty((n * c, ho, wo), np.float32)
    if mode == "max":
        arg = np.empty((n * c, ho, wo), np.int32)
        _max_forward(x3, *kernel, *stride, *padding, ho, wo, y, arg)
        return y.reshape(n, c, ho, wo), arg.reshape(n, c, ho, wo)
    _avg_forward(x3, *kernel, *stride, *padding, ho, wo, y)
    return y.reshape(n, c, ho, wo), None


def pool2d_backward(
    dy: np.ndarray,
    argmax: np.ndarray | None,
    x_shape: tuple,
    kernel: Pair,
    stride: Pair,
    padding: Pair,
    mode: str,
) -> np.ndarray:
    """dx (N, C, H, W) of pool2d from dy (N, C, Ho, Wo) (and argmax for max pooling)."""
    n, c, h, w = x_shape
    ho, wo = dy.shape[2], dy.shape[3]
    dy3 = np.ascontiguousarray(dy, np.float32).reshape(n * c, ho, wo)
    dx = np.empty((n * c, h, w), np.float32)
    if mode == "max":
        arg3 = np.ascontiguousarray(argmax).reshape(n * c, ho, wo)
        _max_backward(dy3, arg3, dx)
    else:
        _avg_backward(dy3, *kernel, *stride, *padding, dx)
    return dx.reshape(n, c, h, w)


def _as1(v) -> int:
    return int(v[0]) if isinstance(v, (tuple, list)) else int(v)


def pool1d_forward(
    x: np.ndarray, kernel, stride, padding, mode: str
) -> tuple[np.ndarray, np.ndarray | None]:
    """Pool x (N, C, L) -> (y (N, C, Lo), argmax (N, C, Lo) index into L, or None); ints."""
    n, c, length = x.shape
    y, arg = pool2d_forward(
        x.reshape(n, c, 1, length),
        (1, _as1(kernel)),
        (1, _as1(stride)),
        (0, _as1(padding)),
        mode,
    )
    lo = y.shape[3]
    return y.reshape(n, c, lo), None if arg is None else arg.reshape(n, c, lo)


def pool1d_backward(dy, argmax, x_shape: tuple, kernel, stride, padding, mode: str) -> np.ndarray:
    """dx (N, C, L) of pool1d."""
    n, c, length = x_shape
    lo = dy.shape[2]
    dx = pool2d_backward(
        dy.reshape(n, c, 1, lo),
        None if argmax is None else argmax.reshape(n, c, 1, lo),
        (n, c, 1, length),
        (1, _as1(kernel)),
        (1, _as1(stride)),
        (0, _as1(padding)),
        mode,
    )
    return dx.reshape(n, c, length)

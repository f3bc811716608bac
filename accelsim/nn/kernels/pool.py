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

from accelsim.nn.kernels._im2col import out_size, valid_range

Pair = tuple[int, int]


@njit(cache=True, parallel=True)
def _max_forward(x3, kh, kw, sh, sw, ph, pw, ho, wo, y3, arg3):
    planes, h, w = x3.shape
    usw = np.uint64(sw)
    for q in prange(planes):
        src = x3[q].reshape(h * w)
        for oh in range(ho):
            best = y3[q, oh]
            where = arg3[q, oh]
            best[:] = -np.inf
            where[:] = -1
            for i in range(kh):
                r = oh * sh - ph + i
                if r < 0 or r >= h:
                    continue
                for j in range(kw):
                    lo, hi = valid_range(wo, w, sw, j - pw)
                    s0 = r * w + lo * sw + j - pw  # flat index of the first valid tap
                    us0 = np.uint64(s0)
                    ulo = np.uint64(lo)
                    for k in range(np.uint64(hi - lo)):
                        v = src[us0 + k * usw]
                        # PyTorch's rule: strictly greater wins (first maximum kept), NaN wins.
                        if v > best[ulo + k] or v != v:
                            best[ulo + k] = v
                            where[ulo + k] = s0 + np.int64(k) * sw


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
    scale = np.float32(1.0 / (kh * kw))
    usw = np.uint64(sw)
    for q in prange(planes):
        src = x3[q].reshape(h * w)
        for oh in range(ho):
            acc = y3[q, oh]
            acc[:] = 0.0
            for i in range(kh):
                r = oh * sh - ph + i
                if r < 0 or r >= h:
                    continue
                for j in range(kw):
                    lo, hi = valid_range(wo, w, sw, j - pw)
                    us0 = np.uint64(r * w + lo * sw + j - pw)
                    ulo = np.uint64(lo)
                    for k in range(np.uint64(hi - lo)):
                        acc[ulo + k] += src[us0 + k * usw]
            for k in range(wo):
                acc[k] *= scale


@njit(cache=True, parallel=True)
def _avg_backward(dy3, kh, kw, sh, sw, ph, pw, dx3):
    planes, h, w = dx3.shape
    ho, wo = dy3.shape[1], dy3.shape[2]
    scale = np.float32(1.0 / (kh * kw))
    usw = np.uint64(sw)
    for q in prange(planes):
        dst = dx3[q].reshape(h * w)
        dst[:] = 0.0
        for oh in range(ho):
            g = dy3[q, oh] * scale
            for i in range(kh):
                r = oh * sh - ph + i
                if r < 0 or r >= h:
                    continue
                for j in range(kw):
                    lo, hi = valid_range(wo, w, sw, j - pw)
                    us0 = np.uint64(r * w + lo * sw + j - pw)
                    ulo = np.uint64(lo)
                    for k in range(np.uint64(hi - lo)):
                        dst[us0 + k * usw] += g[ulo + k]


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

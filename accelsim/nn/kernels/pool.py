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
from accelsim.nn.kernels._threads import num_threads

Pair = tuple[int, int]
_WORK_PER_TAP = 8  # a window element costs about as much as eight multiply-adds in BLAS


@njit(cache=True)
def _max_block(x3, kh, kw, sh, sw, ph, pw, ho, wo, lo, hi, y3, arg3):
    h, w = x3.shape[1], x3.shape[2]
    src = x3.reshape(x3.size)
    for q in range(lo, hi):
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
def _max_forward(x3, kh, kw, sh, sw, ph, pw, ho, wo, threads, y3, arg3):
    planes = x3.shape[0]
    for t in prange(threads):
        lo, hi = t * planes // threads, (t + 1) * planes // threads
        _max_block(x3, kh, kw, sh, sw, ph, pw, ho, wo, lo, hi, y3, arg3)


@njit(cache=True)
def _max_2x2_block(x3, sh, sw, ho, wo, lo, hi, y3, arg3):
    """Max over 2x2 unpadded windows of planes [lo, hi). Returns True if a window held a NaN;
    the caller then redoes the block with the NaN-aware loop (a NaN test inside the selects
    doubled the time, a test on the window's sum does not)."""
    h, w = x3.shape[1], x3.shape[2]
    src = x3.reshape(x3.size)
    dst = y3.reshape(y3.size)
    idx = arg3.reshape(arg3.size)
    nan_seen = False
    for q in range(lo, hi):
        base = q * h * w
        out = q * ho * wo
        for oh in range(ho):
            for ow in range(wo):
                k = oh * sh * w + ow * sw
                a = src[np.uint64(base + k)]
                b = src[np.uint64(base + k + 1)]
                c = src[np.uint64(base + k + w)]
                d = src[np.uint64(base + k + w + 1)]
                best, where = a, k
                take = b > best
                best, where = (b if take else best), (k + 1 if take else where)
                take = c > best
                best, where = (c if take else best), (k + w if take else where)
                take = d > best
                best, where = (d if take else best), (k + w + 1 if take else where)
                total = a + b + c + d
                nan_seen |= total != total
                dst[np.uint64(out + oh * wo + ow)] = best
                idx[np.uint64(out + oh * wo + ow)] = where
    return nan_seen


@njit(cache=True, parallel=True)
def _max_forward_2x2(x3, sh, sw, ho, wo, threads, y3, arg3):
    """2x2 unpadded max pooling (the common case), unrolled: ~4x faster than the general loop."""
    planes = x3.shape[0]
    for t in prange(threads):
        lo, hi = t * planes // threads, (t + 1) * planes // threads
        if _max_2x2_block(x3, sh, sw, ho, wo, lo, hi, y3, arg3):
            _max_block(x3, 2, 2, sh, sw, 0, 0, ho, wo, lo, hi, y3, arg3)


@njit(cache=True)
def _max_backward_block(dy3, arg3, lo, hi, dx3):
    ho, wo = dy3.shape[1], dy3.shape[2]
    for q in range(lo, hi):
        dx = dx3[q].reshape(dx3.shape[1] * dx3.shape[2])
        dx[:] = 0.0
        for oh in range(ho):
            for ow in range(wo):
                k = arg3[q, oh, ow]
                if k >= 0:
                    dx[np.uint64(k)] += dy3[q, oh, ow]


@njit(cache=True, parallel=True)
def _max_backward(dy3, arg3, threads, dx3):
    planes = dy3.shape[0]
    for t in prange(threads):
        _max_backward_block(dy3, arg3, t * planes // threads, (t + 1) * planes // threads, dx3)


@njit(cache=True)
def _avg_forward_block(x3, kh, kw, sh, sw, ph, pw, ho, wo, lo, hi, y3):
    h, w = x3.shape[1], x3.shape[2]
    src = x3.reshape(x3.size)
    scale = np.float32(1.0 / (kh * kw))
    for q in range(lo, hi):
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
def _avg_forward(x3, kh, kw, sh, sw, ph, pw, ho, wo, threads, y3):
    planes = x3.shape[0]
    for t in prange(threads):
        lo, hi = t * planes // threads, (t + 1) * planes // threads
        _avg_forward_block(x3, kh, kw, sh, sw, ph, pw, ho, wo, lo, hi, y3)


@njit(cache=True)
def _avg_backward_block(dy3, kh, kw, sh, sw, ph, pw, lo, hi, dx3):
    h, w = dx3.shape[1], dx3.shape[2]
    ho, wo = dy3.shape[1], dy3.shape[2]
    dst = dx3.reshape(dx3.size)
    scale = np.float32(1.0 / (kh * kw))
    for q in range(lo, hi):
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


@njit(cache=True, parallel=True)
def _avg_backward(dy3, kh, kw, sh, sw, ph, pw, threads, dx3):
    planes = dy3.shape[0]
    for t in prange(threads):
        lo, hi = t * planes // threads, (t + 1) * planes // threads
        _avg_backward_block(dy3, kh, kw, sh, sw, ph, pw, lo, hi, dx3)


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
    threads = num_threads(n * c, _WORK_PER_TAP * n * c * ho * wo * kernel[0] * kernel[1])
    if mode == "max":
        arg = np.empty((n * c, ho, wo), np.int32)
        if tuple(kernel) == (2, 2) and tuple(padding) == (0, 0):
            if threads == 1:  # no parallel region: waking idle workers can cost ms under load
                if _max_2x2_block(x3, *stride, ho, wo, 0, n * c, y, arg):
                    _max_block(x3, 2, 2, *stride, 0, 0, ho, wo, 0, n * c, y, arg)
            else:
                _max_forward_2x2(x3, *stride, ho, wo, threads, y, arg)
        else:
            geo = (*kernel, *stride, *padding, ho, wo)
            if threads == 1:
                _max_block(x3, *geo, 0, n * c, y, arg)
            else:
                _max_forward(x3, *geo, threads, y, arg)
        return y.reshape(n, c, ho, wo), arg.reshape(n, c, ho, wo)
    geo = (*kernel, *stride, *padding, ho, wo)
    if threads == 1:
        _avg_forward_block(x3, *geo, 0, n * c, y)
    else:
        _avg_forward(x3, *geo, threads, y)
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
        threads = num_threads(n * c, _WORK_PER_TAP * dx.size)
        if threads == 1:
            _max_backward_block(dy3, arg3, 0, n * c, dx)
        else:
            _max_backward(dy3, arg3, threads, dx)
    else:
        work = _WORK_PER_TAP * n * c * ho * wo * kernel[0] * kernel[1]
        threads = num_threads(n * c, work)
        if threads == 1:
            _avg_backward_block(dy3, *kernel, *stride, *padding, 0, n * c, dx)
        else:
            _avg_backward(dy3, *kernel, *stride, *padding, threads, dx)
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

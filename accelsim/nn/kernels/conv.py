"""Convolution kernels (2-D, NCHW, PyTorch layouts) as GEMMs: forward, data and weight gradient.

Forward:        y[n, o, p]   = b[o] + sum_k W[o, k] col_n[k, p]      (per group)
Backward data:  dx_n         = col2im(W^T dy_n)
Backward weight: dW[o, k]    = sum_n sum_p dy[n, o, p] col_n[k, p],  db[o] = sum_{n,p} dy[n, o, p]
where k runs over (c, i, j) of the group's input channels and kernel taps and p over output
positions (see ``_im2col``). Stride-1 convolutions with enough channels skip the ``col`` copy
and sum one shifted GEMM per kernel tap instead (``_conv_shift``); the rest build ``col`` for a
block of samples and multiply once. The batch is split into one contiguous block per numba
thread, each with its own buffers and single-threaded BLAS. 1-D convolutions are 2-D ones with
H = 1 (``conv1d_*``).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from accelsim.nn.kernels import _conv_batched as batched
from accelsim.nn.kernels import _conv_shift as shift
from accelsim.nn.kernels._im2col import col2im, im2col, out_size
from accelsim.nn.kernels._threads import kernel_blas_single_threaded, num_threads

Pair = tuple[int, int]


# Each kernel is a serial function over a block of samples [lo, hi) plus a thin parallel
# dispatcher: numba compiled the same body ~40 % slower when it sat directly inside prange.


@njit(cache=True)
def _forward_block(x4, w3, b, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, lo, hi, per, y4):
    groups, cg = x4.shape[1], x4.shape[2]
    cog = w3.shape[1]
    p = ho * wo
    col = np.empty((cg * kh * kw, per * p), np.float32)
    out = np.empty((cog, per * p), np.float32)
    for n0 in range(lo, hi, per):
        m = min(per, hi - n0)
        if m < per:  # the last, shorter block gets buffers of its own width
            col = np.empty((cg * kh * kw, m * p), np.float32)
            out = np.empty((cog, m * p), np.float32)
        for g in range(groups):
            for s in range(m):
                im2col(x4[n0 + s, g], kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, col, s * p)
            np.dot(w3[g], col, out)
            for s in range(m):
                dst = y4[n0 + s, g]
                for o in range(cog):
                    bias = b[g * cog + o] if b.shape[0] > 0 else np.float32(0.0)
                    for q in range(p):
                        dst[o, q] = out[o, s * p + q] + bias


@njit(cache=True, parallel=True)
def _forward(x4, w3, b, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, threads, per, y4):
    n = x4.shape[0]
    for t in prange(threads):
        lo, hi = t * n // threads, (t + 1) * n // threads
        _forward_block(x4, w3, b, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, lo, hi, per, y4)


@njit(cache=True)
def _backward_data_block(dy4, wt3, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, lo, hi, per, dx4):
    groups, cog = dy4.shape[1], dy4.shape[2]
    p = ho * wo
    dcol = np.empty((wt3.shape[1], per * p), np.float32)
    dyb = np.empty((cog, per * p), np.float32)
    for n0 in range(lo, hi, per):
        m = min(per, hi - n0)
        if m < per:
            dcol = np.empty((wt3.shape[1], m * p), np.float32)
            dyb = np.empty((cog, m * p), np.float32)
        for s in range(m):
            dx4[n0 + s] = 0.0
        for g in range(groups):
            for s in range(m):
                dyb[:, s * p : (s + 1) * p] = dy4[n0 + s, g]
            np.dot(wt3[g], dyb, dcol)
            for s in range(m):
                col2im(dcol, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, s * p, dx4[n0 + s, g])


@njit(cache=True, parallel=True)
def _backward_data(dy4, wt3, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, threads, per, dx4):
    n = dy4.shape[0]
    for t in prange(threads):
        lo, hi = t * n // threads, (t + 1) * n // threads
        _backward_data_block(dy4, wt3, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, lo, hi, per, dx4)


@njit(cache=True)
def _backward_weight_block(x4, dy4, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, lo, hi, per, dw3, db):
    groups, cg = x4.shape[1], x4.shape[2]
    cog = dy4.shape[2]
    p = ho * wo
    col = np.empty((cg * kh * kw, per * p), np.float32)
    dyb = np.empty((cog, per * p), np.float32)
    tmp = np.empty((cog, cg * kh * kw), np.float32)
    dw3[:] = 0.0
    db[:] = 0.0
    for n0 in range(lo, hi, per):
        m = min(per, hi - n0)
        if m < per:
            col = np.empty((cg * kh * kw, m * p), np.float32)
            dyb = np.empty((cog, m * p), np.float32)
        for g in range(groups):
            for s in range(m):
                im2col(x4[n0 + s, g], kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, col, s * p)
                dyb[:, s * p : (s + 1) * p] = dy4[n0 + s, g]
            np.dot(dyb, col.T, tmp)
            dw3[g] += tmp
            for o in range(cog):
                db[g * cog + o] += dyb[o].sum()


@njit(cache=True, parallel=True)
def _backward_weight(
    x4, dy4, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, threads, per, dw_parts, db_parts
):
    n = x4.shape[0]
    for t in prange(threads):
        lo, hi = t * n // threads, (t + 1) * n // threads
        _backward_weight_block(
            x4, dy4, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, lo, hi, per, dw_parts[t], db_parts[t]
        )


# Samples per im2col GEMM: enough to give the GEMM about this many columns (small outputs,
# e.g. MNIST-1D's length-10 feature maps, otherwise pay BLAS call overhead per sample).
GEMM_MIN_COLUMNS = 256


def _per_block(p: int, n: int, threads: int) -> int:
    return max(1, min(-(-GEMM_MIN_COLUMNS // p), -(-n // threads)))


# Stride-1 forward passes and weight gradients use shifted GEMMs (``_conv_shift``) when the
# group has at least this many input channels: the per-tap GEMMs have K = C_in, and below this
# im2col + one GEMM measured faster (LeNet's 1- and 3-channel inputs).
SHIFT_MIN_CHANNELS = 4


def _tap_major(w: np.ndarray, groups: int) -> np.ndarray:
    """Weights (Co, Cg, kh, kw) -> (G, kh*kw, Cog, Cg), contiguous: one matrix per tap."""
    co, cg, kh, kw = w.shape
    w4 = np.asarray(w, np.float32).reshape(groups, co // groups, cg, kh * kw)
    return np.ascontiguousarray(w4.transpose(0, 3, 1, 2))


def _work(n: int, co: int, kg: int, p: int) -> int:
    """Rough cost of one pass in multiply-add units: the GEMM plus the column copy, which costs
    about as much per element as ten multiply-adds in BLAS."""
    return n * kg * p * (co + 10)


VARIANTS = ("shift", "im2col", "batched")


def choose_variant(
    op: str,
    x_shape: tuple,
    w_shape: tuple,
    stride: Pair,
    padding: Pair,
    dilation: Pair,
    groups: int,
) -> str:
    """Which kernel computes ``op`` ("forward", "data" or "weight") of this convolution.

    Measured on VGG-16 and small-CNN shapes (docs/kernels.md, "Kernel selection"):
    small maps with a long reduction (Ho*Wo <= 16, Cg*kh*kw >= 256) take one wide GEMM per
    block of samples ("batched"); otherwise the data gradient takes im2col + GEMM (the
    shifted GEMMs measured 1.1-2.8x slower on every shape tried), and the forward pass and
    weight gradient take the shifted GEMMs when the stride is 1 and a group has at least
    ``SHIFT_MIN_CHANNELS`` input channels, im2col otherwise.
    """
    if op not in OPS:
        raise ValueError(f"unknown convolution op {op!r}; expected one of {OPS}")
    c = x_shape[1]
    kh, kw, ho, wo = _geometry(x_shape, w_shape, stride, padding, dilation)
    cg = c // groups
    if ho * wo <= BATCHED_MAX_POSITIONS and cg * kh * kw >= BATCHED_MIN_K:
        return "batched"
    if op == "data" or tuple(stride) != (1, 1) or cg < SHIFT_MIN_CHANNELS:
        return "im2col"
    return "shift"


OPS = ("forward", "data", "weight")
# The per-sample kernels' GEMMs have only Ho*Wo (or Ho*Wp) columns per sample; at 4x4 maps with
# K = 2304..4608 the batched GEMM measured 1.0-1.7x faster, at 8x8 it was 0-30 % slower.
BATCHED_MAX_POSITIONS = 16
BATCHED_MIN_K = 256


def _check_variant(variant: str, op: str, stride, padding, dilation, kh: int, kw: int) -> None:
    """Reject a forced variant that cannot compute this convolution."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown convolution variant {variant!r}; expected one of {VARIANTS}")
    if variant != "shift":
        return
    if tuple(stride) != (1, 1):
        raise ValueError("the shift variant needs stride 1")
    if op == "data" and (
        padding[0] > (kh - 1) * dilation[0] or padding[1] > (kw - 1) * dilation[1]
    ):
        raise ValueError("the shift variant's data gradient needs padding <= (k - 1) * dilation")


def _geometry(x_shape, w_shape, stride, padding, dilation):
    _, _, h, w = x_shape
    _, _, kh, kw = w_shape
    ho = out_size(h, kh, stride[0], padding[0], dilation[0])
    wo = out_size(w, kw, stride[1], padding[1], dilation[1])
    return kh, kw, ho, wo


def conv2d_forward(
    x: np.ndarray,
    w: np.ndarray,
    b: np.ndarray | None,
    stride: Pair,
    padding: Pair,
    dilation: Pair,
    groups: int,
    *,
    variant: str | None = None,
) -> np.ndarray:
    """y = conv2d(x, w) + b for x (N, C, H, W), w (Co, C//groups, kh, kw) -> y (N, Co, Ho, Wo).

    ``variant`` forces one of ``VARIANTS`` (tests); by default :func:`choose_variant` picks."""
    n, c, h, wid = x.shape
    co = w.shape[0]
    kh, kw, ho, wo = _geometry(x.shape, w.shape, stride, padding, dilation)
    assert ho > 0 and wo > 0 and c % groups == 0 and co % groups == 0
    x4 = np.ascontiguousarray(x, np.float32).reshape(n, groups, c // groups, h, wid)
    w3 = np.ascontiguousarray(w, np.float32).reshape(groups, co // groups, -1)
    bias = np.zeros(0, np.float32) if b is None else np.ascontiguousarray(b, np.float32)
    y = np.empty((n, groups, co // groups, ho * wo), np.float32)
    threads = num_threads(n, _work(n, co, w3.shape[2], ho * wo))
    kernel_blas_single_threaded()
    variant = variant or choose_variant(
        "forward", x.shape, w.shape, stride, padding, dilation, groups
    )
    _check_variant(variant, "forward", stride, padding, dilation, kh, kw)
    if variant == "batched":
        per = batched.samples_per_block(n, w3.shape[2], ho * wo)
        geo = (kh, kw, *stride, *padding, *dilation, ho, wo)
        batched.forward(
            x4,
            w3,
            bias,
            *geo,
            num_threads(co // groups, _work(n, co, w3.shape[2], ho * wo)),
            per,
            y,
        )
    elif variant == "shift":
        wt4 = _tap_major(w, groups)
        if threads == 1:  # no parallel region: waking idle workers can cost ms under load
            shift.forward_block(x4, wt4, bias, kh, kw, *padding, *dilation, ho, wo, 0, n, y)
        else:
            shift.forward(x4, wt4, bias, kh, kw, *padding, *dilation, ho, wo, threads, y)
    else:
        per = _per_block(ho * wo, n, threads)
        geo = (kh, kw, *stride, *padding, *dilation, ho, wo)
        if threads == 1:
            _forward_block(x4, w3, bias, *geo, 0, n, per, y)
        else:
            _forward(x4, w3, bias, *geo, threads, per, y)
    return y.reshape(n, co, ho, wo)


def conv2d_backward_data(
    dy: np.ndarray,
    w: np.ndarray,
    x_shape: tuple,
    stride: Pair,
    padding: Pair,
    dilation: Pair,
    groups: int,
    *,
    variant: str | None = None,
) -> np.ndarray:
    """dx = d loss / d x of conv2d, given dy (N, Co, Ho, Wo) and w; returns (N, C, H, W)."""
    n, c, h, wid = x_shape
    co = w.shape[0]
    kh, kw, ho, wo = _geometry(x_shape, w.shape, stride, padding, dilation)
    dy4 = np.ascontiguousarray(dy, np.float32).reshape(n, groups, co // groups, ho * wo)
    w3 = np.asarray(w, np.float32).reshape(groups, co // groups, -1)
    wt3 = np.ascontiguousarray(w3.transpose(0, 2, 1))
    dx = np.empty((n, groups, c // groups, h, wid), np.float32)
    threads = num_threads(n, _work(n, co, wt3.shape[1], ho * wo))
    kernel_blas_single_threaded()
    variant = variant or choose_variant("data", x_shape, w.shape, stride, padding, dilation, groups)
    _check_variant(variant, "data", stride, padding, dilation, kh, kw)
    if variant == "batched":
        per = batched.samples_per_block(n, wt3.shape[1], ho * wo)
        geo = (kh, kw, *stride, *padding, *dilation, ho, wo)
        w3c = np.ascontiguousarray(w3)
        batched.backward_data(
            dy4, w3c, *geo, num_threads(c // groups, _work(n, co, wt3.shape[1], ho * wo)), per, dx
        )
    elif variant == "shift":
        dy5 = dy4.reshape(n, groups, co // groups, ho, wo)
        wt4 = _tap_major(w, groups)
        geo = (kh, kw, *padding, *dilation, h, wid)
        if threads == 1:
            shift.backward_data_block(dy5, wt4, *geo, 0, n, dx)
        else:
            shift.backward_data(dy5, wt4, *geo, threads, dx)
    else:
        per = _per_block(ho * wo, n, threads)
        geo = (kh, kw, *stride, *padding, *dilation, ho, wo)
        if threads == 1:
            _backward_data_block(dy4, wt3, *geo, 0, n, per, dx)
        else:
            _backward_data(dy4, wt3, *geo, threads, per, dx)
    return dx.reshape(n, c, h, wid)


def conv2d_backward_weight(
    x: np.ndarray,
    dy: np.ndarray,
    w_shape: tuple,
    stride: Pair,
    padding: Pair,
    dilation: Pair,
    groups: int,
    *,
    variant: str | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(dW (Co, C//groups, kh, kw), db (Co,)) of conv2d from x and dy."""
    n, c, h, wid = x.shape
    co = w_shape[0]
    kh, kw, ho, wo = _geometry(x.shape, w_shape, stride, padding, dilation)
    x4 = np.ascontiguousarray(x, np.float32).reshape(n, groups, c // groups, h, wid)
    dy4 = np.ascontiguousarray(dy, np.float32).reshape(n, groups, co // groups, ho * wo)
    kg = (c // groups) * kh * kw
    threads = num_threads(n, _work(n, co, kg, ho * wo))
    cg, cog = c // groups, co // groups
    variant = variant or choose_variant(
        "weight", x.shape, w_shape, stride, padding, dilation, groups
    )
    _check_variant(variant, "weight", stride, padding, dilation, kh, kw)
    if variant == "batched":
        kernel_blas_single_threaded()
        dw3 = np.empty((groups, cog, kg), np.float32)
        db = np.empty(co, np.float32)
        per = batched.samples_per_block(n, kg, ho * wo)
        geo = (kh, kw, *stride, *padding, *dilation, ho, wo)
        batched.backward_weight(
            x4, dy4, *geo, num_threads(cog, _work(n, co, kg, ho * wo)), per, dw3, db
        )
        return dw3.reshape(w_shape), db
    db_parts = np.empty((threads, co), np.float32)
    if variant == "shift":
        dw_parts = np.empty((threads, groups, kh * kw, cog, cg), np.float32)
        dy5 = dy4.reshape(n, groups, cog, ho, wo)
        kernel_blas_single_threaded()
        geo = (kh, kw, *padding, *dilation)
        if threads == 1:
            shift.backward_weight_block(x4, dy5, *geo, 0, n, dw_parts[0], db_parts[0])
        else:
            shift.backward_weight(x4, dy5, *geo, threads, dw_parts, db_parts)
        dwt = dw_parts.sum(axis=0) if threads > 1 else dw_parts[0]
        dw = np.ascontiguousarray(dwt.transpose(0, 2, 3, 1)).reshape(w_shape)
        return dw, (db_parts.sum(axis=0) if threads > 1 else db_parts[0])
    dw_parts = np.empty((threads, groups, co // groups, kg), np.float32)
    per = _per_block(ho * wo, n, threads)
    kernel_blas_single_threaded()
    geo = (kh, kw, *stride, *padding, *dilation, ho, wo)
    if threads == 1:
        _backward_weight_block(x4, dy4, *geo, 0, n, per, dw_parts[0], db_parts[0])
    else:
        _backward_weight(x4, dy4, *geo, threads, per, dw_parts, db_parts)
    dw = dw_parts.sum(axis=0) if threads > 1 else dw_parts[0]
    db = db_parts.sum(axis=0) if threads > 1 else db_parts[0]
    return dw.reshape(w_shape).astype(np.float32, copy=False), db


def _as1(v) -> int:
    return int(v[0]) if isinstance(v, (tuple, list)) else int(v)


def _pairs1(stride, padding, dilation) -> tuple[Pair, Pair, Pair]:
    return (1, _as1(stride)), (0, _as1(padding)), (1, _as1(dilation))


def conv1d_forward(
    x, w, b, stride, padding, dilation, groups: int, *, variant: str | None = None
) -> np.ndarray:
    """conv1d for x (N, C, L), w (Co, C//groups, k) -> (N, Co, Lo); ints or 1-tuples."""
    s, p, d = _pairs1(stride, padding, dilation)
    y = conv2d_forward(x[:, :, None, :], w[:, :, None, :], b, s, p, d, groups, variant=variant)
    return y.reshape(y.shape[0], y.shape[1], y.shape[3])


def conv1d_backward_data(
    dy, w, x_shape: tuple, stride, padding, dilation, groups: int, *, variant: str | None = None
) -> np.ndarray:
    """dx (N, C, L) of conv1d."""
    s, p, d = _pairs1(stride, padding, dilation)
    n, c, length = x_shape
    dx = conv2d_backward_data(
        dy[:, :, None, :], w[:, :, None, :], (n, c, 1, length), s, p, d, groups, variant=variant
    )
    return dx.reshape(x_shape)


def conv1d_backward_weight(
    x, dy, w_shape: tuple, stride, padding, dilation, groups: int, *, variant: str | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(dW (Co, C//groups, k), db (Co,)) of conv1d."""
    s, p, d = _pairs1(stride, padding, dilation)
    co, cg, k = w_shape
    dw, db = conv2d_backward_weight(
        x[:, :, None, :], dy[:, :, None, :], (co, cg, 1, k), s, p, d, groups, variant=variant
    )
    return dw.reshape(w_shape), db

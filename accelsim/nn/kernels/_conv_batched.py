"""Convolutions as one wide im2col GEMM per block of samples, the GEMM split over threads.

The per-sample kernels (``_conv_shift`` and the im2col path in ``conv``) give each numba thread
whole samples and multiply one sample's matrices at a time. When the feature maps are small and
the channels many (VGG-16's 8x8, 4x4 and 2x2 layers on CIFAR-10) those matrices have only
``Ho*Wo`` (or ``Ho*Wp``) = 4..80 columns against K = C*kh*kw = 1152..4608 rows, and BLAS runs
far below its peak on such thin products (a 512->512 3x3 layer at 4x4: forward 2x, data
gradient 4-5x slower than torch). Here the columns of a block of ``m`` samples sit side by side
in one ``col`` (K x m*Ho*Wo), built in parallel by sample, and the product is one wide GEMM whose
output rows are split between the threads:

    forward:          Y  (Cog x mP) = W (Cog x K) @ col (K x mP)       threads split Cog
    backward data:    dcol (K x mP) = W^T (K x Cog) @ dY (Cog x mP)     threads split the input
                      channels (rows (c, i, j) of dcol), then col2im their own channels
    backward weight:  dW (Cog x K) += dY (Cog x mP) @ col^T (mP x K)    threads split Cog

Every output element is written by one thread, so nothing is reduced across threads and the
result does not depend on how the samples fall into blocks beyond float32 summation order
within one BLAS call. Blocks hold as many samples as fit in ``COL_BUDGET_FLOATS`` of ``col``.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from accelsim.nn.kernels._gemm import gemm
from accelsim.nn.kernels._im2col import col2im, im2col

# Size of the column buffer of one block, in floats (16 MiB): large enough that VGG-16's 4x4
# layers at batch 64 need one or two blocks, small enough to stay well inside the 32 MiB L3.
COL_BUDGET_FLOATS = 4 * 1024 * 1024


def samples_per_block(n: int, k: int, p: int) -> int:
    """Samples per block: equal blocks, each with at most COL_BUDGET_FLOATS of ``col``."""
    fit = max(1, COL_BUDGET_FLOATS // max(1, k * p))
    blocks = -(-n // fit)
    return -(-n // blocks)


@njit(cache=True, inline="always")
def _part(total, parts, part):
    return part * total // parts, (part + 1) * total // parts


@njit(cache=True)
def _scatter_rows(out, lo, hi, m, p, b, bias_base, y4, n0, g):
    """y4[n0 + s, g, o, :] = out[o, s*p:(s+1)*p] + b[bias_base + o] for o in [lo, hi)."""
    width = m * p
    for o in range(lo, hi):
        bo = b[bias_base + o] if b.shape[0] > 0 else np.float32(0.0)
        src = np.uint64(o * width)
        for s in range(m):
            dst = y4[n0 + s, g, o]
            base = src + np.uint64(s * p)
            for q in range(np.uint64(p)):
                dst[q] = out[base + q] + bo


@njit(cache=True)
def _gather_one(dy4, n, s, m, g, dyb):
    """dyb[o, s*p:(s+1)*p] = dy4[n, g, o, :]: sample n's errors as block column s."""
    cog, p = dy4.shape[2], dy4.shape[3]
    width = m * p
    for o in range(cog):
        src = dy4[n, g, o]
        base = np.uint64(o * width + s * p)
        for q in range(np.uint64(p)):
            dyb[base + q] = src[q]


@njit(cache=True, parallel=True)
def forward(x4, w3, b, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, threads, per, y4):
    """y4 (N, G, Cog, Ho*Wo) = conv(x4 (N, G, Cg, H, W), w3 (G, Cog, K)) + b."""
    n, groups = x4.shape[0], x4.shape[1]
    cog, k = w3.shape[1], w3.shape[2]
    p = ho * wo
    col = np.empty(k * per * p, np.float32)
    out = np.empty(cog * per * p, np.float32)
    for n0 in range(0, n, per):
        m = min(per, n - n0)
        cols = col[: k * m * p].reshape(k, m * p)
        for g in range(groups):
            for s in prange(m):
                im2col(x4[n0 + s, g], kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, cols, s * p)
            wg = w3[g].reshape(cog * k)
            for t in prange(threads):
                lo, hi = _part(cog, threads, t)
                if hi > lo:
                    scalars = np.empty(2, np.float32)
                    gemm(False, False, hi - lo, m * p, k, wg[lo * k :], k, col, m * p, 0.0,
                         out[lo * m * p :], m * p, scalars)  # fmt: skip
                    _scatter_rows(out, lo, hi, m, p, b, g * cog, y4, n0, g)


@njit(cache=True, parallel=True)
def backward_data(dy4, w3, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, threads, per, dx4):
    """dx4 (N, G, Cg, H, W) from dy4 (N, G, Cog, Ho*Wo) and w3 (G, Cog, Cg*kh*kw)."""
    n, groups, cog = dy4.shape[0], dy4.shape[1], dy4.shape[2]
    cg = dx4.shape[2]
    taps = kh * kw
    k = cg * taps
    p = ho * wo
    dyb = np.empty(cog * per * p, np.float32)
    for n0 in range(0, n, per):
        m = min(per, n - n0)
        for g in range(groups):
            for s in prange(m):
                _gather_one(dy4, n0 + s, s, m, g, dyb)
            wg = w3[g].reshape(cog * k)
            for t in prange(threads):
                c_lo, c_hi = _part(cg, threads, t)
                if c_hi > c_lo:
                    rows = (c_hi - c_lo) * taps
                    dcol = np.empty((rows, m * p), np.float32)
                    scalars = np.empty(2, np.float32)
                    gemm(True, False, rows, m * p, cog, wg[c_lo * taps :], k, dyb, m * p, 0.0,
                         dcol.reshape(rows * m * p), m * p, scalars)  # fmt: skip
                    for s in range(m):
                        dst = dx4[n0 + s, g, c_lo:c_hi]
                        dst[:] = 0.0
                        col2im(dcol, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, s * p, dst)


@njit(cache=True, parallel=True)
def backward_weight(x4, dy4, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, threads, per, dw3, db):
    """dw3 (G, Cog, Cg*kh*kw) and db (G*Cog,) from x4 (N, G, Cg, H, W), dy4 (N, G, Cog, P)."""
    n, groups = x4.shape[0], x4.shape[1]
    cog, k = dw3.shape[1], dw3.shape[2]
    p = ho * wo
    col = np.empty(k * per * p, np.float32)
    dyb = np.empty(cog * per * p, np.float32)
    for n0 in range(0, n, per):
        m = min(per, n - n0)
        cols = col[: k * m * p].reshape(k, m * p)
        beta = 0.0 if n0 == 0 else 1.0
        for g in range(groups):
            for s in prange(m):
                im2col(x4[n0 + s, g], kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, cols, s * p)
                _gather_one(dy4, n0 + s, s, m, g, dyb)
            dwg = dw3[g].reshape(cog * k)
            for t in prange(threads):
                lo, hi = _part(cog, threads, t)
                if hi > lo:
                    scalars = np.empty(2, np.float32)
                    gemm(False, True, hi - lo, k, m * p, dyb[lo * m * p :], m * p, col, m * p,
                         beta, dwg[lo * k :], k, scalars)  # fmt: skip
                    for o in range(lo, hi):
                        acc = np.float32(0.0)
                        base = np.uint64(o * m * p)
                        for q in range(np.uint64(m * p)):
                            acc += dyb[base + q]
                        db[g * cog + o] = acc if n0 == 0 else db[g * cog + o] + acc

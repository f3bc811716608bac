"""Image <-> column copies for one sample: the data movement that turns a convolution into a GEMM.

``im2col`` lays the receptive fields of one sample out as a matrix ``col`` of shape
``(C*kh*kw, Ho*Wo)``: row ``(c, i, j)`` holds, for every output position ``(oh, ow)``, the input
``x[c, oh*sh - ph + i*dh, ow*sw - pw + j*dw]`` (zero where that falls in the padding). Then a
convolution is ``W (Co, C*kh*kw) @ col``. ``col2im`` is its adjoint: it adds each column entry
back onto the input position it came from (the backward pass for the data gradient).

Speed notes, measured on the reference machine: the loops compute the valid output range of
each kernel tap once, so the innermost copy has no bounds test; and the innermost indices are
unsigned, because numba's negative-index wrap-around check on signed indices blocks
vectorisation (a run copy took 1.3 ns per element with signed and 0.11 ns with unsigned indices).
"""

from __future__ import annotations

import numpy as np
from numba import njit

U0 = np.uint64(0)
U1 = np.uint64(1)


@njit(cache=True, inline="always")
def valid_range(n_out: int, n_in: int, stride: int, offset: int) -> tuple[int, int]:
    """Output indices o in [lo, hi) whose input index o*stride + offset lies in [0, n_in)."""
    lo = (-offset + stride - 1) // stride if offset < 0 else 0
    hi = (n_in - offset + stride - 1) // stride
    hi = max(0, min(hi, n_out))
    lo = min(lo, hi)
    return lo, hi


@njit(cache=True, inline="always")
def _zero(a, start, count):
    """a[start : start + count] = 0 with unsigned indices (start >= 0, count may be <= 0)."""
    if count > 0:
        base = np.uint64(start)
        for k in range(np.uint64(count)):
            a[base + k] = 0.0


@njit(cache=True)
def im2col(x, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, col, c0):
    """Fill columns [c0, c0 + ho*wo) of ``col`` (C*kh*kw, L) from one sample ``x`` (C, H, W);
    both C-contiguous (several samples can sit side by side in one ``col``)."""
    c_in, h, w = x.shape
    src = x.reshape(x.size)
    dst = col.reshape(col.size)
    stride_row = col.shape[1]
    usw = np.uint64(sw)
    for c in range(c_in):
        for i in range(kh):
            oh_lo, oh_hi = valid_range(ho, h, sh, i * dh - ph)
            for j in range(kw):
                row = ((c * kh + i) * kw + j) * stride_row + c0
                off_w = j * dw - pw
                ow_lo, ow_hi = valid_range(wo, w, sw, off_w)
                run = np.uint64(ow_hi - ow_lo)
                _zero(dst, row, oh_lo * wo)
                _zero(dst, row + oh_hi * wo, (ho - oh_hi) * wo)
                for oh in range(oh_lo, oh_hi):
                    d0 = row + oh * wo
                    s0 = np.uint64((c * h + oh * sh - ph + i * dh) * w + ow_lo * sw + off_w)
                    _zero(dst, d0, ow_lo)
                    _zero(dst, d0 + ow_hi, wo - ow_hi)
                    d1 = np.uint64(d0 + ow_lo)
                    if sw == 1:
                        for k in range(run):
                            dst[d1 + k] = src[s0 + k]
                    else:
                        for k in range(run):
                            dst[d1 + k] = src[s0 + k * usw]


@njit(cache=True)
def col2im(col, kh, kw, sh, sw, ph, pw, dh, dw, ho, wo, c0, x):
    """Add columns [c0, c0 + ho*wo) of ``col`` (C*kh*kw, L) onto one sample ``x`` (C, H, W)
    (the adjoint of im2col)."""
    c_in, h, w = x.shape
    dst = x.reshape(x.size)
    src = col.reshape(col.size)
    stride_row = col.shape[1]
    usw = np.uint64(sw)
    for c in range(c_in):
        for i in range(kh):
            oh_lo, oh_hi = valid_range(ho, h, sh, i * dh - ph)
            for j in range(kw):
                row = ((c * kh + i) * kw + j) * stride_row + c0
                off_w = j * dw - pw
                ow_lo, ow_hi = valid_range(wo, w, sw, off_w)
                run = np.uint64(ow_hi - ow_lo)
                for oh in range(oh_lo, oh_hi):
                    s1 = np.uint64(row + oh * wo + ow_lo)
                    d0 = np.uint64((c * h + oh * sh - ph + i * dh) * w + ow_lo * sw + off_w)
                    if sw == 1:
                        for k in range(run):
                            dst[d0 + k] += src[s1 + k]
                    else:
                        for k in range(run):
                            dst[d0 + k * usw] += src[s1 + k]


def out_size(n: int, k: int, s: int, p: int, d: int) -> int:
    """Output length along one axis, as PyTorch computes it (floor mode)."""
    return (n + 2 * p - d * (k - 1) - 1) // s + 1

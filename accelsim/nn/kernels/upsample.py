"""Nearest-neighbour upsampling by whole blocks: the tiling step of dilated DFA feedback.

``out[n, c, y, x] = small[n, c, y // dh, x // dw]`` for y < H, x < W (the last block may be cut
off). ``DilatedConvFeedback`` computes one value per d x d block and repeats it over the block;
doing that with two ``np.repeat`` calls and a cropping copy wrote the full-size map three times
(VGG-16 at batch 16: 2.4x the time of the dense projection it stands in for). One pass here.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from accelsim.nn.kernels._threads import num_threads


@njit(cache=True, parallel=True)
def _upsample(small, dh, dw, out, threads):
    n, c, h, w = out.shape
    planes = n * c
    for t in prange(threads):
        for k in range(t * planes // threads, (t + 1) * planes // threads):
            src = small[k // c, k % c]
            dst = out[k // c, k % c]
            for y in range(h):
                row = src[y // dh]
                line = dst[y]
                for x in range(w):
                    line[x] = row[x // dw]


def block_upsample(
    small: np.ndarray, dilation: tuple[int, ...], size: tuple[int, ...]
) -> np.ndarray:
    """Repeat each entry of ``small`` (N, C, *n) over a dilation-sized block and crop to ``size``
    (the spatial shape, 1-D or 2-D): a new (N, C, *size) float32 array."""
    small = np.ascontiguousarray(small, np.float32)
    if len(size) == 1:
        small4 = small.reshape(small.shape[0], small.shape[1], 1, small.shape[2])
        dh, dw, h, w = 1, int(dilation[0]), 1, int(size[0])
    elif len(size) == 2:
        small4 = small
        (dh, dw), (h, w) = (int(d) for d in dilation), size
    else:
        raise ValueError(f"block_upsample takes 1-D or 2-D maps, got spatial size {size}")
    out = np.empty((small.shape[0], small.shape[1], h, w), np.float32)
    threads = num_threads(out.shape[0] * out.shape[1], out.size)
    _upsample(small4, dh, dw, out, threads)
    return out.reshape(small.shape[0], small.shape[1], *size)

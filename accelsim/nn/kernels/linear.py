"""Fully connected layer kernels, PyTorch layout w (O, F).

    forward:          y  = x W^T + b          (N, O)
    backward data:    dx = dy W               (N, F)
    backward weight:  dW = dy^T x  (O, F),    db = sum_n dy[n]
Each product is cut into row blocks, one per numba thread, each multiplied by single-threaded
BLAS; small products run on one thread.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from accelsim.nn.kernels._threads import kernel_blas_single_threaded, num_threads


@njit(cache=True, parallel=True)
def _gemm_rows(a, b, threads, out):
    """out = a @ b with the rows of a split over threads (a, b C- or F-contiguous)."""
    rows = a.shape[0]
    for t in prange(threads):
        lo = t * rows // threads
        hi = (t + 1) * rows // threads
        if hi > lo:
            np.dot(a[lo:hi], b, out[lo:hi])


@njit(cache=True)
def _gemm(a, b, out):
    np.dot(a, b, out)


def _threads_for(rows: int, inner: int, cols: int) -> int:
    return num_threads(rows, rows * inner * cols)


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    out = np.empty((a.shape[0], b.shape[1]), np.float32)
    kernel_blas_single_threaded()
    threads = _threads_for(a.shape[0], a.shape[1], b.shape[1])
    if threads == 1:  # no parallel region: waking idle workers can cost ms under load
        _gemm(a, b, out)
    else:
        _gemm_rows(a, b, threads, out)
    return out


def _c32(v: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(v, np.float32)


def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None) -> np.ndarray:
    """y = x @ w.T + b for x (N, F), w (O, F), b (O,) or None -> (N, O)."""
    y = _matmul(_c32(x), _c32(w).T)
    if b is not None:
        y += b
    return y


def linear_backward_data(dy: np.ndarray, w: np.ndarray) -> np.ndarray:
    """dx = dy @ w for dy (N, O), w (O, F) -> (N, F)."""
    return _matmul(_c32(dy), _c32(w))


def matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b in float32 for 2-D a (M, K), b (K, N), with the kernels' thread policy (rows split
    over numba threads, single-threaded BLAS) instead of NumPy's own BLAS threads."""
    return _matmul(_c32(a), _c32(b))


def linear_backward_weight(x: np.ndarray, dy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(dW = dy.T @ x (O, F), db = dy.sum(0) (O,))."""
    dyt = np.ascontiguousarray(_c32(dy).T)
    return _matmul(dyt, _c32(x)), dyt.sum(axis=1)

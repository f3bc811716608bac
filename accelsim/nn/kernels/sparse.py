"""Sparse matrices in CSR form and the numba products that apply them, float32.

CSR (compressed sparse row) keeps only the non-zeros of a (rows x cols) matrix A: ``data`` (the
values, row by row), ``indices`` (their column numbers) and ``indptr`` (row r owns
``data[indptr[r]:indptr[r+1]]``). Sparse DFA stores its fixed feedback matrices B this way, so
memory and multiply-adds both scale with the density. Three products are provided:

    csr_matmul(A, X)    = A @ X      X (cols, M) -> (rows, M)
    csr_t_matmul(A, X)  = A^T @ X    X (rows, M) -> (cols, M)
    dense_csr_t(X, A)   = X @ A^T    X (M, cols) -> (M, rows)   (DFA: errors (N, K) @ B^T)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit, prange

from accelsim.nn.kernels._threads import num_threads


@dataclass(frozen=True, eq=False)
class CSRMatrix:
    indptr: np.ndarray  # (rows + 1,) int32
    indices: np.ndarray  # (nnz,) int32, sorted within each row
    data: np.ndarray  # (nnz,) float32
    shape: tuple[int, int]

    @property
    def nnz(self) -> int:
        return int(self.data.size)

    @property
    def density(self) -> float:
        return self.nnz / max(1, self.shape[0] * self.shape[1])

    @property
    def size_bytes(self) -> int:
        """Storage of values, column indices and row pointers as held here (4 bytes each)."""
        return self.data.nbytes + self.indices.nbytes + self.indptr.nbytes

    def to_dense(self) -> np.ndarray:
        dense = np.zeros(self.shape, np.float32)
        rows = np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))
        dense[rows, self.indices] = self.data
        return dense


def csr_from_dense(values: np.ndarray, mask: np.ndarray | None = None) -> CSRMatrix:
    """CSR of ``values`` keeping the entries where ``mask`` is true (default: non-zeros)."""
    values = np.asarray(values, dtype=np.float32)
    if values.ndim != 2:
        raise ValueError(f"CSR needs a 2-D matrix, got shape {values.shape}")
    keep = values != 0 if mask is None else np.asarray(mask, dtype=bool)
    rows, cols = np.nonzero(keep)  # row-major order: sorted by row, then column
    indptr = np.zeros(values.shape[0] + 1, np.int32)
    np.cumsum(np.bincount(rows, minlength=values.shape[0]), out=indptr[1:])
    return CSRMatrix(indptr, cols.astype(np.int32), values[rows, cols].copy(), values.shape)


def random_mask(rows: int, cols: int, density: float, rng: np.random.Generator) -> np.ndarray:
    """A boolean (rows, cols) mask with round(density * rows * cols) trues (at least one).

    Rows get as equal a share as possible (counts differ by at most one; which rows get the
    extra one is random), and each row's columns are a uniform random subset: a row-balanced
    pattern, so every unit's feedback costs the same number of multiply-adds.
    """
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density}")
    total = max(1, int(round(density * rows * cols)))
    per_row = np.full(rows, total // rows, dtype=np.int64)
    per_row[rng.permutation(rows)[: total % rows]] += 1
    order = np.argsort(rng.random((rows, cols)), axis=1)  # a random column ranking per row
    ranks = np.empty_like(order)
    np.put_along_axis(ranks, order, np.arange(cols)[None, :].repeat(rows, 0), axis=1)
    return ranks < per_row[:, None]


def random_csr(
    rows: int, cols: int, density: float, rng: np.random.Generator, std: float = 1.0
) -> CSRMatrix:
    """A random sparse matrix: ``random_mask`` positions, Gaussian values of deviation ``std``."""
    mask = random_mask(rows, cols, density, rng)
    values = (rng.standard_normal((rows, cols)) * std).astype(np.float32)
    return csr_from_dense(values, mask)


# -- kernels ---------------------------------------------------------------------------------
@njit(cache=True, parallel=True)
def _csr_matmul(indptr, indices, data, x, out, threads):
    rows = indptr.size - 1
    m = x.shape[1]
    for part in prange(threads):
        for r in range(part * rows // threads, (part + 1) * rows // threads):
            o = out[r]
            for j in range(m):
                o[j] = 0.0
            for p in range(indptr[r], indptr[r + 1]):
                v = data[p]
                xr = x[indices[p]]
                for j in range(m):
                    o[j] += v * xr[j]


@njit(cache=True, parallel=True)
def _csr_t_matmul(indptr, indices, data, x, out, threads):
    # Rows of A scatter into rows of out; splitting the M columns keeps threads disjoint.
    rows = indptr.size - 1
    m = x.shape[1]
    for part in prange(threads):
        lo, hi = part * m // threads, (part + 1) * m // threads
        out[:, lo:hi] = 0.0
        for r in range(rows):
            xr = x[r]
            for p in range(indptr[r], indptr[r + 1]):
                v = data[p]
                o = out[indices[p]]
                for j in range(lo, hi):
                    o[j] += v * xr[j]


@njit(cache=True, parallel=True)
def _dense_csr_t(x, indptr, indices, data, out, threads):
    rows = indptr.size - 1
    m = x.shape[0]
    for part in prange(threads):
        for i in range(part * m // threads, (part + 1) * m // threads):
            xi = x[i]
            o = out[i]
            for r in range(rows):
                acc = np.float32(0.0)
                for p in range(indptr[r], indptr[r + 1]):
                    acc += data[p] * xi[indices[p]]
                o[r] = acc


def _f32(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a, dtype=np.float32)


def csr_matmul(a: CSRMatrix, x: np.ndarray) -> np.ndarray:
    """``A @ X`` for X (cols, M)."""
    x = _f32(x)
    out = np.empty((a.shape[0], x.shape[1]), np.float32)
    _csr_matmul(a.indptr, a.indices, a.data, x, out, num_threads(a.shape[0] // 64 + 1))
    return out


def csr_t_matmul(a: CSRMatrix, x: np.ndarray) -> np.ndarray:
    """``A^T @ X`` for X (rows, M)."""
    x = _f32(x)
    out = np.empty((a.shape[1], x.shape[1]), np.float32)
    _csr_t_matmul(a.indptr, a.indices, a.data, x, out, num_threads(x.shape[1] // 8 + 1))
    return out


def dense_csr_t(x: np.ndarray, a: CSRMatrix) -> np.ndarray:
    """``X @ A^T`` for X (M, cols): applies a CSR feedback matrix B to a batch of errors."""
    x = _f32(x)
    out = np.empty((x.shape[0], a.shape[0]), np.float32)
    _dense_csr_t(x, a.indptr, a.indices, a.data, out, num_threads(x.shape[0] // 4 + 1))
    return out

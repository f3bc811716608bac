"""Row-major single-precision GEMM on strided operands, from numba code, through BLAS.

``np.dot`` inside numba only takes contiguous matrices and always overwrites its output. The
convolutions want more: an operand whose rows are a fixed stride apart inside a bigger buffer
(a shifted view of a zero-padded image, so no im2col copy is needed) and accumulation into the
output (``beta = 1``). This calls the same BLAS routine numba's ``np.dot`` uses (numba's
``numba_xxgemm`` helper, which forwards to SciPy's ``sgemm``), with explicit leading dimensions.

Row-major ``C (m x n) = op(A) op(B) + beta C`` is column-major ``C^T = op(B)^T op(A)^T``, so the
operands are passed to the Fortran routine swapped.
"""

from __future__ import annotations

from numba import njit, types
from numba.np.linalg import _BLAS

_xxgemm = _BLAS().numba_xxgemm(types.float32)
_KIND = ord("s")
_NO = ord("n")
_YES = ord("t")


@njit(cache=True)
def gemm(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc, scalars):
    """C = op(A) @ op(B) + beta * C, all row-major with row strides lda, ldb, ldc.

    ``a``, ``b``, ``c`` are 1-D float32 views that start at each matrix's first element;
    op(A) is m x k and op(B) is k x n. ``scalars`` is a float32 scratch array of length 2.
    """
    scalars[0] = 1.0
    scalars[1] = beta
    status = _xxgemm(
        _KIND,
        _YES if trans_b else _NO,
        _YES if trans_a else _NO,
        n,
        m,
        k,
        scalars[0:].ctypes,
        b.ctypes,
        ldb,
        a.ctypes,
        lda,
        scalars[1:].ctypes,
        c.ctypes,
        ldc,
    )
    assert status == 0

"""Thread policy of the kernels: numba threads do the parallel work, BLAS runs single-threaded.

The kernels split a batch over numba threads (``prange``) and call a small matrix product
(``np.dot``, which numba binds to SciPy's OpenBLAS) inside each thread. A multi-threaded BLAS
called from inside those threads, or one whose idle workers keep spinning after a call, fights
the numba workers for the two cores: on the reference machine one im2col + GEMM case took 20 ms
with default settings and 4.7 ms with BLAS limited to one thread. So the kernels set that BLAS
to one thread at their first call (``kernel_blas_single_threaded``), ask numba's OpenMP workers
to sleep rather than spin when idle (``prefer_passive_openmp_wait``), and keep small work out of
parallel regions (``num_threads``); users get the speed without setting environment variables.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import numba

_BLAS: list | None = None


def _blas_controllers() -> list:
    """The BLAS libraries loaded in this process (found once, cached)."""
    global _BLAS
    if _BLAS is None:
        try:
            # Importing scipy's BLAS loads the library numba's np.dot calls into.
            import scipy.linalg.cython_blas  # noqa: F401
            from threadpoolctl import ThreadpoolController

            _BLAS = [c for c in ThreadpoolController().lib_controllers if c.user_api == "blas"]
        except ImportError:  # pragma: no cover - threadpoolctl and scipy are dependencies
            _BLAS = []
    return _BLAS


@contextmanager
def single_threaded_blas() -> Iterator[None]:
    """Run the body with every BLAS library limited to one thread, then restore the counts.

    For callers that want NumPy's own BLAS quiet during a training loop; the kernels themselves
    use :func:`kernel_blas_single_threaded`.
    """
    libs = _blas_controllers()
    before = [lib.get_num_threads() for lib in libs]
    for lib, n in zip(libs, before, strict=True):
        if n != 1:
            lib.set_num_threads(1)
    try:
        yield
    finally:
        for lib, n in zip(libs, before, strict=True):
            if n != 1:
                lib.set_num_threads(n)


_KERNEL_BLAS_DONE = False


def kernel_blas_single_threaded() -> None:
    """Limit the BLAS that numba's ``np.dot`` calls (SciPy's) to one thread, once per process.

    Done once and left so, not per call: restoring the count after each kernel woke OpenBLAS's
    workers, which then spin for a while after every call (a LeNet step: 4.1 ms of CPU per step
    instead of 2.5 ms). NumPy's BLAS is a separate library in the PyPI wheels and keeps its
    threads; where both share one BLAS, NumPy's products become single-threaded too.
    """
    global _KERNEL_BLAS_DONE
    if _KERNEL_BLAS_DONE:
        return
    for lib in _blas_controllers():
        if "numpy" not in lib.filepath or len(_blas_controllers()) == 1:
            lib.set_num_threads(1)
    _KERNEL_BLAS_DONE = True


# Below about this many multiply-adds (or element operations) per thread, waking a sleeping
# worker (tens of microseconds with the passive wait policy) costs more than it saves.
MIN_WORK_PER_THREAD = 1 << 21


def num_threads(work_items: int, work: int | None = None) -> int:
    """How many numba threads to split ``work_items`` independent items over, given ``work``
    elementary operations in all (one thread when that is too little to share)."""
    threads = min(numba.get_num_threads(), work_items)
    if work is not None:
        threads = min(threads, work // MIN_WORK_PER_THREAD)
    return max(1, threads)


def prefer_passive_openmp_wait() -> None:
    """Make numba's OpenMP workers sleep, not spin, when idle (unless the user chose).

    With the default spinning, a parallel kernel on a loaded machine (other processes, a sweep
    running several workers) waits whole scheduler time slices for a descheduled peer: a LeNet
    step took a median 182 ms instead of 8 ms at load 10 on the 2-core reference machine. The
    variable must be set before numba starts its OpenMP runtime, i.e. before the first parallel
    kernel runs; torch bundles its own OpenMP runtime, which is unaffected once loaded.
    """
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def split(n: int, parts: int, part: int) -> tuple[int, int]:
    """Bounds [lo, hi) of ``part`` when ``n`` items are cut into ``parts`` near-equal blocks."""
    return part * n // parts, (part + 1) * n // parts

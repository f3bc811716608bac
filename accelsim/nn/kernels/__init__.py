"""Numba compute kernels of the functional engine: plain functions on float32 arrays.

One module per operation family, each with forward and backward side by side:
``linear``, ``conv`` (2-D and 1-D), ``pool`` (max/avg), ``activation``, ``loss``.
Layouts follow PyTorch (NCHW, weights (out, in, kh, kw)). Parallelism: numba threads split the
batch; BLAS runs single-threaded inside them (see ``_threads``); importing this package raises
glibc's allocator thresholds once (see ``_memory``). docs/kernels.md has the maths.
"""

from accelsim.nn.kernels._memory import keep_freed_memory
from accelsim.nn.kernels._threads import prefer_passive_openmp_wait, single_threaded_blas
from accelsim.nn.kernels.activation import (
    activation_backward,
    activation_derivative,
    activation_forward,
)
from accelsim.nn.kernels.conv import (
    conv1d_backward_data,
    conv1d_backward_weight,
    conv1d_forward,
    conv2d_backward_data,
    conv2d_backward_weight,
    conv2d_forward,
)
from accelsim.nn.kernels.linear import linear_backward_data, linear_backward_weight, linear_forward
from accelsim.nn.kernels.loss import softmax, softmax_cross_entropy
from accelsim.nn.kernels.pool import (
    pool1d_backward,
    pool1d_forward,
    pool2d_backward,
    pool2d_forward,
)

keep_freed_memory()
prefer_passive_openmp_wait()

__all__ = [
    "activation_backward",
    "activation_derivative",
    "activation_forward",
    "conv1d_backward_data",
    "conv1d_backward_weight",
    "conv1d_forward",
    "conv2d_backward_data",
    "conv2d_backward_weight",
    "conv2d_forward",
    "linear_backward_data",
    "linear_backward_weight",
    "linear_forward",
    "pool1d_backward",
    "pool1d_forward",
    "pool2d_backward",
    "pool2d_forward",
    "single_threaded_blas",
    "softmax",
    "softmax_cross_entropy",
]

"""Pooling kernels: max and average, with padding, overlapping and strided windows, odd sizes,
2-D and 1-D; forward vs a float64 loop reference, backward vs finite differences, and vs torch."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_close, numeric_grad

from accelsim.nn.kernels.pool import (
    pool1d_backward,
    pool1d_forward,
    pool2d_backward,
    pool2d_forward,
)

# (N, C, H, W, kernel, stride, padding)
CASES = [
    (2, 3, 8, 8, (2, 2), (2, 2), (0, 0)),
    (2, 2, 7, 9, (3, 3), (2, 2), (1, 1)),  # overlapping, padded, odd
    (1, 3, 6, 5, (3, 2), (1, 2), (1, 1)),  # overlapping, non-square
    (2, 2, 5, 7, (2, 4), (3, 1), (1, 2)),
]
IDS = [f"case{i}" for i in range(len(CASES))]


def reference_pool2d(x, kernel, stride, padding, mode):
    """float64 pooling by looping over output positions of a padded copy."""
    n, c, h, w = x.shape
    (kh, kw), (sh, sw), (ph, pw) = kernel, stride, padding
    ho = (h + 2 * ph - kh) // sh + 1
    wo = (w + 2 * pw - kw) // sw + 1
    fill = -np.inf if mode == "max" else 0.0
    xp = np.full((n, c, h + 2 * ph, w + 2 * pw), fill)
    xp[:, :, ph : ph + h, pw : pw + w] = x
    y = np.zeros((n, c, ho, wo))
    for oh in range(ho):
        for ow in range(wo):
            win = xp[:, :, oh * sh : oh * sh + kh, ow * sw : ow * sw + kw]
            y[:, :, oh, ow] = win.max(axis=(2, 3)) if mode == "max" else win.mean(axis=(2, 3))
    return y


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_pool2d_forward_and_backward_match_reference(case, mode):
    n, c, h, w, k, s, p = case
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    x64 = x.astype(np.float64)
    want = reference_pool2d(x64, k, s, p, mode)
    y, arg = pool2d_forward(x, k, s, p, mode)
    assert_close(y, want)
    assert (arg is None) == (mode == "avg")
    dy = rng.standard_normal(want.shape)
    dx = pool2d_backward(dy.astype(np.float32), arg, x.shape, k, s, p, mode)
    fd = numeric_grad(lambda v: float((reference_pool2d(v, k, s, p, mode) * dy).sum()), x64.copy())
    assert_close(dx, fd, rel=1e-4)


def test_max_pool_argmax_indexes_the_winner_in_its_plane():
    x = np.random.default_rng(2).standard_normal((2, 3, 7, 6)).astype(np.float32)
    y, arg = pool2d_forward(x, (3, 3), (2, 2), (1, 1), "max")
    planes = x.reshape(6, -1)
    picked = np.take_along_axis(planes, arg.reshape(6, -1).astype(np.int64), axis=1)
    np.testing.assert_array_equal(picked.reshape(y.shape), y)


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool1d_matches_reference_and_finite_differences(mode):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 11)).astype(np.float32)
    k, s, p = 3, 2, 1
    x64 = x.astype(np.float64)

    def ref(v):
        return reference_pool2d(v[:, :, None], (1, k), (1, s), (0, p), mode)[:, :, 0]

    y, arg = pool1d_forward(x, k, s, p, mode)
    assert_close(y, ref(x64))
    dy = rng.standard_normal(y.shape)
    dx = pool1d_backward(dy.astype(np.float32), arg, x.shape, k, s, p, mode)
    assert_close(dx, numeric_grad(lambda v: float((ref(v) * dy).sum()), x64.copy()), rel=1e-4)


TORCH_CASES = [
    (8, 16, 28, 28, (2, 2), (2, 2), (0, 0)),
    (4, 8, 15, 13, (3, 3), (2, 2), (1, 1)),
    (3, 5, 10, 9, (3, 2), (1, 1), (1, 1)),
]


@pytest.mark.parametrize("mode", ["max", "avg"])
@pytest.mark.parametrize("case", TORCH_CASES, ids=[f"t{i}" for i in range(len(TORCH_CASES))])
def test_pool2d_matches_torch(case, mode):
    torch = pytest.importorskip("torch")
    fn = torch.nn.functional
    n, c, h, w, k, s, p = case
    rng = np.random.default_rng(5)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    xt = torch.tensor(x, requires_grad=True)
    if mode == "max":
        yt, idx = fn.max_pool2d(xt, k, s, p, return_indices=True)
    else:
        yt = fn.avg_pool2d(xt, k, s, p)
    dy = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(dy))
    y, arg = pool2d_forward(x, k, s, p, mode)
    assert_close(y, yt.detach().numpy())
    if mode == "max":
        np.testing.assert_array_equal(arg, idx.numpy())
    assert_close(pool2d_backward(dy, arg, x.shape, k, s, p, mode), xt.grad.numpy())


@pytest.mark.parametrize("kernel, padding", [((2, 2), (0, 0)), ((3, 3), (1, 1))])
def test_max_pool_propagates_nan_like_pytorch(kernel, padding):
    x = np.arange(2 * 6 * 6, dtype=np.float32).reshape(1, 2, 6, 6)
    x[0, 0, 1, 1] = np.nan
    y, arg = pool2d_forward(x, kernel, (2, 2), padding, "max")
    assert np.isnan(y[0, 0, 0, 0]) and arg[0, 0, 0, 0] == 7
    assert not np.isnan(y[0, 1]).any()  # the other plane is untouched
    clean = x.copy()
    clean[0, 0, 1, 1] = 0.0
    y_clean, _ = pool2d_forward(clean, kernel, (2, 2), padding, "max")
    mask = ~np.isnan(y)
    np.testing.assert_array_equal(y[mask], y_clean[mask])

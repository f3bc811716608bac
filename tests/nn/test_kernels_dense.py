"""Linear, activation and loss kernels: vs float64 references, finite differences and torch."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_close, numeric_grad

from accelsim.nn.kernels.activation import (
    activation_backward,
    activation_derivative,
    activation_forward,
)
from accelsim.nn.kernels.linear import linear_backward_data, linear_backward_weight, linear_forward
from accelsim.nn.kernels.loss import softmax, softmax_cross_entropy


@pytest.mark.parametrize("shape", [(5, 7, 3), (1, 4, 9), (300, 257, 130)])
def test_linear_matches_reference_and_finite_differences(shape):
    n, f, o = shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, f)).astype(np.float32)
    w = rng.standard_normal((o, f)).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    x64, w64, b64 = x.astype(np.float64), w.astype(np.float64), b.astype(np.float64)
    assert_close(linear_forward(x, w, b), x64 @ w64.T + b64)
    assert_close(linear_forward(x, w, None), x64 @ w64.T)
    dy = rng.standard_normal((n, o))
    dx = linear_backward_data(dy.astype(np.float32), w)
    dw, db = linear_backward_weight(x, dy.astype(np.float32))
    if n * f > 100:  # the large case checks the algebra exactly instead of element-wise FD
        assert_close(dx, dy @ w64)
        assert_close(dw, dy.T @ x64)
        assert_close(db, dy.sum(axis=0))
        return
    assert_close(
        dx, numeric_grad(lambda v: float(((v @ w64.T + b64) * dy).sum()), x64.copy()), 1e-4
    )
    assert_close(
        dw, numeric_grad(lambda v: float(((x64 @ v.T + b64) * dy).sum()), w64.copy()), 1e-4
    )
    assert_close(
        db, numeric_grad(lambda v: float(((x64 @ w64.T + v) * dy).sum()), b64.copy()), 1e-4
    )


REFERENCE = {
    "relu": lambda a: np.maximum(a, 0.0),
    "tanh": np.tanh,
    "sigmoid": lambda a: 1.0 / (1.0 + np.exp(-a)),
    "none": lambda a: a,
}


@pytest.mark.parametrize("kind", sorted(REFERENCE))
@pytest.mark.parametrize("size", [(3, 7), (64, 1200)])  # below and above the parallel cut-off
def test_activation_matches_reference_and_finite_differences(kind, size):
    rng = np.random.default_rng(1)
    a = (rng.standard_normal(size) * 3).astype(np.float32)
    a64 = a.astype(np.float64)
    h = activation_forward(a, kind)
    assert h.dtype == np.float32 and h.shape == a.shape
    assert_close(h, REFERENCE[kind](a64))
    dh = rng.standard_normal(size).astype(np.float32)
    eps = 1e-6
    fd = (REFERENCE[kind](a64 + eps) - REFERENCE[kind](a64 - eps)) / (2 * eps)
    assert_close(activation_derivative(a, h, kind), fd, rel=1e-5)
    assert_close(activation_backward(dh, a, h, kind), dh * fd, rel=1e-5)


def test_activation_handles_4d_arrays_and_keeps_shape():
    a = np.random.default_rng(2).standard_normal((2, 3, 4, 5)).astype(np.float32)
    h = activation_forward(a, "relu")
    assert h.shape == a.shape
    np.testing.assert_array_equal(activation_backward(np.ones_like(a), a, h, "relu"), a > 0)


def reference_loss(z, labels):
    top = z.max(axis=1, keepdims=True)
    logp = z - top - np.log(np.exp(z - top).sum(axis=1, keepdims=True))
    return -logp[np.arange(len(labels)), labels].mean()


def test_cross_entropy_matches_reference_and_finite_differences():
    rng = np.random.default_rng(3)
    z = (rng.standard_normal((6, 5)) * 4).astype(np.float32)
    labels = rng.integers(0, 5, 6)
    z64 = z.astype(np.float64)
    loss, dz = softmax_cross_entropy(z, labels)
    assert isinstance(loss, float) and dz.dtype == np.float32
    assert abs(loss - reference_loss(z64, labels)) < 1e-6 * max(1.0, loss)
    assert_close(dz, numeric_grad(lambda v: reference_loss(v, labels), z64.copy()), rel=1e-5)


def test_softmax_is_stable_for_huge_logits_and_rows_sum_to_one():
    z = np.array([[1000.0, 0.0, -1000.0], [88.0, 89.0, 90.0]], np.float32)
    p = softmax(z)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(
        p[1], np.exp([-2.0, -1.0, 0.0]) / np.exp([-2.0, -1.0, 0.0]).sum(), 1e-6
    )
    loss, _ = softmax_cross_entropy(z, np.array([2, 0]))
    assert np.isfinite(loss) and loss > 1000.0


def test_dense_kernels_match_torch():
    torch = pytest.importorskip("torch")
    fn = torch.nn.functional
    rng = np.random.default_rng(4)
    x = rng.standard_normal((64, 400)).astype(np.float32)
    w = rng.standard_normal((120, 400)).astype(np.float32)
    b = rng.standard_normal(120).astype(np.float32)
    labels = rng.integers(0, 120, 64)
    xt, wt, bt = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    at = fn.linear(xt, wt, bt)
    ht = torch.tanh(at)
    lt = fn.cross_entropy(ht * 3, torch.tensor(labels))
    lt.backward()
    a = linear_forward(x, w, b)
    h = activation_forward(a, "tanh")
    loss, dz = softmax_cross_entropy(h * 3, labels)
    da = activation_backward(dz * 3, a, h, "tanh")
    dw, db = linear_backward_weight(x, da)
    assert abs(loss - lt.item()) < 1e-5 * max(1.0, lt.item())
    assert_close(a, at.detach().numpy())
    assert_close(linear_backward_data(da, w), xt.grad.numpy())
    assert_close(dw, wt.grad.numpy())
    assert_close(db, bt.grad.numpy())


def test_blas_is_single_threaded_inside_kernels_and_restored_after():
    from threadpoolctl import threadpool_info

    from accelsim.nn.kernels._threads import single_threaded_blas

    before = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    with single_threaded_blas():
        inside = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    after = [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
    assert inside and all(n == 1 for n in inside)
    assert after == before


def test_kernels_run_the_blas_numba_calls_single_threaded():
    from threadpoolctl import threadpool_info

    x = np.ones((4, 3), np.float32)
    linear_forward(x, np.ones((2, 3), np.float32), None)
    scipy_blas = [
        lib
        for lib in threadpool_info()
        if lib["user_api"] == "blas" and "numpy" not in lib["filepath"]
    ]
    assert scipy_blas and all(lib["num_threads"] == 1 for lib in scipy_blas)


@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (True, False), (False, True)])
def test_strided_gemm_accumulates_into_views_of_bigger_buffers(trans_a, trans_b):
    from accelsim.nn.kernels._gemm import gemm

    rng = np.random.default_rng(5)
    big_a = rng.standard_normal((9, 11)).astype(np.float32)
    big_b = rng.standard_normal((10, 12)).astype(np.float32)
    c = rng.standard_normal((4, 6)).astype(np.float32)
    m, n, k = 4, 6, 7
    # op(A) is m x k and op(B) k x n, both read from inside the bigger buffers (offset 1 or 2).
    a_mat = big_a[1 : 1 + k, 1 : 1 + m].T if trans_a else big_a[1 : 1 + m, 1 : 1 + k]
    b_mat = big_b[2 : 2 + n, 2 : 2 + k].T if trans_b else big_b[2 : 2 + k, 2 : 2 + n]
    want = c.astype(np.float64) + a_mat.astype(np.float64) @ b_mat.astype(np.float64)
    a_flat, b_flat = big_a.reshape(-1)[11 + 1 :], big_b.reshape(-1)[2 * 12 + 2 :]
    scratch = np.zeros(2, np.float32)
    gemm(trans_a, trans_b, m, n, k, a_flat, 11, b_flat, 12, 1.0, c.reshape(-1), 6, scratch)
    assert_close(c, want)

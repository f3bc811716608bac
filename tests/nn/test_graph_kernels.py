"""Batch normalisation kernels and the graph layers against float64 formulas and finite
differences (no torch)."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_close, numeric_grad

from accelsim.config.workload import load_workload
from accelsim.nn.kernels.batchnorm import (
    batchnorm_backward,
    batchnorm_forward_eval,
    batchnorm_forward_train,
)
from accelsim.nn.layers import build_layer

EPS = 1e-5


def bn_reference(x, gamma, beta):
    """Training-mode batch norm in float64, straight from the definition."""
    axes = (0, *range(2, x.ndim))
    shape = (1, -1) + (1,) * (x.ndim - 2)
    mean = x.mean(axis=axes)
    var = ((x - mean.reshape(shape)) ** 2).mean(axis=axes)
    xhat = (x - mean.reshape(shape)) / np.sqrt(var.reshape(shape) + EPS)
    return gamma.reshape(shape) * xhat + beta.reshape(shape), mean, var


@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5), (3, 2, 4, 3)])
def test_batchnorm_forward_matches_the_definition(shape):
    rng = np.random.default_rng(1)
    x = (rng.standard_normal(shape) * 2 + 1.5).astype(np.float32)
    gamma = rng.uniform(0.5, 1.5, shape[1]).astype(np.float32)
    beta = rng.standard_normal(shape[1]).astype(np.float32)
    y, xhat, mean, var, invstd = batchnorm_forward_train(x, gamma, beta, EPS)
    want, want_mean, want_var = bn_reference(x.astype(np.float64), gamma, beta)
    assert_close(y, want, 1e-5)
    assert_close(mean, want_mean, 1e-6)
    assert_close(var, want_var, 1e-6)
    assert_close(invstd, 1 / np.sqrt(want_var + EPS), 1e-6)
    # the normalised output has zero mean and (biased) unit variance per channel
    axes = (0, *range(2, len(shape)))
    assert np.allclose(xhat.mean(axis=axes), 0, atol=1e-5)
    assert np.allclose(xhat.var(axis=axes), 1, atol=1e-3)


@pytest.mark.parametrize("shape", [(5, 3), (3, 2, 4), (2, 3, 3, 2)])
def test_batchnorm_backward_matches_finite_differences(shape):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape)
    gamma = rng.uniform(0.5, 1.5, shape[1])
    beta = rng.standard_normal(shape[1])
    w = rng.standard_normal(shape)  # loss = sum(w * y), so dy = w

    def loss_x(v):
        return float((bn_reference(v, gamma, beta)[0] * w).sum())

    def loss_gamma(v):
        return float((bn_reference(x, v, beta)[0] * w).sum())

    def loss_beta(v):
        return float((bn_reference(x, gamma, v)[0] * w).sum())

    f32 = np.float32
    _, xhat, _, _, invstd = batchnorm_forward_train(
        x.astype(f32), gamma.astype(f32), beta.astype(f32), EPS
    )
    dx, dgamma, dbeta = batchnorm_backward(w.astype(f32), xhat, gamma.astype(f32), invstd)
    assert_close(dx, numeric_grad(loss_x, x.copy()), 1e-4)
    assert_close(dgamma, numeric_grad(loss_gamma, gamma.copy()), 1e-4)
    assert_close(dbeta, numeric_grad(loss_beta, beta.copy()), 1e-4)
    none, dgamma2, _ = batchnorm_backward(w.astype(f32), xhat, gamma.astype(f32), invstd, False)
    assert none is None and np.array_equal(dgamma2, dgamma)


def test_batchnorm_eval_uses_the_given_statistics():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 2, 3)).astype(np.float32)
    gamma = np.array([2.0, 0.5], np.float32)
    beta = np.array([1.0, -1.0], np.float32)
    mean = np.array([0.5, -0.25], np.float32)
    var = np.array([4.0, 0.25], np.float32)
    y = batchnorm_forward_eval(x, gamma, beta, mean, var, EPS)
    want = np.empty_like(x, dtype=np.float64)
    for c in range(2):
        want[:, c] = gamma[c] * (x[:, c] - mean[c]) / np.sqrt(var[c] + EPS) + beta[c]
    assert_close(y, want, 1e-6)


def layer(spec_layers, name, input_shape):
    wl = load_workload(
        {"layers": spec_layers + [{"type": "linear", "out_features": 2}]},
        input_shape=input_shape,
    )
    index = [x.name for x in wl.layers].index(name)
    return build_layer(wl.layers[index])


def test_global_avgpool_forward_and_backward():
    gap = layer([{"name": "g", "type": "global_avgpool"}], "g", (3, 2, 4))
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 2, 4)).astype(np.float32)
    a, cache = gap.forward(x)
    assert_close(a, x.astype(np.float64).mean(axis=(2, 3)), 1e-6)
    w = rng.standard_normal((2, 3))
    dx = gap.backward_data(w.astype(np.float32), cache)
    want = numeric_grad(lambda v: float((v.mean(axis=(2, 3)) * w).sum()), x.astype(np.float64))
    assert_close(dx, want, 1e-5)


def test_concat_splits_the_error_back_by_channels():
    cat = layer(
        [
            {"name": "a", "type": "conv1d", "out_channels": 2, "kernel": 1},
            {"name": "cat", "type": "concat", "inputs": ["a", "input"]},
        ],
        "cat",
        (3, 5),
    )
    x1 = np.arange(2 * 2 * 5, dtype=np.float32).reshape(2, 2, 5)
    x2 = -np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)
    a, cache = cat.forward([x1, x2])
    assert a.shape == (2, 5, 5)
    assert np.array_equal(a[:, :2], x1) and np.array_equal(a[:, 2:], x2)
    d1, d2 = cat.backward_data(a * 2, cache)
    assert np.array_equal(d1, x1 * 2) and np.array_equal(d2, x2 * 2)


def test_add_sums_and_copies_the_error():
    add = layer(
        [
            {"name": "a", "type": "linear", "out_features": 4},
            {"name": "s", "type": "add", "inputs": ["a", "input"]},
        ],
        "s",
        (4,),
    )
    x1 = np.array([[1, 2, 3, 4]], np.float32)
    x2 = np.array([[10, 20, 30, 40]], np.float32)
    a, cache = add.forward([x1, x2])
    assert np.array_equal(a, [[11, 22, 33, 44]])
    assert np.array_equal(x1, [[1, 2, 3, 4]])  # inputs untouched
    errors = add.backward_data(np.ones((1, 4), np.float32), cache)
    assert len(errors) == 2 and all(np.array_equal(e, np.ones((1, 4))) for e in errors)


def test_dropout_masks_scales_and_is_off_in_evaluation():
    drop = layer([{"name": "d", "type": "dropout", "p": 0.25}], "d", (1000,))
    drop.rng = np.random.default_rng(7)
    x = np.full((4, 1000), 2.0, np.float32)
    a, mask = drop.forward(x)
    kept = a != 0
    assert np.allclose(a[kept], 2.0 / 0.75)  # inverted dropout: kept units scaled by 1/(1-p)
    assert abs(1 - kept.mean() - 0.25) < 0.02  # 4000 draws: the std of the rate is 0.007
    d = drop.backward_data(np.ones_like(x), mask)
    assert np.array_equal(d != 0, kept) and np.allclose(d[kept], 1 / 0.75)
    drop.training = False
    a_eval, cache = drop.forward(x)
    assert np.array_equal(a_eval, x) and cache is None

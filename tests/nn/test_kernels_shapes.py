"""Property test: for any valid conv/pool configuration, the kernels' output shape is PyTorch's
formula floor((n + 2p - d(k-1) - 1) / s) + 1, and torch's actual shape when torch is present."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.nn.kernels.conv import conv2d_backward_data, conv2d_backward_weight, conv2d_forward
from accelsim.nn.kernels.pool import pool2d_backward, pool2d_forward

try:
    import torch
except ImportError:  # pragma: no cover - torch is an optional oracle
    torch = None


def formula(n, k, s, p, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


@st.composite
def conv_configs(draw):
    groups = draw(st.integers(1, 3))
    c = groups * draw(st.integers(1, 2))
    co = groups * draw(st.integers(1, 2))
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    d = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, 3)), draw(st.integers(0, 3)))
    span = [d[i] * (k[i] - 1) + 1 - 2 * p[i] for i in range(2)]  # smallest input that fits
    h = draw(st.integers(max(1, span[0]), max(1, span[0]) + 6))
    w = draw(st.integers(max(1, span[1]), max(1, span[1]) + 6))
    return (draw(st.integers(1, 3)), c, h, w), (co, c // groups, *k), s, p, d, groups


@settings(max_examples=30, deadline=None)
@given(conv_configs())
def test_conv2d_output_shape_is_pytorch_formula(config):
    x_shape, w_shape, s, p, d, g = config
    rng = np.random.default_rng(0)
    x = rng.standard_normal(x_shape).astype(np.float32)
    w = rng.standard_normal(w_shape).astype(np.float32)
    y = conv2d_forward(x, w, None, s, p, d, g)
    ho = formula(x_shape[2], w_shape[2], s[0], p[0], d[0])
    wo = formula(x_shape[3], w_shape[3], s[1], p[1], d[1])
    assert y.shape == (x_shape[0], w_shape[0], ho, wo)
    assert conv2d_backward_data(y, w, x_shape, s, p, d, g).shape == x_shape
    assert conv2d_backward_weight(x, y, w_shape, s, p, d, g)[0].shape == w_shape
    if torch is not None:
        yt = torch.nn.functional.conv2d(torch.tensor(x), torch.tensor(w), None, s, p, d, g)
        assert tuple(yt.shape) == y.shape


@st.composite
def pool_configs(draw):
    k = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    s = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    p = (draw(st.integers(0, k[0] // 2)), draw(st.integers(0, k[1] // 2)))  # torch's limit
    h = draw(st.integers(max(1, k[0] - 2 * p[0]), k[0] + 6))
    w = draw(st.integers(max(1, k[1] - 2 * p[1]), k[1] + 6))
    mode = draw(st.sampled_from(["max", "avg"]))
    return (draw(st.integers(1, 2)), draw(st.integers(1, 3)), h, w), k, s, p, mode


@settings(max_examples=30, deadline=None)
@given(pool_configs())
def test_pool2d_output_shape_is_pytorch_formula(config):
    x_shape, k, s, p, mode = config
    x = np.random.default_rng(0).standard_normal(x_shape).astype(np.float32)
    y, arg = pool2d_forward(x, k, s, p, mode)
    want = (
        *x_shape[:2],
        formula(x_shape[2], k[0], s[0], p[0]),
        formula(x_shape[3], k[1], s[1], p[1]),
    )
    assert y.shape == want
    assert pool2d_backward(y, arg, x_shape, k, s, p, mode).shape == x_shape
    if mode == "max":
        assert np.isfinite(y).all()  # every window holds at least one real element
    if torch is not None:
        op = torch.nn.functional.max_pool2d if mode == "max" else torch.nn.functional.avg_pool2d
        assert tuple(op(torch.tensor(x), k, s, p).shape) == y.shape


@pytest.mark.parametrize("mode", ["max", "avg"])
def test_pool_padding_never_wins_or_dilutes_beyond_pytorch(mode):
    x = -np.ones((1, 1, 2, 2), np.float32) * 5
    y, _ = pool2d_forward(x, (2, 2), (1, 1), (1, 1), mode)
    # max: padding is -inf so the -5 wins; avg: padding counts as zeros in the divisor.
    want = -5.0 if mode == "max" else -5.0 / 4
    assert y[0, 0, 0, 0] == np.float32(want)

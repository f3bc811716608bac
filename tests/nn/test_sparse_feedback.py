"""CSR kernels and structured feedback operators against explicit dense matrices."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.nn.algorithms.feedback_ops import (
    CSRFeedback,
    DilatedConvFeedback,
    SequenceFeedback,
    class_groups,
    dilation_for,
)
from accelsim.nn.kernels.conv import conv1d_forward, conv2d_forward
from accelsim.nn.kernels.sparse import (
    csr_from_dense,
    csr_matmul,
    csr_t_matmul,
    dense_csr_t,
    random_csr,
    random_mask,
)


@pytest.mark.parametrize("shape,density", [((37, 10), 0.2), ((5, 64), 0.01), ((8, 3), 1.0)])
def test_csr_products_equal_dense_reference(shape, density):
    rng = np.random.default_rng(0)
    a = random_csr(*shape, density, rng)
    dense = a.to_dense()
    x = rng.standard_normal((shape[1], 7)).astype(np.float32)
    y = rng.standard_normal((shape[0], 7)).astype(np.float32)
    e = rng.standard_normal((9, shape[1])).astype(np.float32)
    np.testing.assert_allclose(csr_matmul(a, x), dense @ x, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(csr_t_matmul(a, y), dense.T @ y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dense_csr_t(e, a), e @ dense.T, rtol=1e-5, atol=1e-5)


def test_csr_round_trip_keeps_masked_entries_only():
    rng = np.random.default_rng(1)
    values = rng.standard_normal((6, 9)).astype(np.float32)
    mask = rng.random((6, 9)) < 0.3
    a = csr_from_dense(values, mask)
    np.testing.assert_array_equal(a.to_dense(), np.where(mask, values, 0))
    assert a.nnz == mask.sum()
    assert a.size_bytes == 4 * (2 * a.nnz + 7)


def test_random_mask_has_requested_density_balanced_over_rows():
    mask = random_mask(50, 10, 0.13, np.random.default_rng(2))
    assert mask.sum() == 65
    per_row = mask.sum(axis=1)
    assert per_row.max() - per_row.min() <= 1


@pytest.mark.parametrize("density", [0.0, -0.1, 1.5])
def test_random_mask_rejects_density_outside_unit_interval(density):
    with pytest.raises(ValueError):
        random_mask(4, 4, density, np.random.default_rng(0))


def test_csr_feedback_applies_its_dense_matrix():
    rng = np.random.default_rng(3)
    op = CSRFeedback(random_csr(4 * 3 * 2, 10, 0.1, rng), (4, 3, 2))
    e = rng.standard_normal((5, 10)).astype(np.float32)
    want = (e @ op.dense_matrix().T).reshape(5, 4, 3, 2)
    np.testing.assert_allclose(op.apply(e), want, rtol=1e-5, atol=1e-6)


def _conv_form(op: DilatedConvFeedback, e: np.ndarray) -> np.ndarray:
    """The same feedback computed as a real dilated, grouped convolution (H1's kernels):
    e tiled into a d x d map per class group, full-padded, flipped kernel, cropped."""
    kernel, d, groups = op.kernel, op.dilation, op.groups
    channels, classes, *taps = kernel.shape
    spatial = op.target_shape[1:]
    ks = class_groups(classes, groups)
    width = max(len(k) for k in ks)
    per = channels // groups
    emap = np.zeros((e.shape[0], groups * width, *d), np.float32)
    weight = np.zeros((channels, width, *taps), np.float32)
    for g, k in enumerate(ks):
        emap[:, g * width : g * width + len(k)] = e[:, k].reshape(*e[:, k].shape, *[1] * len(d))
        weight[g * per : (g + 1) * per, : len(k)] = kernel[g * per : (g + 1) * per][:, k]
    flip = np.ascontiguousarray(
        weight[(slice(None), slice(None), *[slice(None, None, -1)] * len(d))]
    )
    pad = tuple(di * (n - 1) for di, n in zip(d, taps, strict=True))
    if len(d) == 1:
        out = conv1d_forward(emap, flip, None, 1, pad[0], d[0], groups)
    else:
        out = conv2d_forward(emap, flip, None, (1, 1), pad, d, groups)
    return out[(slice(None), slice(None), *[slice(0, s) for s in spatial])]


@pytest.mark.parametrize(
    "target,dilation,groups",
    [
        ((6, 7, 5), (1, 1), 1),  # dense projection
        ((6, 7, 5), (2, 3), 2),
        ((6, 8, 8), (3, 3), 3),  # 3 does not divide K=10: groups of 4, 3, 3 classes
        ((4, 7, 5), (7, 5), 1),  # one tap: one vector for the whole map
        ((8, 20), (3,), 4),  # conv1d
    ],
)
def test_dilated_group_conv_feedback_equals_dense_b_and_a_real_convolution(
    target, dilation, groups
):
    rng = np.random.default_rng(4)
    taps = tuple(-(-s // d) for s, d in zip(target[1:], dilation, strict=True))
    kernel = rng.standard_normal((target[0], 10, *taps)).astype(np.float32)
    op = DilatedConvFeedback(kernel, dilation, groups, target)
    e = rng.standard_normal((5, 10)).astype(np.float32)
    got = op.apply(e)
    dense = op.dense_matrix()
    want = (e @ dense.T).reshape(5, *target)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(_conv_form(op, e), want, rtol=1e-5, atol=1e-5)
    # storage counts exactly the non-zero structure of B's distinct weights
    assert op.stored_weights == op.class_mask().sum() * np.prod(taps)
    channel_class = (dense.reshape(target[0], -1, 10) != 0).any(axis=1)
    assert not (channel_class & ~op.class_mask()).any()


def test_dilated_feedback_shares_one_tap_per_block():
    rng = np.random.default_rng(5)
    op = DilatedConvFeedback(
        rng.standard_normal((2, 10, 2, 2)).astype(np.float32), (3, 3), 1, (2, 6, 6)
    )
    out = op.apply(rng.standard_normal((1, 10)).astype(np.float32))[0, 0]
    assert np.all(out[:3, :3] == out[0, 0]) and out[0, 0] != out[3, 3]


def test_group_conv_feedback_cuts_stored_weights_by_groups():
    rng = np.random.default_rng(6)
    kernel = rng.standard_normal((8, 10, 4)).astype(np.float32)
    ones = DilatedConvFeedback(kernel, (1,), 1, (8, 4))
    halves = DilatedConvFeedback(kernel, (1,), 2, (8, 4))
    assert halves.stored_weights * 2 == ones.stored_weights
    assert halves.density == pytest.approx(0.5)


@pytest.mark.parametrize("sparse", [False, True])
def test_sequence_feedback_is_time_shared(sparse):
    rng = np.random.default_rng(7)
    dense = rng.standard_normal((6, 10)).astype(np.float32)
    matrix = csr_from_dense(dense, rng.random((6, 10)) < 0.4) if sparse else dense
    op = SequenceFeedback(matrix, (4, 6))
    b = op.dense_matrix()
    per_step = rng.standard_normal((3, 4, 10)).astype(np.float32)
    np.testing.assert_allclose(op.apply(per_step), per_step @ b.T, rtol=1e-5, atol=1e-6)
    once = rng.standard_normal((3, 10)).astype(np.float32)
    got = op.apply(once)
    assert got.shape == (3, 4, 6)
    for t in range(4):
        np.testing.assert_allclose(got[:, t], once @ b.T, rtol=1e-5, atol=1e-6)


def test_dilation_for_density_per_spatial_rank():
    assert dilation_for(1.0, (8, 8)) == (1, 1)
    assert dilation_for(0.1, (8, 8)) == (3, 3)
    assert dilation_for(0.1, (20,)) == (10,)
    assert dilation_for(0.01, (5,)) == (5,)  # capped at the map size


@pytest.mark.parametrize("density", [0.5, 0.02])  # 0.02 of 10 columns: most rows are empty
def test_dense_csr_t_at_vgg_scale_split_over_threads_equals_dense_reference(density):
    """Enough rows and samples that the kernel runs on several threads (rows split)."""
    rng = np.random.default_rng(8)
    a = random_csr(20000, 10, density, rng)
    e = rng.standard_normal((64, 10)).astype(np.float32)
    want = e.astype(np.float64) @ a.to_dense().T.astype(np.float64)
    got = dense_csr_t(e, a)
    assert got.shape == (64, 20000) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    np.testing.assert_array_equal(dense_csr_t(e, a), got)  # deterministic


@pytest.mark.parametrize(
    "small_shape,dilation,size",
    [
        ((2, 3, 3, 2), (2, 3), (5, 6)),
        ((1, 2, 4), (3,), (11,)),
        ((4, 64, 64, 64), (2, 2), (128, 127)),
    ],
)
def test_block_upsample_equals_naive_loop(small_shape, dilation, size):
    from accelsim.nn.kernels.upsample import block_upsample

    small = np.random.default_rng(9).standard_normal(small_shape).astype(np.float32)
    got = block_upsample(small, dilation, size)
    want = np.empty((*small_shape[:2], *size), np.float32)
    for index in np.ndindex(*size):
        src = tuple(i // d for i, d in zip(index, dilation, strict=True))
        want[(slice(None), slice(None), *index)] = small[(slice(None), slice(None), *src)]
    np.testing.assert_array_equal(got, want)

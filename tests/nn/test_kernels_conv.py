"""Convolution kernels: forward vs a float64 loop reference, backward vs finite differences of
that reference, and both vs torch when it is installed. Covers stride, padding, dilation,
groups (depthwise too), odd sizes, non-square kernels and 1-D convolutions."""

from __future__ import annotations

import numpy as np
import pytest
from gradcheck import assert_close, numeric_grad

from accelsim.nn.kernels.conv import (
    conv1d_backward_data,
    conv1d_backward_weight,
    conv1d_forward,
    conv2d_backward_data,
    conv2d_backward_weight,
    conv2d_forward,
)

# (N, C, H, W, Co, (kh, kw), stride, padding, dilation, groups)
CASES = [
    (2, 3, 7, 9, 4, (3, 2), (2, 1), (1, 2), (1, 2), 1),
    (2, 4, 6, 6, 4, (3, 3), (1, 1), (1, 1), (1, 1), 4),  # depthwise
    (3, 6, 5, 7, 9, (2, 3), (2, 3), (0, 1), (2, 1), 3),
    (1, 2, 5, 5, 3, (1, 1), (1, 1), (0, 0), (1, 1), 1),  # 1x1
    (2, 4, 8, 5, 2, (5, 3), (3, 2), (2, 2), (1, 2), 2),  # big padding, strided
    # stride 1 with >= 8 channels per group takes the shifted-GEMM path (conv._conv_shift)
    (2, 8, 5, 6, 8, (3, 2), (1, 1), (1, 1), (1, 2), 1),
    (2, 16, 6, 5, 16, (3, 3), (1, 1), (1, 0), (1, 1), 2),  # groups, asymmetric padding
    (1, 8, 4, 7, 9, (2, 3), (1, 1), (0, 3), (1, 1), 1),  # padding > (k-1)*d: im2col data grad
    (2, 6, 7, 5, 3, (3, 3), (1, 1), (2, 1), (2, 1), 1),  # shifted forward, im2col data grad
]
IDS = [f"case{i}" for i in range(len(CASES))]


def reference_conv2d(x, w, b, stride, padding, dilation, groups):
    """Direct float64 convolution from its definition, one kernel tap at a time."""
    n, c, h, wid = x.shape
    co, cg, kh, kw = w.shape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    ho = (h + 2 * ph - dh * (kh - 1) - 1) // sh + 1
    wo = (wid + 2 * pw - dw * (kw - 1) - 1) // sw + 1
    xp = np.zeros((n, c, h + 2 * ph, wid + 2 * pw))
    xp[:, :, ph : ph + h, pw : pw + wid] = x
    y = np.zeros((n, co, ho, wo))
    cog = co // groups
    for g in range(groups):
        xs = xp[:, g * cg : (g + 1) * cg]
        ws = w[g * cog : (g + 1) * cog]
        for i in range(kh):
            for j in range(kw):
                patch = xs[:, :, i * dh : i * dh + sh * ho : sh, j * dw : j * dw + sw * wo : sw]
                y[:, g * cog : (g + 1) * cog] += np.einsum("nchw,oc->nohw", patch, ws[:, :, i, j])
    if b is not None:
        y += b[None, :, None, None]
    return y


def make(case, seed=0):
    n, c, h, w, co, k, s, p, d, g = case
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = rng.standard_normal((co, c // g, *k)).astype(np.float32)
    b = rng.standard_normal(co).astype(np.float32)
    return x, wt, b, s, p, d, g


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv2d_forward_matches_loop_reference(case):
    x, w, b, s, p, d, g = make(case)
    want = reference_conv2d(x.astype(np.float64), w.astype(np.float64), b, s, p, d, g)
    assert_close(conv2d_forward(x, w, b, s, p, d, g), want)
    assert_close(conv2d_forward(x, w, None, s, p, d, g), want - b[None, :, None, None])


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_conv2d_backward_matches_finite_differences(case):
    x, w, b, s, p, d, g = make(case)
    x64, w64, b64 = x.astype(np.float64), w.astype(np.float64), b.astype(np.float64)
    dy = np.random.default_rng(1).standard_normal(reference_conv2d(x64, w64, b64, s, p, d, g).shape)

    def loss_x(v):
        return float((reference_conv2d(v, w64, b64, s, p, d, g) * dy).sum())

    def loss_w(v):
        return float((reference_conv2d(x64, v, b64, s, p, d, g) * dy).sum())

    def loss_b(v):
        return float((reference_conv2d(x64, w64, v, s, p, d, g) * dy).sum())

    dy32 = dy.astype(np.float32)
    dx = conv2d_backward_data(dy32, w, x.shape, s, p, d, g)
    dw, db = conv2d_backward_weight(x, dy32, w.shape, s, p, d, g)
    assert dx.dtype == dw.dtype == db.dtype == np.float32
    # FD of a linear function in float64 is accurate to ~1e-9; the bound is float32 rounding.
    assert_close(dx, numeric_grad(loss_x, x64.copy()), rel=1e-4)
    assert_close(dw, numeric_grad(loss_w, w64.copy()), rel=1e-4)
    assert_close(db, numeric_grad(loss_b, b64.copy()), rel=1e-4)


def test_conv1d_wrappers_match_2d_reference_and_finite_differences():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 4, 13)).astype(np.float32)
    w = rng.standard_normal((6, 2, 3)).astype(np.float32)
    b = rng.standard_normal(6).astype(np.float32)
    s, p, d, g = 2, 2, 3, 2

    def ref(xv, wv):
        y = reference_conv2d(xv[:, :, None], wv[:, :, None], b, (1, s), (0, p), (1, d), g)
        return y[:, :, 0]

    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    y = conv1d_forward(x, w, b, s, p, d, g)
    assert_close(y, ref(x64, w64))
    dy = rng.standard_normal(y.shape)
    dx = conv1d_backward_data(dy.astype(np.float32), w, x.shape, s, p, d, g)
    dw, db = conv1d_backward_weight(x, dy.astype(np.float32), w.shape, s, p, d, g)
    assert_close(dx, numeric_grad(lambda v: float((ref(v, w64) * dy).sum()), x64.copy()), 1e-4)
    assert_close(dw, numeric_grad(lambda v: float((ref(x64, v) * dy).sum()), w64.copy()), 1e-4)
    assert_close(db, dy.sum(axis=(0, 2)), 1e-4)


def test_batch_split_over_threads_gives_the_same_result_as_one_sample_at_a_time():
    x, w, b, s, p, d, g = make((7, 6, 9, 8, 6, (3, 3), (1, 2), (1, 1), (1, 1), 2))
    whole = conv2d_forward(x, w, b, s, p, d, g)
    single = np.concatenate([conv2d_forward(x[i : i + 1], w, b, s, p, d, g) for i in range(7)])
    np.testing.assert_array_equal(whole, single)


@pytest.mark.parametrize("per", [1, 2, 3])
def test_im2col_path_with_several_samples_per_gemm_matches_reference(monkeypatch, per):
    from accelsim.nn.kernels import conv

    case = (5, 6, 7, 8, 4, (3, 2), (2, 1), (1, 1), (1, 2), 2)  # 3 channels/group: im2col path
    x, w, b, s, p, d, g = make(case, seed=10)
    x64, w64, b64 = x.astype(np.float64), w.astype(np.float64), b.astype(np.float64)
    want = reference_conv2d(x64, w64, b64, s, p, d, g)
    positions = want.shape[2] * want.shape[3]
    monkeypatch.setattr(conv, "GEMM_MIN_COLUMNS", per * positions)  # blocks of `per` samples
    dy = np.random.default_rng(11).standard_normal(want.shape)
    assert_close(conv2d_forward(x, w, b, s, p, d, g), want)
    dx = conv2d_backward_data(dy.astype(np.float32), w, x.shape, s, p, d, g)
    dw, db = conv2d_backward_weight(x, dy.astype(np.float32), w.shape, s, p, d, g)
    assert_close(
        dx,
        numeric_grad(
            lambda v: float((reference_conv2d(v, w64, b64, s, p, d, g) * dy).sum()), x64.copy()
        ),
        1e-4,
    )
    assert_close(
        dw,
        numeric_grad(
            lambda v: float((reference_conv2d(x64, v, b64, s, p, d, g) * dy).sum()), w64.copy()
        ),
        1e-4,
    )
    assert_close(db, dy.sum(axis=(0, 2, 3)), 1e-4)


def test_shifted_gemm_and_im2col_paths_agree():
    stride = (1, 1)
    x, w, b, _, p, d, g = make((3, 16, 9, 8, 12, (3, 2), (1, 1), (1, 1), (2, 1), 2), seed=8)
    dy = (
        np.random.default_rng(9)
        .standard_normal(conv2d_forward(x, w, b, stride, p, d, g).shape)
        .astype(np.float32)
    )

    def run(variant):
        return (
            conv2d_forward(x, w, b, stride, p, d, g, variant=variant),
            conv2d_backward_data(dy, w, x.shape, stride, p, d, g, variant=variant),
            *conv2d_backward_weight(x, dy, w.shape, stride, p, d, g, variant=variant),
        )

    for got, want in zip(run("shift"), run("im2col"), strict=True):
        assert_close(got, want.astype(np.float64))


TORCH_CASES = [
    (8, 3, 32, 32, 32, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    (6, 32, 16, 16, 32, (3, 3), (1, 1), (1, 1), (1, 1), 1),
    (5, 32, 9, 11, 64, (3, 5), (1, 1), (2, 1), (2, 1), 2),
    (4, 16, 8, 8, 16, (5, 5), (1, 1), (0, 0), (1, 1), 1),
    (4, 32, 16, 16, 32, (3, 3), (2, 2), (1, 1), (1, 1), 1),
    (4, 16, 11, 9, 16, (3, 5), (1, 2), (2, 1), (2, 1), 16),
    (5, 12, 10, 10, 24, (3, 3), (1, 1), (2, 2), (2, 2), 4),
    (6, 1, 28, 28, 6, (5, 5), (1, 1), (2, 2), (1, 1), 1),
]


@pytest.mark.parametrize("case", TORCH_CASES, ids=[f"t{i}" for i in range(len(TORCH_CASES))])
def test_conv2d_matches_torch(case):
    torch = pytest.importorskip("torch")
    fn = torch.nn.functional
    x, w, b, s, p, d, g = make(case, seed=5)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = fn.conv2d(xt, wt, bt, s, p, d, g)
    dy = np.random.default_rng(6).standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(dy))
    assert_close(conv2d_forward(x, w, b, s, p, d, g), yt.detach().numpy())
    assert_close(conv2d_backward_data(dy, w, x.shape, s, p, d, g), xt.grad.numpy())
    dw, db = conv2d_backward_weight(x, dy, w.shape, s, p, d, g)
    assert_close(dw, wt.grad.numpy())
    assert_close(db, bt.grad.numpy())


def test_conv1d_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(7)
    x = rng.standard_normal((16, 32, 40)).astype(np.float32)
    w = rng.standard_normal((32, 32, 5)).astype(np.float32)
    b = rng.standard_normal(32).astype(np.float32)
    xt, wt = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    yt = torch.nn.functional.conv1d(xt, wt, torch.tensor(b), 2, 2, 1, 1)
    dy = rng.standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(dy))
    assert_close(conv1d_forward(x, w, b, 2, 2, 1, 1), yt.detach().numpy())
    assert_close(conv1d_backward_data(dy, w, x.shape, 2, 2, 1, 1), xt.grad.numpy())
    assert_close(conv1d_backward_weight(x, dy, w.shape, 2, 2, 1, 1)[0], wt.grad.numpy())


# ---- every kernel variant the dispatcher can pick, forced, against the references ----------

from accelsim.nn.kernels import _conv_batched  # noqa: E402
from accelsim.nn.kernels.conv import VARIANTS, choose_variant  # noqa: E402


def _variant_applies(variant, case, op):
    """The shift variant needs stride 1 (and, for the data gradient, padding <= (k-1)*d)."""
    _, _, _, _, _, k, s, p, d, _ = case
    if variant != "shift":
        return True
    if tuple(s) != (1, 1):
        return False
    return op != "data" or (p[0] <= (k[0] - 1) * d[0] and p[1] <= (k[1] - 1) * d[1])


def _finite_difference_grads(x64, w64, b64, s, p, d, g, dy):
    """d/dx and d/dw of sum(reference_conv2d * dy) by central differences (float64)."""

    def loss_x(v):
        return float((reference_conv2d(v, w64, b64, s, p, d, g) * dy).sum())

    def loss_w(v):
        return float((reference_conv2d(x64, v, b64, s, p, d, g) * dy).sum())

    return numeric_grad(loss_x, x64.copy()), numeric_grad(loss_w, w64.copy())


VARIANT_CASES = [(v, i) for v in VARIANTS for i in range(len(CASES))]


@pytest.mark.parametrize(
    ("variant", "index"), VARIANT_CASES, ids=[f"{v}-case{i}" for v, i in VARIANT_CASES]
)
def test_each_variant_matches_loop_reference_and_finite_differences(variant, index):
    case = CASES[index]
    x, w, b, s, p, d, g = make(case, seed=20 + index)
    x64, w64, b64 = x.astype(np.float64), w.astype(np.float64), b.astype(np.float64)
    want = reference_conv2d(x64, w64, b64, s, p, d, g)
    dy = np.random.default_rng(21).standard_normal(want.shape)
    dy32 = dy.astype(np.float32)
    want_dx, want_dw = _finite_difference_grads(x64, w64, b64, s, p, d, g, dy)
    if _variant_applies(variant, case, "forward"):
        assert_close(conv2d_forward(x, w, b, s, p, d, g, variant=variant), want)
        dw, db = conv2d_backward_weight(x, dy32, w.shape, s, p, d, g, variant=variant)
        assert_close(dw, want_dw, rel=1e-4)
        assert_close(db, dy.sum(axis=(0, 2, 3)), rel=1e-4)
    if _variant_applies(variant, case, "data"):
        dx = conv2d_backward_data(dy32, w, x.shape, s, p, d, g, variant=variant)
        assert_close(dx, want_dx, rel=1e-4)


def test_shift_variant_refuses_what_it_cannot_compute():
    x, w, b, s, p, d, g = make(CASES[0])  # stride (2, 1)
    with pytest.raises(ValueError, match="stride 1"):
        conv2d_forward(x, w, b, s, p, d, g, variant="shift")
    with pytest.raises(ValueError, match="unknown convolution variant"):
        conv2d_forward(x, w, b, s, p, d, g, variant="winograd")
    with pytest.raises(ValueError, match="unknown convolution op"):
        choose_variant("backward", x.shape, w.shape, s, p, d, g)


# Shapes the default rule sends to the batched variant: small maps, K = Cg*kh*kw large.
BATCHED_CASES = [
    (3, 64, 4, 4, 32, (3, 3), (1, 1), (1, 1), (1, 1), 1),  # VGG-like 4x4
    (2, 64, 5, 5, 24, (3, 3), (2, 2), (1, 1), (1, 1), 2),  # stride 2, groups
    (3, 96, 4, 4, 12, (3, 3), (1, 1), (1, 2), (2, 2), 3),  # dilation, padding, groups
    (4, 40, 3, 3, 40, (3, 3), (1, 1), (1, 1), (1, 1), 1),  # 3x3 maps
]


@pytest.mark.parametrize("case", BATCHED_CASES, ids=[f"b{i}" for i in range(len(BATCHED_CASES))])
def test_default_rule_picks_batched_and_it_matches_reference(case):
    x, w, b, s, p, d, g = make(case, seed=30)
    for op, shape in (("forward", x.shape), ("data", x.shape), ("weight", x.shape)):
        assert choose_variant(op, shape, w.shape, s, p, d, g) == "batched"
    x64, w64, b64 = x.astype(np.float64), w.astype(np.float64), b.astype(np.float64)
    want = reference_conv2d(x64, w64, b64, s, p, d, g)
    assert_close(conv2d_forward(x, w, b, s, p, d, g), want)
    dy = np.random.default_rng(31).standard_normal(want.shape)
    dx = conv2d_backward_data(dy.astype(np.float32), w, x.shape, s, p, d, g)
    dw, db = conv2d_backward_weight(x, dy.astype(np.float32), w.shape, s, p, d, g)
    _check_directional_derivatives(x64, w64, b64, s, p, d, g, dy, dx, dw)
    assert_close(db, dy.sum(axis=(0, 2, 3)), rel=1e-4)


def _check_directional_derivatives(x64, w64, b64, s, p, d, g, dy, dx, dw, directions=6):
    """Finite differences along random directions instead of per element (these shapes have
    ~20k inputs and weights: one central difference each took a minute). L(x, w) =
    sum(conv(x, w) * dy) is linear in x and in w, so the central difference along u equals
    <dL/dx, u> up to float64 rounding; a wrong component of dx changes <dx, u> for almost every
    random u, so a few directions catch it."""
    rng = np.random.default_rng(32)

    def loss(xv, wv):
        return float((reference_conv2d(xv, wv, b64, s, p, d, g) * dy).sum())

    for _ in range(directions):
        u, v = rng.standard_normal(x64.shape), rng.standard_normal(w64.shape)
        fd_x = (loss(x64 + 0.5 * u, w64) - loss(x64 - 0.5 * u, w64)) / 1.0
        fd_w = (loss(x64, w64 + 0.5 * v) - loss(x64, w64 - 0.5 * v)) / 1.0
        # float32 kernels against a float64 reference: each component is good to ~1e-6
        # relative (sums of a few hundred products), so 1e-5 of the summed magnitudes is safe
        # for rounding and still catches a gradient 0.1 % off
        assert abs(float((dx * u).sum()) - fd_x) <= 1e-5 * float(np.abs(dx * u).sum())
        assert abs(float((dw * v).sum()) - fd_w) <= 1e-5 * float(np.abs(dw * v).sum())


@pytest.mark.parametrize("block_floats", [1, 2 * 64 * 9 * 16])
def test_batched_variant_over_several_sample_blocks_matches_one_block(monkeypatch, block_floats):
    """Blocks of 1 and of 2 samples (5 samples: a shorter last block) accumulate dW across
    blocks with beta = 1; they must agree with the reference computed in one block."""
    case = (5, 64, 4, 4, 16, (3, 3), (1, 1), (1, 1), (1, 1), 1)
    x, w, b, s, p, d, g = make(case, seed=40)
    dy = np.random.default_rng(41).standard_normal((5, 16, 4, 4)).astype(np.float32)
    one = (
        conv2d_forward(x, w, b, s, p, d, g, variant="batched"),
        conv2d_backward_data(dy, w, x.shape, s, p, d, g, variant="batched"),
        *conv2d_backward_weight(x, dy, w.shape, s, p, d, g, variant="batched"),
    )
    monkeypatch.setattr(_conv_batched, "COL_BUDGET_FLOATS", block_floats)
    assert _conv_batched.samples_per_block(5, 64 * 9, 16) < 5
    several = (
        conv2d_forward(x, w, b, s, p, d, g, variant="batched"),
        conv2d_backward_data(dy, w, x.shape, s, p, d, g, variant="batched"),
        *conv2d_backward_weight(x, dy, w.shape, s, p, d, g, variant="batched"),
    )
    for got, want in zip(several, one, strict=True):
        assert_close(got, want.astype(np.float64))


def test_batched_variant_is_deterministic():
    x, w, b, s, p, d, g = make(BATCHED_CASES[0], seed=50)
    dy = np.random.default_rng(51).standard_normal((3, 32, 4, 4)).astype(np.float32)
    first = conv2d_backward_weight(x, dy, w.shape, s, p, d, g)
    for _ in range(3):
        again = conv2d_backward_weight(x, dy, w.shape, s, p, d, g)
        np.testing.assert_array_equal(again[0], first[0])
        np.testing.assert_array_equal(again[1], first[1])


@pytest.mark.parametrize("variant", VARIANTS)
def test_conv1d_each_variant_matches_reference(variant):
    rng = np.random.default_rng(60)
    x = rng.standard_normal((3, 32, 9)).astype(np.float32)
    w = rng.standard_normal((16, 16, 3)).astype(np.float32)
    b = rng.standard_normal(16).astype(np.float32)
    stride = 1 if variant == "shift" else 2
    s, p, d, g = stride, 2, 2, 2

    def ref(xv, wv):
        return reference_conv2d(xv[:, :, None], wv[:, :, None], b, (1, s), (0, p), (1, d), g)[
            :, :, 0
        ]

    x64, w64 = x.astype(np.float64), w.astype(np.float64)
    y = conv1d_forward(x, w, b, s, p, d, g, variant=variant)
    assert_close(y, ref(x64, w64))
    dy = rng.standard_normal(y.shape)
    dx = conv1d_backward_data(dy.astype(np.float32), w, x.shape, s, p, d, g, variant=variant)
    dw, db = conv1d_backward_weight(x, dy.astype(np.float32), w.shape, s, p, d, g, variant=variant)
    assert_close(dx, numeric_grad(lambda v: float((ref(v, w64) * dy).sum()), x64.copy()), 1e-4)
    assert_close(dw, numeric_grad(lambda v: float((ref(x64, v) * dy).sum()), w64.copy()), 1e-4)
    assert_close(db, dy.sum(axis=(0, 2)), 1e-4)


@pytest.mark.parametrize("case", BATCHED_CASES[:3], ids=["tb0", "tb1", "tb2"])
def test_batched_variant_matches_torch(case):
    torch = pytest.importorskip("torch")
    x, w, b, s, p, d, g = make(case, seed=70)
    xt = torch.tensor(x, requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    bt = torch.tensor(b, requires_grad=True)
    yt = torch.nn.functional.conv2d(xt, wt, bt, s, p, d, g)
    dy = np.random.default_rng(71).standard_normal(tuple(yt.shape)).astype(np.float32)
    yt.backward(torch.tensor(dy))
    assert_close(conv2d_forward(x, w, b, s, p, d, g, variant="batched"), yt.detach().numpy())
    dx = conv2d_backward_data(dy, w, x.shape, s, p, d, g, variant="batched")
    assert_close(dx, xt.grad.numpy())
    dw, db = conv2d_backward_weight(x, dy, w.shape, s, p, d, g, variant="batched")
    assert_close(dw, wt.grad.numpy())
    assert_close(db, bt.grad.numpy())

"""Recurrent kernels: forward and BPTT against a float64 reference, finite differences and torch."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.nn.kernels.rnn import CELL_GATES, recurrent_backward, recurrent_forward

CELLS = ("rnn", "lstm", "gru")
N, T, F, H = 3, 5, 4, 6


def _sig(v):
    return 1.0 / (1.0 + np.exp(-v))


def _step(cell, x, h, c, w_ih, w_hh, b_ih, b_hh):
    """One float64 step of ``cell`` written straight from PyTorch's documented equations."""
    gi = x @ w_ih.T + b_ih
    gh = h @ w_hh.T + b_hh
    if cell == "rnn":
        return np.tanh(gi + gh), c
    if cell == "lstm":
        i, f, g, o = np.split(gi + gh, 4, axis=1)
        c = _sig(f) * c + _sig(i) * np.tanh(g)
        return _sig(o) * np.tanh(c), c
    ir, iz, inn = np.split(gi, 3, axis=1)
    hr, hz, hn = np.split(gh, 3, axis=1)
    r, z = _sig(ir + hr), _sig(iz + hz)
    n = np.tanh(inn + r * hn)
    return (1 - z) * n + z * h, c


def reference(cell, x, params, fixed_prev=None):
    """All hidden states (float64). ``fixed_prev`` (h, c per step) cuts the flow through time."""
    w_ih, w_hh, b_ih, b_hh = params
    h = np.zeros((x.shape[0], w_hh.shape[1]))
    c = np.zeros_like(h)
    out, states = [], []
    for t in range(x.shape[1]):
        if fixed_prev is not None:
            h, c = fixed_prev[t]
        states.append((h, c))
        h, c = _step(cell, x[:, t], h, c, w_ih, w_hh, b_ih, b_hh)
        out.append(h)
    return np.stack(out, axis=1), states


def _problem(cell, seed=0):
    rng = np.random.default_rng(seed)
    size = CELL_GATES[cell] * H
    params = [rng.uniform(-0.6, 0.6, shape) for shape in ((size, F), (size, H), (size,), (size,))]
    x = rng.standard_normal((N, T, F))
    return rng, x, params


def _numeric(fun, arrays, eps=1e-6):
    grads = []
    for array in arrays:
        grad = np.zeros_like(array)
        flat, gflat = array.reshape(-1), grad.reshape(-1)
        for i in range(flat.size):
            keep = flat[i]
            flat[i] = keep + eps
            up = fun()
            flat[i] = keep - eps
            down = fun()
            flat[i] = keep
            gflat[i] = (up - down) / (2 * eps)
        grads.append(grad)
    return grads


def _kernel(cell, x, params, dh, through_time=True):
    f32 = [p.astype(np.float32) for p in params]
    h, saved = recurrent_forward(cell, x.astype(np.float32), *f32)
    grads = recurrent_backward(cell, dh.astype(np.float32), saved, f32[0], f32[1], through_time)
    return h, grads


def _close(got, want, rel=2e-3):
    scale = max(np.abs(want).max(), 1e-3)
    assert np.abs(got - want).max() <= rel * scale, (np.abs(got - want).max(), scale)


@pytest.mark.parametrize("cell", CELLS)
def test_forward_matches_float64_reference(cell):
    _, x, params = _problem(cell)
    h, _ = _kernel(cell, x, params, np.zeros((N, T, H)))
    want, _ = reference(cell, x, params)
    assert np.abs(h - want).max() < 2e-6


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("loss", ["last_step", "every_step"])
def test_bptt_matches_finite_differences(cell, loss):
    rng, x, params = _problem(cell, seed=1)
    weights = rng.standard_normal((N, T, H))
    if loss == "last_step":
        weights[:, :-1] = 0.0

    def objective():
        return float(np.sum(reference(cell, x, params)[0] * weights))

    numeric = _numeric(objective, [x, *params])
    _, grads = _kernel(cell, x, params, weights)
    for got, want in zip(grads, numeric, strict=True):
        _close(got, want)


@pytest.mark.parametrize("cell", CELLS)
def test_without_flow_through_time_each_step_is_local(cell):
    """through_time=False is the gradient with every h_{t-1} (and c_{t-1}) held constant."""
    rng, x, params = _problem(cell, seed=2)
    weights = rng.standard_normal((N, T, H))
    _, states = reference(cell, x, params)

    def objective():
        return float(np.sum(reference(cell, x, params, fixed_prev=states)[0] * weights))

    numeric = _numeric(objective, [x, *params])
    _, grads = _kernel(cell, x, params, weights, through_time=False)
    for got, want in zip(grads, numeric, strict=True):
        _close(got, want)


@pytest.mark.parametrize("cell", CELLS)
def test_bptt_equals_torch_autograd(cell):
    torch = pytest.importorskip("torch")
    module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    torch.manual_seed(0)
    net = module(7, 16, batch_first=True)
    rng = np.random.default_rng(3)
    x = rng.standard_normal((4, 9, 7)).astype(np.float32)
    dh = rng.standard_normal((4, 9, 16)).astype(np.float32)
    params = [
        getattr(net, f"{name}_l0").detach().numpy().copy()
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    xt = torch.tensor(x, requires_grad=True)
    out, _ = net(xt)
    out.backward(torch.tensor(dh))
    want = [xt.grad] + [
        getattr(net, f"{name}_l0").grad for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
    ]
    h, saved = recurrent_forward(cell, x, *params)
    got = recurrent_backward(cell, dh, saved, params[0], params[1])
    ref_out = out.detach().numpy()
    assert np.abs(h - ref_out).max() <= 1e-4 * np.abs(ref_out).max()
    for g, w in zip(got, want, strict=True):
        w = w.numpy()
        assert np.abs(g - w).max() <= 1e-4 * np.abs(w).max()


def test_missing_biases_act_as_zero():
    _, x, params = _problem("gru", seed=4)
    zero = [params[0], params[1], np.zeros_like(params[2]), np.zeros_like(params[3])]
    with_zero, _ = recurrent_forward("gru", x, *[p.astype(np.float32) for p in zero])
    without, _ = recurrent_forward("gru", x, zero[0].astype(np.float32), zero[1].astype(np.float32))
    np.testing.assert_array_equal(with_zero, without)

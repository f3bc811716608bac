"""DFA extensions: module/hybrid limits equal BP and DFA exactly; structured feedback and RNNs."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from nets import cnn1d, cnn2d, mlp, synthetic

from accelsim.nn import Network
from accelsim.nn.algorithms.feedback_ops import DilatedConvFeedback, SequenceFeedback
from accelsim.nn.kernels.activation import activation_derivative
from accelsim.nn.kernels.loss import softmax_cross_entropy
from accelsim.nn.kernels.rnn import recurrent_backward


def gru_last(classes=4):
    return {
        "name": "gru-last",
        "dataset": synthetic([6, 3], classes),
        "layers": [
            {"name": "rnn1", "type": "gru", "hidden_size": 8, "output": "sequence"},
            {"name": "rnn2", "type": "lstm", "hidden_size": 7},
            {"name": "fc1", "type": "linear", "out_features": 5, "activation": "tanh"},
            {"name": "fc2", "type": "linear", "out_features": classes},
        ],
    }


def rnn_per_step(classes=4):
    return {
        "name": "rnn-steps",
        "dataset": synthetic([5, 3], classes),
        "layers": [
            {"name": "rnn1", "type": "rnn", "hidden_size": 6, "output": "sequence"},
            {"name": "fc1", "type": "linear", "out_features": 5, "activation": "relu"},
            {"name": "fc2", "type": "linear", "out_features": classes},
        ],
    }


NETS = {"mlp": mlp, "cnn2d": cnn2d, "cnn1d": cnn1d, "gru": gru_last, "rnn": rnn_per_step}


def _net(name, extensions=None, algorithm="dfa"):
    spec = copy.deepcopy(NETS[name]())
    spec["training"] = {
        "algorithm": algorithm,
        **({"extensions": extensions} if extensions else {}),
    }
    return Network.from_spec(spec, seed=3)


def _batch(net, n=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *net.layers[0].input_shape)).astype(np.float32)
    out = net.output_shape
    y = rng.integers(0, out[-1], size=(n, out[0]) if len(out) == 2 else n)
    return x, y


def _grads(net, algorithm):
    x, y = _batch(net)
    return net.loss_and_grads(x, y, algorithm)[1]


def _names(net):
    return [layer.name for layer in net.layers if layer.has_params]


def _same(a, b):
    assert a.keys() == b.keys()
    for key in a:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)


@pytest.mark.parametrize("name", list(NETS))
def test_one_layer_per_module_is_bp_exactly(name):
    probe = _net(name)
    modules = [[n] for n in _names(probe)]
    net = _net(name, {"modules": modules})
    _same(_grads(net, "modular-dfa"), _grads(net, "bp"))


@pytest.mark.parametrize("name", list(NETS))
def test_one_module_is_plain_dfa_exactly(name):
    probe = _net(name)
    net = _net(name, {"modules": [_names(probe)]})
    _same(_grads(net, "modular-dfa"), _grads(net, "dfa"))


@pytest.mark.parametrize("name", ["mlp", "cnn2d", "gru"])
def test_hybrid_limits_are_dfa_and_bp(name):
    names = _names(_net(name))
    assert_all = _net(name, {"bp_layers": names})
    _same(_grads(assert_all, "hybrid-dfa"), _grads(assert_all, "bp"))
    none = _net(name, {"bp_layers": []})
    _same(_grads(none, "hybrid-dfa"), _grads(none, "dfa"))


def test_sparse_dfa_at_density_one_is_dfa():
    net = _net("cnn2d", {"density": 1.0})
    _same(_grads(net, "sparse-dfa"), _grads(net, "dfa"))


def test_modular_dfa_reads_the_module_top_error():
    """Inside a module, d_l = (B_l d_top) * f'(a_l); the top takes BP's error from above."""
    net = _net("mlp", {"modules": [["fc1", "fc2"], ["fc3"]]})
    x, y = _batch(net)
    plan = net.plan("modular-dfa")
    logits, records = net.forward_records(x)
    _, e = softmax_cross_entropy(logits, np.asarray(y, np.int64))
    w3 = net.params["fc3.weight"]
    d2 = (e @ w3) * activation_derivative(records[1].a, records[1].h, "tanh")
    b1 = plan.source("fc1").operator.matrix
    d1 = (d2 @ b1.T) * activation_derivative(records[0].a, records[0].h, "tanh")
    grads = net.loss_and_grads(x, y, "modular-dfa")[1]
    np.testing.assert_allclose(grads["fc2.weight"], d2.T @ records[0].h, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(
        grads["fc1.weight"], d1.T @ x.reshape(len(x), -1), rtol=1e-4, atol=1e-6
    )


@pytest.mark.parametrize("name", ["cnn2d", "cnn1d"])
def test_sparse_grouped_conv_feedback_update_uses_its_dense_b(name):
    net = _net(name, {"density": 0.1, "groups": 2})
    x, y = _batch(net)
    plan = net.plan("sparse-dfa")
    op = plan.source("conv1").operator
    assert isinstance(op, DilatedConvFeedback) and op.groups == 2
    spatial = op.target_shape[1:]
    assert op.dilation == tuple(min(round(0.1 ** (-1 / len(spatial))), s) for s in spatial)
    assert op.density == pytest.approx(np.prod(op.taps) / np.prod(spatial) * op.class_mask().mean())
    logits, records = net.forward_records(x)
    _, e = softmax_cross_entropy(logits, np.asarray(y, np.int64))
    injected = (e @ op.dense_matrix().T).reshape(len(x), *op.target_shape)
    delta = injected * activation_derivative(records[0].a, records[0].h, "tanh")
    want = net.layers[0].backward_weight(delta, records[0].cache)["weight"]
    got = net.loss_and_grads(x, y, "sparse-dfa")[1]["conv1.weight"]
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_rnn_dfa_injects_b_e_at_every_step_and_runs_bptt_inside_the_layer():
    net = _net("gru")
    x, y = _batch(net)
    plan = net.plan("dfa")
    op = plan.source("rnn1").operator
    assert isinstance(op, SequenceFeedback) and op.target_shape == (6, 8)
    logits, records = net.forward_records(x)
    _, e = softmax_cross_entropy(logits, np.asarray(y, np.int64))
    dh = np.broadcast_to((e @ op.dense_matrix().T)[:, None, :], (len(x), 6, 8))
    p = net.params
    want = recurrent_backward(
        "gru", dh, records[0].cache["saved"], p["rnn1.weight_ih"], p["rnn1.weight_hh"]
    )
    got = net.loss_and_grads(x, y, "dfa")[1]
    for value, key in zip(want[1:], ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), strict=True):
        np.testing.assert_allclose(got[f"rnn1.{key}"], value, rtol=1e-4, atol=1e-6)


def test_sparse_dfa_on_rnn_stores_csr_feedback_of_the_density():
    net = _net("rnn", {"density": 0.5})
    op = net.plan("sparse-dfa").source("rnn1").operator
    assert isinstance(op, SequenceFeedback)
    assert op.density == pytest.approx(0.5)
    nnz = int((op.dense_matrix() != 0).sum())
    assert nnz == 12  # half of the 6 x 4 matrix
    assert op.size_bytes == 4 * (2 * nnz + 6 + 1)  # values, column indices, row pointers


@pytest.mark.parametrize("name", ["gru", "rnn"])
def test_recurrent_network_bp_equals_torch(name):
    torch = pytest.importorskip("torch")
    net = _net(name)
    x, y = _batch(net)
    loss, grads = net.loss_and_grads(x, y, "bp")
    params = {k: torch.tensor(v, requires_grad=True) for k, v in net.params.items()}
    h = torch.tensor(x)
    for layer in net.layers:
        spec = layer.spec
        if spec.kind == "recurrent":
            module = {"rnn": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[spec.cell]
            names = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            h, _ = torch.func.functional_call(
                module(spec.input_shape[1], spec.hidden_size, batch_first=True),
                {f"{n}_l0": params[f"{spec.name}.{n}"] for n in names},
                (h,),
            )
            if spec.output == "last":
                h = h[:, -1]
        else:
            h = h @ params[f"{spec.name}.weight"].T + params[f"{spec.name}.bias"]
            h = {"tanh": torch.tanh, "relu": torch.relu}.get(spec.activation, lambda v: v)(h)
    ref = torch.nn.functional.cross_entropy(h.reshape(-1, h.shape[-1]), torch.tensor(y).reshape(-1))
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-5)
    for key, value in grads.items():
        want = params[key].grad.numpy()
        assert np.abs(value - want).max() <= 1e-4 * np.abs(want).max(), key

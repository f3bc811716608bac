"""FA and DFA update directions follow their formulas; feedback is seeded and fixed."""

from __future__ import annotations

import numpy as np
import pytest
from nets import cnn2d, mlp

from accelsim.nn import Network
from accelsim.nn.algorithms import (
    OUTPUT,
    ConvFeedback,
    DenseFeedback,
    Direct,
    FromAbove,
    Plan,
    backward,
)


def _batch(net, n=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *net.layers[0].input_shape)).astype(np.float32)
    return x, rng.integers(0, net.output_shape[-1], size=n)


def _mlp_reference(net, x, y):
    """Float64 forward of the tanh MLP: pre-activations, outputs, and e = (softmax - onehot)/N."""
    p = {k: v.astype(np.float64) for k, v in net.params.items()}
    hs, as_ = [x.reshape(len(x), -1).astype(np.float64)], []
    for i, name in enumerate(("fc1", "fc2", "fc3")):
        a = hs[-1] @ p[f"{name}.weight"].T + p[f"{name}.bias"]
        as_.append(a)
        hs.append(np.tanh(a) if i < 2 else a)
    logits = hs[-1]
    soft = np.exp(logits - logits.max(1, keepdims=True))
    soft /= soft.sum(1, keepdims=True)
    e = (soft - np.eye(logits.shape[1])[y]) / len(x)
    return p, hs, as_, e


def test_dfa_update_is_the_formula_with_a_known_b():
    net = Network.from_spec(mlp("tanh"), seed=0)
    x, y = _batch(net)
    rng = np.random.default_rng(7)
    known = {"fc1": rng.standard_normal((7, 4)), "fc2": rng.standard_normal((5, 4))}
    net.use_plan(
        Plan(
            "dfa",
            {
                "fc1": Direct(OUTPUT, DenseFeedback(known["fc1"].astype(np.float32), (7,))),
                "fc2": Direct(OUTPUT, DenseFeedback(known["fc2"].astype(np.float32), (5,))),
                "fc3": FromAbove(),
            },
        )
    )
    _, grads = net.loss_and_grads(x, y, "dfa")
    _, hs, as_, e = _mlp_reference(net, x, y)
    for index, name in enumerate(("fc1", "fc2")):
        d = (e @ known[name].T) * (1 - np.tanh(as_[index]) ** 2)  # d_l = (B_l e) * f'(a_l)
        np.testing.assert_allclose(
            grads[f"{name}.weight"], d.T @ hs[index], rtol=1e-4, atol=1e-7
        )  # dW_l = d_l h_{l-1}^T
        np.testing.assert_allclose(grads[f"{name}.bias"], d.sum(0), rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(grads["fc3.weight"], e.T @ hs[2], rtol=1e-4, atol=1e-7)


def test_fa_update_uses_fixed_b_in_place_of_the_transposed_weights():
    net = Network.from_spec(mlp("tanh"), seed=0)
    x, y = _batch(net)
    plan = net.plan("fa")
    _, grads = net.loss_and_grads(x, y, "fa")
    p, hs, as_, e = _mlp_reference(net, x, y)
    b3, b2 = (plan.down[n]["weight"].astype(np.float64) for n in ("fc3", "fc2"))
    assert b3.shape == p["fc3.weight"].shape and not np.allclose(b3, p["fc3.weight"])
    d2 = (e @ b3) * (1 - np.tanh(as_[1]) ** 2)
    d1 = (d2 @ b2) * (1 - np.tanh(as_[0]) ** 2)
    np.testing.assert_allclose(grads["fc2.weight"], d2.T @ hs[1], rtol=1e-4, atol=1e-7)
    np.testing.assert_allclose(grads["fc1.weight"], d1.T @ hs[0], rtol=1e-4, atol=1e-7)


def test_fa_with_b_equal_to_w_is_bp():
    net = Network.from_spec(cnn2d("maxpool2d", "relu"), seed=1)
    x, y = _batch(net)
    down = {
        layer.name: {"weight": layer.params["weight"].copy()}
        for layer in net.layers
        if layer.has_params
    }
    net.use_plan(Plan("fa", {name: FromAbove() for name in down}, down))
    _, fa = net.loss_and_grads(x, y, "fa")
    _, bp = net.loss_and_grads(x, y, "bp")
    for name in bp:
        np.testing.assert_allclose(fa[name], bp[name], rtol=1e-5, atol=1e-8)


def test_last_layer_gets_e_itself_under_every_algorithm():
    net = Network.from_spec(cnn2d("maxpool2d", "relu"), seed=0)
    x, y = _batch(net)
    _, bp = net.loss_and_grads(x, y, "bp")
    for algorithm in ("fa", "dfa", "pdfa"):
        _, grads = net.loss_and_grads(x, y, algorithm)
        np.testing.assert_array_equal(grads["fc1.weight"], bp["fc1.weight"])


@pytest.mark.parametrize("conv_mode", ["dense", "conv"])
def test_dfa_conv_feedback_forms(conv_mode):
    spec = cnn2d("maxpool2d", "relu")
    spec["training"] = {"feedback": {"conv_mode": conv_mode}}
    net = Network.from_spec(spec, seed=0)
    x, y = _batch(net)
    plan = net.plan("dfa")
    operator = plan.sources["conv1"].operator
    c, h, w = net.layers[0].output_shape
    logits, records = net.forward_records(x)
    _, e = net._loss(logits, y)
    grads, deltas = backward(net.layers, records, e, plan)
    b = operator.matrix.astype(np.float64)
    relu_prime = (records[0].a > 0).astype(np.float64)
    if conv_mode == "dense":
        assert isinstance(operator, DenseFeedback) and b.shape == (c * h * w, 3)
        injected = (e @ b.T).reshape(len(x), c, h, w)
    else:  # d[c, p] = sum_k B[c, k] e_k at every position p
        assert isinstance(operator, ConvFeedback) and b.shape == (c, 3)
        injected = np.broadcast_to((e @ b.T)[:, :, None, None], (len(x), c, h, w))
    np.testing.assert_allclose(deltas["conv1"], injected * relu_prime, rtol=1e-5, atol=1e-8)
    expected = net.layers[0].backward_weight(deltas["conv1"], records[0].cache)
    np.testing.assert_array_equal(grads["conv1.weight"], expected["weight"])


@pytest.mark.parametrize("scale, std", [("fan_in", 1 / np.sqrt(3)), ("unit", 1.0)])
def test_feedback_scale(scale, std):
    spec = cnn2d()
    spec["training"] = {"feedback": {"scale": scale}}
    b = Network.from_spec(spec, seed=0).plan("dfa").sources["conv1"].operator.matrix
    assert b.std() == pytest.approx(std, rel=0.15)
    assert abs(b.mean()) < 0.2 * std


def test_same_seed_same_feedback_other_seed_differs():
    def feedback(seed, algorithm):
        net = Network.from_spec(mlp(), seed=seed)
        plan = net.plan(algorithm)
        if algorithm == "fa":
            return plan.down["fc2"]["weight"]
        return plan.sources["fc1"].operator.matrix

    for algorithm in ("fa", "dfa"):
        np.testing.assert_array_equal(feedback(3, algorithm), feedback(3, algorithm))
        assert not np.array_equal(feedback(3, algorithm), feedback(4, algorithm))


def test_dfa_never_backpropagates_through_hidden_layers():
    net = Network.from_spec(cnn2d("maxpool2d", "relu"), seed=0)
    plan = net.plan("dfa")
    assert not any(plan.sends_down(net.layers))
    assert all(net.plan("bp").sends_down(net.layers)[1:])


def test_bp_fa_dfa_are_plans_of_error_sources():
    net = Network.from_spec(mlp(), seed=0)
    assert all(isinstance(s, FromAbove) for s in net.plan("bp").sources.values())
    assert not net.plan("bp").down
    assert set(net.plan("fa").down) == {"fc2", "fc3"}
    dfa = net.plan("dfa").sources
    assert isinstance(dfa["fc3"], FromAbove)
    assert all(isinstance(dfa[n], Direct) and dfa[n].signal == OUTPUT for n in ("fc1", "fc2"))


def test_a_plan_whose_last_layer_does_not_take_e_is_rejected():
    net = Network.from_spec(mlp(), seed=0)
    bad = Plan("dfa", {"fc3": Direct(OUTPUT, DenseFeedback(np.eye(4, dtype=np.float32), (4,)))})
    with pytest.raises(ValueError, match="last layer"):
        net.use_plan(bad)

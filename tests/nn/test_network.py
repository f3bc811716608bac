"""Network structure and exact BP gradients, checked against finite differences (no torch)."""

from __future__ import annotations

import numpy as np
import pytest
from nets import cnn1d, cnn2d, mlp

from accelsim.config import ConfigError
from accelsim.nn import Network


def _batch(net: Network, n: int = 5, seed: int = 0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *net.layers[0].input_shape)).astype(np.float32)
    y = rng.integers(0, net.output_shape[-1], size=n)
    return x, y


@pytest.mark.parametrize(
    "spec",
    [mlp(), mlp("sigmoid"), cnn2d(), cnn1d()],
    ids=["mlp-tanh", "mlp-sigmoid", "cnn2d", "cnn1d"],
)
def test_bp_gradients_match_directional_finite_differences(spec):
    # float32 kernels: a central difference along a random unit direction of each tensor
    # (step 1e-2, truncation error O(step^2)) is accurate to ~1e-4 relative.
    net = Network.from_spec(spec, seed=3)
    x, y = _batch(net)
    _, grads = net.loss_and_grads(x, y, "bp")
    rng = np.random.default_rng(1)
    for name, param in net.params.items():
        direction = rng.standard_normal(param.shape).astype(np.float32)
        direction /= np.linalg.norm(direction)
        original = param.copy()
        step = 1e-2
        param[...] = original + step * direction
        up = net.loss(x, y)[0]
        param[...] = original - step * direction
        down = net.loss(x, y)[0]
        param[...] = original
        numeric = (up - down) / (2 * step)
        analytic = float(np.vdot(grads[name].astype(np.float64), direction))
        assert analytic == pytest.approx(numeric, rel=2e-3, abs=2e-5), name


def test_params_have_pytorch_names_and_layouts():
    net = Network.from_spec(cnn2d(), seed=0)
    shapes = {name: p.shape for name, p in net.params.items()}
    assert shapes == {
        "conv1.weight": (4, 2, 3, 3),
        "conv1.bias": (4,),
        "conv2.weight": (6, 2, 2, 1),
        "conv2.bias": (6,),
        "conv3.weight": (4, 6, 2, 2),
        "fc1.weight": (3, 4 * 3 * 2),
        "fc1.bias": (3,),
    }
    assert all(p.dtype == np.float32 for p in net.params.values())
    conv1d = Network.from_spec(cnn1d(), seed=0)
    assert conv1d.params["conv2.weight"].shape == (4, 2, 3)


def test_grads_have_the_keys_and_shapes_of_params():
    net = Network.from_spec(cnn1d(pool="maxpool1d", activation="relu"), seed=0)
    x, y = _batch(net)
    for algorithm in ("bp", "fa", "dfa"):
        loss, grads = net.loss_and_grads(x, y, algorithm)
        assert np.isfinite(loss)
        assert list(grads) == list(net.params)
        assert all(grads[k].shape == p.shape for k, p in net.params.items())


def test_forward_gives_logits_per_sample():
    net = Network.from_spec(cnn2d("maxpool2d", "relu"), seed=0)
    x, _ = _batch(net, n=7)
    assert net.forward(x).shape == (7, 3)


def test_same_seed_gives_identical_params_and_loss_other_seed_differs():
    a, b, c = (Network.from_spec(mlp(), seed=s) for s in (5, 5, 6))
    x, y = _batch(a)
    for name in a.params:
        np.testing.assert_array_equal(a.params[name], b.params[name])
    assert a.loss_and_grads(x, y, "dfa")[0] == b.loss_and_grads(x, y, "dfa")[0]
    assert not np.array_equal(a.params["fc1.weight"], c.params["fc1.weight"])


def test_input_shape_override_reshapes_the_network():
    net = Network.from_spec(mlp(), input_shape=(2, 5), seed=0)
    assert net.params["fc1.weight"].shape == (7, 10)


def test_params_are_live_views_and_set_params_copies_in():
    net = Network.from_spec(mlp(), seed=0)
    x, y = _batch(net)
    before = net.loss(x, y)[0]
    net.params["fc3.bias"][0] += 5.0
    assert net.loss(x, y)[0] != before
    net.set_params({"fc3.bias": np.zeros(4, np.float32)})
    assert not net.params["fc3.bias"].any()


def test_unknown_algorithm_is_a_config_error():
    net = Network.from_spec(mlp(), seed=0)
    x, y = _batch(net)
    with pytest.raises(ConfigError, match="training.algorithm"):
        net.loss_and_grads(x, y, "no-such-algorithm")

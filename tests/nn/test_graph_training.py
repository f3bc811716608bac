"""Graph workloads in training: batchnorm train/eval modes, dropout determinism, frozen
layers, a network-level finite-difference check (no torch) and a tiny ResNet that learns."""

from __future__ import annotations

import time

import numpy as np
import pytest

from accelsim.nn import Network
from accelsim.nn.train import fit

DATASET = {"name": "synthetic", "input_shape": [2, 5, 5], "num_classes": 3, "batch_size": 8}


def small_graph(dropout=0.0, **frozen):
    layers = [
        {"name": "stem", "type": "conv2d", "out_channels": 3, "kernel": 3, "padding": 1},
        {"name": "bn0", "type": "batchnorm2d", "activation": "tanh"},
        {"name": "c1", "type": "conv2d", "out_channels": 3, "kernel": 3, "padding": 1},
        {"name": "bn1", "type": "batchnorm2d"},
        {"name": "add", "type": "add", "inputs": ["bn1", "bn0"], "activation": "tanh"},
        {
            "name": "side",
            "type": "conv2d",
            "out_channels": 2,
            "kernel": 1,
            "inputs": ["bn0"],
            "activation": "sigmoid",
        },
        {"name": "cat", "type": "concat", "inputs": ["add", "side"]},
        {"name": "drop", "type": "dropout", "p": dropout},
        {"name": "gap", "type": "global_avgpool"},
        {"name": "fc", "type": "linear", "out_features": 3},
    ]
    for layer in layers:
        if layer["name"] in frozen:
            layer["trainable"] = frozen[layer["name"]]
    return {"name": "small", "dataset": DATASET, "layers": layers}


def train_loss64(net, x, y):
    """Mean cross-entropy of a training-mode pass (running statistics left alone)."""
    logits, _ = net.forward_records(x, update_running=False)
    z = logits.astype(np.float64)
    z -= z.max(1, keepdims=True)
    return float(np.mean(np.log(np.exp(z).sum(1)) - z[np.arange(len(y)), y]))


def test_network_gradient_matches_directional_finite_differences():
    """g . v against central differences D(h) = (L(w + h v) - L(w - h v)) / 2h of the float32
    network along random directions v, for every parameter at once, Richardson-extrapolated
    ((4 D(h/2) - D(h)) / 3 cancels the h^2 term); float32 rounding of the loss (~1e-7) over
    h = 1e-2 leaves ~1e-5."""
    net = Network.from_spec(small_graph(), seed=5)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((8, 2, 5, 5)).astype(np.float32)
    y = rng.integers(0, 3, 8)
    _, grads = net.loss_and_grads(x, y, "bp")
    params = net.params
    for trial in range(3):
        v = {k: rng.standard_normal(p.shape).astype(np.float32) for k, p in params.items()}
        base = {k: p.copy() for k, p in params.items()}

        def central(h, v=v, base=base):
            values = []
            for sign in (1, -1):
                net.set_params({k: base[k] + sign * h * v[k] for k in params})
                values.append(train_loss64(net, x, y))
            return (values[0] - values[1]) / (2 * h)

        numeric = (4 * central(5e-3) - central(1e-2)) / 3
        net.set_params(base)
        analytic = sum(float(np.vdot(grads[k], v[k])) for k in params)
        assert analytic == pytest.approx(numeric, rel=2e-3, abs=1e-4), trial


def test_batchnorm_running_statistics_and_evaluation():
    net = Network.from_spec(small_graph(), seed=1)
    rng = np.random.default_rng(2)
    x = (rng.standard_normal((8, 2, 5, 5)) * 3 + 2).astype(np.float32)
    y = rng.integers(0, 3, 8)
    before = net.forward(x)
    assert np.array_equal(net.buffers["bn0.running_mean"], np.zeros(3))  # eval: no update
    _, records = net.forward_records(x)
    stem = records[0].a.astype(np.float64)  # bn0's input
    mean = stem.mean(axis=(0, 2, 3))
    unbiased = stem.var(axis=(0, 2, 3), ddof=1)  # running_var takes the unbiased variance
    np.testing.assert_allclose(net.buffers["bn0.running_mean"], 0.1 * mean, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(
        net.buffers["bn0.running_var"], 0.9 + 0.1 * unbiased, rtol=1e-5, atol=1e-7
    )
    # evaluation normalises with the running statistics: its output changed with them
    after = net.forward(x)
    assert not np.allclose(before, after)
    gamma, beta = net.params["bn0.weight"], net.params["bn0.bias"]
    rm, rv = net.buffers["bn0.running_mean"], net.buffers["bn0.running_var"]
    # bn0's evaluation output, rebuilt from its definition, matches the layer's
    bn0 = net.layers[1]
    bn0.training = False
    a, _ = bn0.forward(records[0].a)
    want = (stem - rm[None, :, None, None]) / np.sqrt(rv[None, :, None, None] + 1e-5)
    want = want * gamma[None, :, None, None] + beta[None, :, None, None]
    np.testing.assert_allclose(a, want, rtol=1e-5, atol=1e-5)
    # measuring layer statistics does not touch the running statistics
    from accelsim.nn.algorithms.stats import layer_stats

    snapshot = {k: v.copy() for k, v in net.buffers.items()}
    layer_stats(net, x, y, "bp")
    assert all(np.array_equal(net.buffers[k], v) for k, v in snapshot.items())


def test_dropout_is_deterministic_per_seed_and_off_in_evaluation():
    def masks(seed):
        net = Network.from_spec(small_graph(dropout=0.5), seed=seed)
        x = np.ones((8, 2, 5, 5), np.float32)
        first = net.forward_records(x)[1][7].cache
        second = net.forward_records(x)[1][7].cache
        return net, first, second

    net, a1, a2 = masks(0)
    _, b1, b2 = masks(0)
    _, c1, _ = masks(1)
    assert np.array_equal(a1, b1) and np.array_equal(a2, b2)  # same seed, same masks
    assert not np.array_equal(a1, a2)  # a new mask every step
    assert not np.array_equal(a1, c1)  # another seed, other masks
    assert set(np.unique(a1)) == {0.0, 2.0}
    x = np.random.default_rng(0).standard_normal((8, 2, 5, 5)).astype(np.float32)
    assert np.array_equal(net.forward(x), net.forward(x))  # evaluation: no dropout


def test_frozen_layers_keep_their_initial_weights_through_training():
    data = small_graph(stem=False, bn1=False)
    data["training"] = {"epochs": 1, "optimizer": {"type": "adam", "lr": 0.05}}
    data["dataset"] = {**DATASET, "train_size": 64, "test_size": 16}
    initial = Network.from_spec(data, seed=0).params
    for algorithm in ("bp", "fa", "dfa"):
        result = fit(data, algorithm=algorithm, seed=0)
        final = result.network.params
        for name in ("stem.weight", "stem.bias", "bn1.weight", "bn1.bias"):
            assert np.array_equal(final[name], initial[name]), (algorithm, name)
        for name in ("c1.weight", "bn0.weight", "fc.weight"):
            assert not np.array_equal(final[name], initial[name]), (algorithm, name)
        assert "stem.weight" not in result.network.trainable_params


TINY_RESNET = {
    "name": "tiny-resnet-digits",
    "dataset": {"name": "digits", "batch_size": 32},
    "layers": [
        {"name": "stem", "type": "conv2d", "out_channels": 8, "kernel": 3, "padding": 1},
        {"name": "bn0", "type": "batchnorm2d", "activation": "relu"},
        {"name": "c1", "type": "conv2d", "out_channels": 8, "kernel": 3, "padding": 1},
        {"name": "bn1", "type": "batchnorm2d", "activation": "relu"},
        {"name": "c2", "type": "conv2d", "out_channels": 8, "kernel": 3, "padding": 1},
        {"name": "bn2", "type": "batchnorm2d"},
        {"name": "add1", "type": "add", "inputs": ["bn2", "bn0"], "activation": "relu"},
        # a global average pool keeps 8 numbers of an 8x8 digit: too few to learn from in a
        # short test (BP with only the classifier trained reaches 14 %); a 2x2 pool keeps 128
        {"name": "pool", "type": "avgpool2d", "kernel": 2},
        {"name": "fc", "type": "linear", "out_features": 10},
    ],
    "training": {"epochs": 3, "optimizer": {"type": "adam", "lr": 0.01}},
}


@pytest.mark.parametrize("algorithm", ["bp", "dfa"])
def test_tiny_resnet_learns_digits(algorithm):
    start = time.perf_counter()
    result = fit(TINY_RESNET, algorithm=algorithm, seed=0)
    accuracy = result.history[-1].test_accuracy
    assert accuracy > 0.5, accuracy  # chance is 0.1
    assert time.perf_counter() - start < 20


def test_shipped_resnet8_takes_a_step_with_every_algorithm():
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "workloads" / "resnet8_mnist.yaml"
    net = Network.from_spec(path)
    assert net.workload.is_graph and net.workload.training.epochs >= 1
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 1, 28, 28)).astype(np.float32)
    y = np.array([0, 1, 2, 3])
    for algorithm in ("bp", "fa", "dfa", "sparse-dfa", "modular-dfa", "hybrid-dfa"):
        loss, grads = net.loss_and_grads(x, y, algorithm)
        assert np.isfinite(loss) and set(grads) == set(net.params), algorithm
        assert all(np.isfinite(g).all() for g in grads.values()), algorithm

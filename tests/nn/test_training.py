"""The training loop: learning happens, runs are reproducible, divergence stops with a message."""

from __future__ import annotations

import math

import numpy as np
import pytest

from accelsim.config.training import OptimizerSpec, ScheduleSpec
from accelsim.nn.train import BatchProgress, EpochStats, TrainingDiverged, fit
from accelsim.nn.train.optimizers import clip_global_norm, make_optimizer
from accelsim.nn.train.schedules import learning_rate


def workload(epochs=4, lr=0.01, optimizer="adam", **training):
    return {
        "name": "tiny",
        "dataset": {
            "name": "synthetic",
            "input_shape": [1, 6, 6],
            "num_classes": 3,
            "batch_size": 32,
            "train_size": 256,
            "test_size": 96,
        },
        "layers": [
            {
                "name": "conv1",
                "type": "conv2d",
                "out_channels": 3,
                "kernel": 3,
                "activation": "relu",
            },
            {"name": "pool1", "type": "maxpool2d", "kernel": 2},
            {"name": "fc1", "type": "linear", "out_features": 16, "activation": "tanh"},
            {"name": "fc2", "type": "linear", "out_features": 3},
        ],
        "training": {"optimizer": {"type": optimizer, "lr": lr}, "epochs": epochs, **training},
    }


@pytest.mark.parametrize("algorithm", ["bp", "fa", "dfa"])
def test_training_reduces_the_loss(algorithm):
    result = fit(workload(), algorithm=algorithm)
    first, last = result.history[0], result.history[-1]
    assert last.train_loss < 0.8 * first.train_loss
    assert last.test_accuracy > 1 / 3 + 0.2  # well above chance on held-out data


def test_same_seed_same_history_other_seed_differs():
    runs = [fit(workload(epochs=2), algorithm="dfa", seed=s) for s in (1, 1, 2)]
    strip = [[(h.train_loss, h.test_loss, h.test_accuracy) for h in r.history] for r in runs]
    assert strip[0] == strip[1]
    assert strip[0] != strip[2]
    for name, value in runs[0].network.params.items():
        np.testing.assert_array_equal(value, runs[1].network.params[name])


def test_callbacks_see_every_batch_and_epoch():
    batches: list[BatchProgress] = []
    epochs: list[EpochStats] = []
    result = fit(workload(epochs=2), on_batch=batches.append, on_epoch=epochs.append)
    assert [b.batch for b in batches] == list(range(1, 9)) * 2
    assert {b.num_batches for b in batches} == {8}
    assert [e.epoch for e in epochs] == [1, 2] and tuple(epochs) == result.history
    assert result.to_dict()["history"][1]["epoch"] == 2


def test_absurd_learning_rate_diverges_with_a_clear_error():
    pattern = r"diverged at epoch \d+, batch \d+: loss is (nan|inf)"
    with pytest.raises(TrainingDiverged, match=pattern):
        fit(workload(epochs=3, lr=1e37, optimizer="sgd"))


def test_overrides_take_precedence_over_the_workload():
    result = fit(workload(epochs=5, algorithm="fa", seed=3), algorithm="dfa", epochs=1)
    assert (result.algorithm, result.epochs, result.seed, len(result.history)) == ("dfa", 1, 3, 1)


def test_schedules():
    assert learning_rate(ScheduleSpec("constant"), 0.1, 7, 10) == 0.1
    step = ScheduleSpec("step", step_size=2, gamma=0.5)
    assert [learning_rate(step, 0.1, e, 10) for e in range(5)] == pytest.approx(
        [0.1, 0.1, 0.05, 0.05, 0.025]
    )
    cosine = ScheduleSpec("cosine", min_lr=0.01)
    assert learning_rate(cosine, 0.1, 0, 4) == pytest.approx(0.1)
    assert learning_rate(cosine, 0.1, 2, 4) == pytest.approx(0.055)


def test_clip_global_norm():
    grads = {"a": np.array([3.0, 0.0], np.float32), "b": np.array([4.0], np.float32)}
    assert clip_global_norm(grads, 1.0) == pytest.approx(5.0)
    assert math.sqrt(sum(float(g @ g) for g in grads.values())) == pytest.approx(1.0)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_optimizers_match_torch(kind):
    torch = pytest.importorskip("torch")
    spec = OptimizerSpec(type=kind, lr=0.05, momentum=0.9, weight_decay=0.01)
    rng = np.random.default_rng(0)
    param = rng.standard_normal(5).astype(np.float32)
    grads = [rng.standard_normal(5).astype(np.float32) for _ in range(4)]
    ours = {"p": param.copy()}
    optimizer = make_optimizer(spec)
    reference = torch.tensor(param.copy(), requires_grad=True)
    if kind == "sgd":
        torch_opt = torch.optim.SGD([reference], lr=0.05, momentum=0.9, weight_decay=0.01)
    else:
        torch_opt = torch.optim.Adam([reference], lr=0.05, weight_decay=0.01)
    for grad in grads:
        optimizer.step(ours, {"p": grad}, 0.05)
        reference.grad = torch.tensor(grad)
        torch_opt.step()
    np.testing.assert_allclose(ours["p"], reference.detach().numpy(), rtol=1e-5, atol=1e-6)

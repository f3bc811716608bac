"""pdfa's stale weights: training with a weight delay of d uses the weights of d steps ago, and
the study trains and simulates each algorithm with the same delay (resolve_weight_delay)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

import accelsim.nn.network as network_module
import accelsim.nn.train.loop as loop_module
import accelsim.study.tradeoff as tradeoff
from accelsim.config.errors import ConfigError
from accelsim.config.workload import load_workload
from accelsim.nn.network import Network
from accelsim.nn.train import fit
from accelsim.nn.train.delay import WeightDelay

ROOT = Path(__file__).resolve().parents[2]
STUDY_WORKLOAD = ROOT / "tests" / "data" / "study_tiny.yaml"
SKIP_CHIP = ROOT / "examples" / "study" / "dflnpu_zero_skip.yaml"
PLAIN_CHIP = ROOT / "arch_configs" / "dflnpu.yaml"

WORKLOAD = {
    "name": "tiny-delay",
    "dataset": {
        "name": "synthetic",
        "input_shape": [12],
        "num_classes": 3,
        "batch_size": 16,
        "train_size": 64,
        "test_size": 32,
    },
    "layers": [
        {"name": "fc1", "type": "linear", "out_features": 10, "activation": "relu"},
        {"name": "fc2", "type": "linear", "out_features": 8, "activation": "tanh"},
        {"name": "fc3", "type": "linear", "out_features": 3},
    ],
    "training": {"algorithm": "dfa", "optimizer": {"type": "sgd", "lr": 0.1}, "epochs": 2},
}


def _history(result):
    return [(s.train_loss, s.test_loss, s.test_accuracy) for s in result.history]


def _params(result):
    return {k: v.copy() for k, v in result.network.params.items()}


def test_delay_zero_is_plain_dfa_exactly():
    plain = fit(WORKLOAD)
    delayed = fit(WORKLOAD, weight_delay=0)
    pdfa = fit(WORKLOAD, algorithm="pdfa", weight_delay=0)
    assert plain.algorithm == "dfa"
    for other in (delayed, pdfa):
        assert _history(other) == _history(plain)
        for name, value in _params(plain).items():
            np.testing.assert_array_equal(_params(other)[name], value)


def test_delay_changes_training():
    plain = fit(WORKLOAD, algorithm="pdfa", weight_delay=0)
    delayed = fit(WORKLOAD, algorithm="pdfa", weight_delay=1)
    assert _history(delayed) != _history(plain)
    assert _history(fit(WORKLOAD, algorithm="pdfa")) == _history(delayed)  # pdfa's default


def test_training_section_key_sets_the_delay_and_fit_overrides_it():
    spec = dict(WORKLOAD, training={**WORKLOAD["training"], "weight_delay": 1})
    assert load_workload(spec).training.weight_delay == 1
    from_file = fit(spec)
    explicit = fit(WORKLOAD, weight_delay=1)
    assert _history(from_file) == _history(explicit) != _history(fit(WORKLOAD))
    assert _history(fit(spec, weight_delay=0)) == _history(fit(WORKLOAD))


@pytest.mark.parametrize("bad", [-1, 1.5, "two", 2])
def test_bad_delay_is_a_config_error(bad):
    with pytest.raises(ConfigError, match="weight_delay"):
        load_workload(dict(WORKLOAD, training={**WORKLOAD["training"], "weight_delay": bad}))
    if not isinstance(bad, str):
        with pytest.raises(ConfigError, match="weight_delay"):
            fit(WORKLOAD, weight_delay=bad)


@pytest.mark.parametrize("delay", [1])
def test_gradient_of_step_t_is_taken_at_the_weights_of_step_t_minus_d(monkeypatch, delay):
    """Record every train_step (weights it saw, batch, direction) and every optimizer step
    (weights before it); the weights seen at step t must be those before step t - d, and the
    direction must be what a fresh network computes at those weights."""
    seen: list[tuple[dict, np.ndarray, np.ndarray, dict]] = []
    before_update: list[dict] = []
    original_step = Network.train_step

    def recording_step(self, x, y, algorithm="bp"):
        loss, grads, logits = original_step(self, x, y, algorithm)
        weights = {k: v.copy() for k, v in self.params.items()}
        seen.append((weights, x.copy(), y.copy(), {k: g.copy() for k, g in grads.items()}))
        return loss, grads, logits

    original_factory = loop_module.make_optimizer

    def recording_factory(spec):
        optimizer = original_factory(spec)
        inner = optimizer.step

        def step(params, grads, lr):
            before_update.append({k: v.copy() for k, v in params.items()})
            inner(params, grads, lr)

        optimizer.step = step
        return optimizer

    monkeypatch.setattr(network_module.Network, "train_step", recording_step)
    monkeypatch.setattr(loop_module, "make_optimizer", recording_factory)
    fit(WORKLOAD, epochs=1, weight_delay=delay)
    monkeypatch.undo()

    assert len(seen) == len(before_update) == 4  # 64 samples / batch 16
    probe = Network(load_workload(WORKLOAD), seed=0)
    for t, (weights, x, y, grads) in enumerate(seen):
        snapshot = before_update[max(0, t - delay)]
        for name in weights:
            np.testing.assert_array_equal(weights[name], snapshot[name])
        probe.set_params(snapshot)
        _, expected = probe.loss_and_grads(x, y, "dfa")
        for name, grad in grads.items():
            np.testing.assert_array_equal(grad, expected[name])
    # the stale weights really differ from the current ones once training has moved
    assert any(not np.array_equal(seen[delay][0][n], before_update[delay][n]) for n in seen[0][0])


def test_ring_restores_the_current_weights_after_the_stale_block():
    params = {"w": np.zeros(3, np.float32)}
    delay = WeightDelay(params, 2)
    for step in range(1, 5):
        with delay.stale():
            stale = params["w"].copy()
        assert params["w"][0] == step - 1  # current weights are back
        assert stale[0] == max(0, step - 1 - 2)
        params["w"] += 1
        delay.stepped()


# -- the study: one delay per algorithm, the same in training and in the simulation ----------


@pytest.fixture
def recorded(monkeypatch):
    """Record the weight_delay of every fit and simulate_point call the study makes (and the
    simulate report's own ``weight_delay``), calling the real functions."""
    calls: dict[str, list] = {"fit": [], "simulate": []}
    real_fit, real_simulate = tradeoff.fit, tradeoff.simulate_point

    def fit_spy(wl, algorithm=None, **kwargs):
        calls["fit"].append((algorithm, kwargs.get("weight_delay")))
        return real_fit(wl, algorithm=algorithm, **kwargs)

    def simulate_spy(arch, wl, algorithm, *args, **kwargs):
        report = real_simulate(arch, wl, algorithm, *args, **kwargs)
        calls["simulate"].append((algorithm, kwargs.get("weight_delay"), report["weight_delay"]))
        return report

    monkeypatch.setattr(tradeoff, "fit", fit_spy)
    monkeypatch.setattr(tradeoff, "simulate_point", simulate_spy)
    return calls


def _tiny(**training):
    wl = load_workload(STUDY_WORKLOAD)
    return replace(wl, training=replace(wl.training, **training))


@pytest.mark.parametrize(
    ("training", "override", "expected"),
    [
        ({}, None, {"bp": 0, "dfa": 0, "pdfa": 1}),  # the algorithms' defaults
        ({}, 0, {"bp": 0, "dfa": 0, "pdfa": 0}),  # the override applies to pdfa
        ({"weight_delay": 0}, None, {"bp": 0, "dfa": 0, "pdfa": 0}),  # the workload's value
        ({"weight_delay": 0}, 1, {"bp": 0, "dfa": 0, "pdfa": 1}),  # the override wins
    ],
)
def test_study_trains_and_simulates_with_the_delay_it_records(
    recorded, training, override, expected
):
    result = tradeoff.study(
        SKIP_CHIP, _tiny(**training), "bp,dfa,pdfa", epochs=1, weight_delay=override
    )
    assert {o.algorithm: o.weight_delay for o in result.outcomes} == expected
    assert dict(recorded["fit"]) == expected
    # dense and zero-skipping simulations alike, as asked and as reported
    assert len(recorded["simulate"]) == 2 * len(expected)
    for name, asked, reported in recorded["simulate"]:
        assert asked == reported == expected[name], name
    assert {k: v["weight_delay"] for k, v in result.to_dict()["algorithms"].items()} == expected


def test_pipeline_depth_bounds_the_schedule_and_leaves_the_delay_alone(recorded):
    result = tradeoff.study(
        PLAIN_CHIP, STUDY_WORKLOAD, "pdfa", target_accuracy=0.3, epochs=1, pipeline_depth=3
    )
    assert result.outcome("pdfa").pipeline_depth == 3
    assert result.outcome("pdfa").weight_delay == 1
    assert recorded["fit"] == [("pdfa", 1)]


@pytest.mark.parametrize("bad", [2, -1, True, 0.5, "1"])
def test_bad_study_delay_is_a_config_error_before_anything_runs(recorded, bad):
    with pytest.raises(ConfigError) as err:
        tradeoff.study(SKIP_CHIP, STUDY_WORKLOAD, "pdfa", epochs=1, weight_delay=bad)
    assert err.value.key == "--weight-delay"
    assert recorded == {"fit": [], "simulate": []}

"""``training.weight_delay``: one setting (0 or 1, pdfa default 1) that ``fit`` trains with."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from accelsim.config.algorithms import ALGORITHMS
from accelsim.config.errors import ConfigError
from accelsim.config.training import TrainingSpec, resolve_weight_delay
from accelsim.config.workload import load_workload
from accelsim.nn.train import fit
from accelsim.nn.train.loop import training_settings


def _workload(train_size: int = 48, **training) -> dict:
    return {
        "name": "tiny-delay-setting",
        "dataset": {
            "name": "synthetic",
            "input_shape": [12],
            "num_classes": 3,
            "batch_size": 16,
            "train_size": train_size,
            "test_size": 16,
        },
        "layers": [
            {"name": "fc1", "type": "linear", "out_features": 10, "activation": "relu"},
            {"name": "fc2", "type": "linear", "out_features": 3},
        ],
        "training": {"optimizer": {"type": "sgd", "lr": 0.2}, "epochs": 1, **training},
    }


def _write(tmp_path, data):
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("bad", [2, -1, "one", 0.5])
def test_yaml_rejects_a_delay_other_than_0_or_1_naming_the_key(tmp_path, bad):
    path = _write(tmp_path, _workload(algorithm="pdfa", weight_delay=bad))
    with pytest.raises(ConfigError) as err:
        load_workload(path)
    assert err.value.key == "training.weight_delay"
    assert str(path) in str(err.value) and "training.weight_delay" in str(err.value)


@pytest.mark.parametrize("value", [0, 1])
def test_yaml_accepts_0_and_1(tmp_path, value):
    path = _write(tmp_path, _workload(algorithm="pdfa", weight_delay=value))
    assert load_workload(path).training.weight_delay == value


def test_unset_delay_is_none_in_the_spec(tmp_path):
    assert (
        load_workload(_write(tmp_path, _workload(algorithm="pdfa"))).training.weight_delay is None
    )


def test_resolver_defaults_pdfa_to_1_and_every_other_algorithm_to_0():
    for algorithm in ALGORITHMS:
        expected = 1 if algorithm == "pdfa" else 0
        assert resolve_weight_delay(TrainingSpec(algorithm=algorithm), algorithm) == expected
        assert resolve_weight_delay(None, algorithm) == expected


def test_resolver_honours_an_explicit_value():
    assert resolve_weight_delay(TrainingSpec(algorithm="pdfa", weight_delay=0), "pdfa") == 0
    assert resolve_weight_delay(TrainingSpec(algorithm="dfa", weight_delay=1), "dfa") == 1


def test_fit_settings_resolve_the_delay_with_overrides_applied():
    wl = load_workload(_workload(algorithm="dfa"))
    assert training_settings(wl).weight_delay == 0
    assert training_settings(wl, algorithm="pdfa").weight_delay == 1  # default of the override
    assert training_settings(wl, algorithm="pdfa", weight_delay=0).weight_delay == 0
    explicit = load_workload(_workload(algorithm="pdfa", weight_delay=0))
    assert training_settings(explicit).weight_delay == 0
    assert training_settings(explicit, weight_delay=1).weight_delay == 1
    with pytest.raises(ConfigError, match="weight_delay"):
        training_settings(wl, weight_delay=2)


def _params_after(steps: int, **kwargs) -> dict[str, np.ndarray]:
    """The parameters after ``steps`` optimizer steps (one epoch of ``steps`` batches of 16)."""
    result = fit(_workload(train_size=16 * steps, algorithm="pdfa"), **kwargs)
    return {name: value.copy() for name, value in result.network.params.items()}


@pytest.mark.parametrize("steps", [1, 2, 3])
def test_pdfa_without_an_explicit_delay_trains_with_stale_weights(steps):
    """Step 1's gradient is taken at the initial weights with any delay, so one step is
    identical; from step 2 on pdfa's default (delay 1) uses w_{t-1} and must differ from a run
    with weight_delay=0 (which uses w_t)."""
    default = _params_after(steps)
    fresh = _params_after(steps, weight_delay=0)
    explicit = _params_after(steps, weight_delay=1)
    for name in default:
        np.testing.assert_array_equal(default[name], explicit[name])
    same = all(np.array_equal(default[name], fresh[name]) for name in default)
    assert same == (steps == 1)


def test_dfa_default_is_undelayed_and_pdfa_with_delay_0_trains_exactly_like_dfa():
    dfa = fit(_workload(train_size=48, algorithm="dfa"))
    pdfa0 = fit(_workload(train_size=48, algorithm="pdfa", weight_delay=0))
    pdfa = fit(_workload(train_size=48, algorithm="pdfa"))
    for name, value in dfa.network.params.items():
        np.testing.assert_array_equal(pdfa0.network.params[name], value)
    assert any(
        not np.array_equal(pdfa.network.params[name], value)
        for name, value in dfa.network.params.items()
    )

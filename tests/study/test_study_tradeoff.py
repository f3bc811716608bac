"""The accuracy x cost study through its Python API, on a tiny synthetic workload."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from accelsim.config.errors import ConfigError
from accelsim.config.workload import load_workload
from accelsim.nn.network import Network
from accelsim.report.api import simulate_point
from accelsim.study.sparsity import measure_zero_fractions
from accelsim.study.tradeoff import DEFAULT_FRACTION, SIM_ITERATIONS, study

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD = ROOT / "tests" / "data" / "study_tiny.yaml"
SKIP_CHIP = ROOT / "examples" / "study" / "dflnpu_zero_skip.yaml"
PLAIN_CHIP = ROOT / "arch_configs" / "dflnpu.yaml"


@pytest.fixture(scope="module")
def result():
    return study(SKIP_CHIP, WORKLOAD, "bp,dfa,pdfa", epochs=3)


def test_time_and_energy_to_accuracy_are_iterations_times_the_simulated_iteration(result):
    reached = [o for o in result.outcomes if o.reached]
    assert reached, "bp reaches a target relative to its own best accuracy"
    for o in reached:
        doc = simulate_point(
            SKIP_CHIP, WORKLOAD, o.algorithm, SIM_ITERATIONS, zero_fractions=o.zero_fractions
        )
        steady = doc["steady_state"]
        assert o.cycles_per_iteration == steady["cycles_per_iteration"]
        assert o.iterations_to_target == o.epochs_to_target * result.iterations_per_epoch
        assert o.time_to_accuracy_s == pytest.approx(
            o.iterations_to_target * steady["latency_s_per_iteration"], rel=1e-12
        )
        assert o.energy_to_accuracy_pj == pytest.approx(
            o.iterations_to_target * steady["energy_pj_per_iteration"], rel=1e-12
        )


def test_epochs_to_target_is_the_first_epoch_at_or_above_the_target(result):
    for o in result.outcomes:
        above = [p.epoch for p in o.history if p.test_accuracy >= result.target_accuracy]
        assert o.epochs_to_target == (above[0] if above else None)
        if not above:
            assert o.time_to_accuracy_s is None and o.energy_to_accuracy_pj is None


def test_default_target_is_a_fraction_of_the_best_bp_accuracy(result):
    best_bp = max(p.test_accuracy for p in result.outcome("bp").history)
    assert result.target_accuracy == pytest.approx(DEFAULT_FRACTION * best_bp)
    assert result.outcome("bp").reached


def test_iterations_per_epoch_follow_the_dataset_and_batch(result):
    wl = load_workload(WORKLOAD)
    per_epoch = math.ceil(wl.dataset.options["train_size"] / wl.dataset.batch_size)
    assert result.iterations_per_epoch == per_epoch
    for o in result.outcomes:
        assert [p.iterations for p in o.history] == [per_epoch * k for k in (1, 2, 3)]


def test_pdfa_trains_with_the_pipeline_delay_and_the_others_without(result):
    assert result.outcome("pdfa").pipeline_depth == 2  # the chip's pipeline_depth
    assert result.outcome("pdfa").weight_delay == 1
    assert result.outcome("dfa").weight_delay == result.outcome("bp").weight_delay == 0


def test_zero_skipping_chip_runs_fewer_cycles_than_dense(result):
    assert result.zero_skipping_units == ("lc_fp", "lc_bw")
    for o in result.outcomes:
        assert o.cycles_per_iteration < o.dense_cycles_per_iteration


def test_chip_without_skipping_ignores_the_measured_zeros():
    plain = study(PLAIN_CHIP, WORKLOAD, "bp", target_accuracy=0.3, epochs=1)
    o = plain.outcome("bp")
    assert plain.zero_skipping_units == ()
    assert o.zero_fractions  # measured all the same
    assert o.cycles_per_iteration == o.dense_cycles_per_iteration
    dense = simulate_point(PLAIN_CHIP, WORKLOAD, "bp", SIM_ITERATIONS)["steady_state"]
    assert o.cycles_per_iteration == dense["cycles_per_iteration"]


def test_time_vs_bp_is_the_ratio_of_times_to_accuracy(result):
    bp = result.outcome("bp")
    for o in result.outcomes:
        if o.reached:
            assert o.time_vs_bp == pytest.approx(o.time_to_accuracy_s / bp.time_to_accuracy_s)
        else:
            assert o.time_vs_bp is None


def test_json_document_has_the_documented_keys(result):
    doc = result.to_dict()
    for key in (
        "arch",
        "workload",
        "batch_size",
        "epochs",
        "seed",
        "train_samples",
        "iterations_per_epoch",
        "target_accuracy",
        "target_rule",
        "zero_skipping_units",
        "algorithms",
    ):
        assert key in doc
    assert list(doc["algorithms"]) == ["bp", "dfa", "pdfa"]
    for entry in doc["algorithms"].values():
        for key in (
            "reached",
            "weight_delay",
            "pipeline_depth",
            "cycles_per_iteration",
            "dense_cycles_per_iteration",
            "latency_s_per_iteration",
            "energy_pj_per_iteration",
            "zero_fractions",
            "history",
            "best_test_accuracy",
            "epochs_to_target",
            "iterations_to_target",
            "time_to_accuracy_s",
            "energy_to_accuracy_pj",
            "time_vs_bp",
            "energy_vs_bp",
            "diverged",
            "train_seconds",
        ):
            assert key in entry
        assert set(entry["history"][0]) == {
            "epoch",
            "iterations",
            "time_s",
            "energy_pj",
            "test_accuracy",
            "train_loss",
        }


def test_same_seed_same_study(result):
    again = study(SKIP_CHIP, WORKLOAD, "bp,dfa,pdfa", epochs=3)
    strip = [{k: v for k, v in e.items() if k != "train_seconds"} for e in _entries(again)]
    assert strip == [{k: v for k, v in e.items() if k != "train_seconds"} for e in _entries(result)]


def _entries(result):
    return list(result.to_dict()["algorithms"].values())


@pytest.mark.parametrize(
    ("kwargs", "key"),
    [
        ({"algorithms": "bp,nope"}, "--algorithms"),
        ({"algorithms": "bp,bp"}, "--algorithms"),
        ({"algorithms": ""}, "--algorithms"),
        ({"target_accuracy": 0.0}, "--target-accuracy"),
        ({"target_accuracy": 1.5}, "--target-accuracy"),
        ({"target_accuracy": float("nan")}, "--target-accuracy"),
        ({"epochs": 0}, "--epochs"),
    ],
)
def test_bad_input_is_a_config_error_before_training(kwargs, key):
    with pytest.raises(ConfigError) as err:
        study(SKIP_CHIP, WORKLOAD, **kwargs)
    assert err.value.key == key


def test_zero_fractions_match_a_numpy_recomputation():
    """Two-layer BP net: input zeros = zeros of x, fc2 input = ReLU zeros of fc1, fc1 error =
    zeros of (e W2) * f'(a1), computed here with plain numpy."""
    spec = {
        "name": "zf",
        "dataset": {"input_shape": [6], "num_classes": 3, "batch_size": 8},
        "layers": [
            {"name": "fc1", "type": "linear", "out_features": 7, "activation": "relu"},
            {"name": "fc2", "type": "linear", "out_features": 3},
        ],
    }
    net = Network.from_spec(spec, seed=3)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 6)).astype(np.float32)
    x[x < -0.5] = 0.0
    y = rng.integers(0, 3, 20)
    got = measure_zero_fractions(net, x, y, "bp")
    w1, b1 = net.params["fc1.weight"], net.params["fc1.bias"]
    w2, b2 = net.params["fc2.weight"], net.params["fc2.bias"]
    a1 = x @ w1.T + b1
    h1 = np.maximum(a1, 0)
    logits = h1 @ w2.T + b2
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    e = (p - np.eye(3)[y]) / len(y)
    d1 = (e @ w2) * (a1 > 0)
    assert got["fc1"]["input"] == pytest.approx(np.mean(x == 0))
    assert got["fc2"]["input"] == pytest.approx(np.mean(h1 == 0))
    assert got["fc1"]["error"] == pytest.approx(np.mean(d1 == 0))
    assert got["fc2"]["error"] == pytest.approx(np.mean(e == 0))
    assert 0 < got["fc2"]["input"] < 1


def test_pipeline_depth_bounds_iterations_in_flight_but_not_the_delay():
    result = study(PLAIN_CHIP, WORKLOAD, "pdfa", target_accuracy=0.3, epochs=1, pipeline_depth=3)
    assert result.outcome("pdfa").pipeline_depth == 3
    assert result.outcome("pdfa").weight_delay == 1  # pdfa's default, whatever the depth


def test_a_diverging_training_is_reported_and_the_study_goes_on():
    wild = {
        "name": "wild",
        "dataset": {
            "name": "synthetic",
            "input_shape": [16],
            "num_classes": 4,
            "batch_size": 32,
            "train_size": 64,
            "test_size": 32,
        },
        "layers": [
            {"name": "fc1", "type": "linear", "out_features": 8, "activation": "relu"},
            {"name": "fc2", "type": "linear", "out_features": 4},
        ],
        "training": {"optimizer": {"type": "sgd", "lr": 1e37}, "epochs": 2},
    }
    result = study(PLAIN_CHIP, wild, "bp,dfa")
    for o in result.outcomes:
        assert o.diverged and "diverged" in o.diverged
        assert not o.reached and o.history == () and o.best_test_accuracy is None
    assert result.to_dict()["algorithms"]["bp"]["reached"] is False

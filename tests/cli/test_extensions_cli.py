"""``accelsim train`` with the DFA extension presets: bad settings exit 2, presets train."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from conftest import run_cli

from accelsim.config.extensions import HYBRID_DEFAULT_RULE, placement
from accelsim.config.workload import load_workload

CNN = {
    "name": "tiny-cnn",
    "dataset": {
        "name": "synthetic",
        "input_shape": [1, 12],
        "num_classes": 4,
        "batch_size": 32,
        "train_size": 64,
        "test_size": 32,
    },
    "layers": [
        {
            "name": "conv1",
            "type": "conv1d",
            "out_channels": 4,
            "kernel": 3,
            "padding": 1,
            "activation": "relu",
        },
        {
            "name": "conv2",
            "type": "conv1d",
            "out_channels": 4,
            "kernel": 3,
            "padding": 1,
            "activation": "relu",
        },
        {"name": "fc1", "type": "linear", "out_features": 8, "activation": "relu"},
        {"name": "fc2", "type": "linear", "out_features": 4},
    ],
    "training": {"algorithm": "dfa", "epochs": 1},
}

RNN = {
    "name": "tiny-gru",
    "dataset": {
        "name": "synthetic",
        "input_shape": [6, 2],
        "num_classes": 4,
        "batch_size": 32,
        "train_size": 64,
        "test_size": 32,
    },
    "layers": [
        {"name": "gru1", "type": "gru", "hidden_size": 8, "output": "sequence"},
        {"name": "lstm1", "type": "lstm", "hidden_size": 8},
        {"name": "fc1", "type": "linear", "out_features": 4},
    ],
    "training": {"algorithm": "dfa", "epochs": 1, "grad_clip": 1.0},
}


def _write(tmp_path, spec, **extensions):
    spec = copy.deepcopy(spec)
    if extensions:
        spec["training"]["extensions"] = extensions
    path = tmp_path / "w.yaml"
    path.write_text(yaml.safe_dump(spec))
    return path


@pytest.mark.parametrize(
    "extensions,key",
    [
        ({"density": 0}, "training.extensions.density"),
        ({"density": 1.5}, "training.extensions.density"),
        ({"modules": [["conv1", "convX"], ["conv2", "fc1", "fc2"]]}, "training.extensions.modules"),
        ({"modules": [["conv1", "conv2"], ["fc1"]]}, "training.extensions.modules"),  # fc2: none
        ({"modules": [["conv1", "conv2"], ["conv2", "fc1", "fc2"]]}, "training.extensions.modules"),
        ({"groups": 3}, "training.extensions.groups"),  # 4 channels
        ({"bp_layers": ["fc9"]}, "training.extensions.bp_layers"),
        ({"colour": "blue"}, "training.extensions.colour"),
    ],
)
def test_bad_extension_settings_exit_2_naming_the_key(tmp_path, extensions, key):
    proc = run_cli("train", _write(tmp_path, CNN, **extensions), "--algorithm", "sparse-dfa")
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and key in lines[0] and "Traceback" not in proc.stderr


@pytest.mark.parametrize("preset", ["sparse-dfa", "modular-dfa", "hybrid-dfa"])
@pytest.mark.parametrize("spec", [CNN, RNN], ids=["cnn", "rnn"])
def test_each_preset_trains_and_reports_layer_stats(tmp_path, preset, spec):
    proc = run_cli("train", _write(tmp_path, spec), "--algorithm", preset, "--json")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert result["algorithm"] == preset
    stats = result["layer_stats"]
    names = [layer["name"] for layer in spec["layers"]]
    assert list(stats) == names
    for figures in stats.values():
        assert 0.0 <= figures["error_zero_fraction"] <= 1.0
        assert 0.0 <= figures["input_zero_fraction"] <= 1.0
    assert stats[names[-1]]["error_source"] == "bp"  # the last layer always takes e
    direct = [n for n in names if stats[n]["error_source"] == "direct"]
    if preset == "sparse-dfa":  # density 0.1: every hidden layer gets sparse direct feedback
        assert direct == names[:-1]
        for name in direct:
            assert 0 < stats[name]["feedback_density"] <= 0.2
            assert stats[name]["feedback_bytes"] < stats[name]["feedback_dense_bytes"]
    if preset == "hybrid-dfa":  # default: the layers of HYBRID_DEFAULT_RULE by BP, the rest DFA
        bp = placement(HYBRID_DEFAULT_RULE, load_workload(spec).param_layers)
        assert direct == [n for n in names[:-1] if n not in bp]


def test_sparse_feedback_forms_by_layer_kind(tmp_path):
    proc = run_cli(
        "train", _write(tmp_path, CNN, density=0.5, groups=2), "--algorithm", "sparse-dfa", "--json"
    )
    assert proc.returncode == 0, proc.stderr
    stats = json.loads(proc.stdout)["layer_stats"]
    assert stats["conv1"]["feedback"] == "dilated_conv"
    assert stats["fc1"]["feedback"] == "csr"
    # conv: dilation 2 on 12 positions (6 taps) and 2 groups of 2 classes: 0.5 * 0.5
    assert stats["conv1"]["feedback_density"] == pytest.approx(0.25)
    assert stats["fc1"]["feedback_density"] == pytest.approx(0.5)

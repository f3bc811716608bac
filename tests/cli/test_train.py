"""``accelsim train`` end to end: JSON and table output, divergence, and every kind of bad input."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import run_cli, run_cli_json

TINY = {
    "name": "tiny-digits",
    "dataset": {"name": "digits", "batch_size": 64},
    "layers": [
        {"name": "fc1", "type": "linear", "out_features": 32, "activation": "relu"},
        {"name": "fc2", "type": "linear", "out_features": 10},
    ],
    "training": {"algorithm": "bp", "optimizer": {"type": "adam", "lr": 0.01}, "epochs": 2},
}


def write(tmp_path, data, name="w.yaml"):
    path = tmp_path / name
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data), encoding="utf-8")
    return path


def test_json_has_the_contract_keys_and_only_json(tmp_path):
    out = run_cli_json(
        "train",
        write(tmp_path, TINY),
        "--algorithm",
        "dfa",
        "--epochs",
        "3",
        "--seed",
        "2",
        "--json",
    )
    assert {"algorithm", "epochs", "train_loss", "test_accuracy", "history"} <= set(out)
    assert (out["algorithm"], out["epochs"], out["seed"]) == ("dfa", 3, 2)
    assert [h["epoch"] for h in out["history"]] == [1, 2, 3]
    keys = {"epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr", "seconds"}
    assert all(keys <= set(h) for h in out["history"])
    assert out["test_accuracy"] == out["history"][-1]["test_accuracy"] > 0.5


def test_table_without_json(tmp_path):
    proc = run_cli("train", write(tmp_path, TINY), "--epochs", "1")
    assert proc.returncode == 0, proc.stderr
    assert "test acc" in proc.stdout and "tiny-digits: bp, 1 epochs" in proc.stdout
    assert proc.stderr == ""  # no progress bars when stderr is not a terminal


def test_divergence_exits_1_with_one_line(tmp_path):
    data = {**TINY, "training": {"optimizer": {"type": "sgd", "lr": 1e37}, "epochs": 3}}
    proc = run_cli("train", write(tmp_path, data), "--json")
    assert proc.returncode == 1
    assert proc.stdout == "" and proc.stderr.count("\n") == 1
    assert "diverged" in proc.stderr and "Traceback" not in proc.stderr


def test_help_has_an_example():
    proc = run_cli("train", "--help")
    assert proc.returncode == 0 and "accelsim train workloads/" in proc.stdout


def _layer(**changes):
    return {**TINY, "layers": [{**TINY["layers"][0], **changes}, TINY["layers"][1]]}


CONV = {"name": "c", "type": "conv2d", "out_channels": 4, "kernel": 3}
BAD = {
    "unknown-layer-type": (_layer(type="dense"), "layers[0].type"),
    "missing-key": (_layer(out_features=None), "layers[0].out_features"),
    "mistyped-key": (_layer(out_features="ten"), "layers[0].out_features"),
    "zero-size": (_layer(out_features=0), "layers[0].out_features"),
    "negative-size": (
        {**TINY, "layers": [{**CONV, "kernel": -3}, TINY["layers"][1]]},
        "layers[0].kernel",
    ),
    "kernel-larger-than-input": (
        {**TINY, "layers": [{**CONV, "kernel": 9}, TINY["layers"][1]]},
        "layers[0].kernel",
    ),
    "groups-not-dividing": (
        {**TINY, "layers": [{**CONV, "groups": 3}, TINY["layers"][1]]},
        "layers[0].groups",
    ),
    "duplicate-names": (
        {**TINY, "layers": [TINY["layers"][0], {**TINY["layers"][1], "name": "fc1"}]},
        "layers[1].name",
    ),
    "unknown-algorithm": ({**TINY, "training": {"algorithm": "magic"}}, "training.algorithm"),
    "unknown-dataset": ({**TINY, "dataset": {"name": "imagenet"}}, "dataset.name"),
    "unknown-key": ({**TINY, "training": {"epoch": 3}}, "training.epoch"),
    "yaml-syntax-error": ("name: x\nlayers: [\n", "line"),
    "empty-file": ("", "empty"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_workload_exits_2_with_one_line_naming_file_and_key(tmp_path, case):
    data, key = BAD[case]
    if case == "missing-key":
        data = _layer()
        del data["layers"][0]["out_features"]
    path = write(tmp_path, data)
    proc = run_cli("train", path, "--json")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert str(path) in proc.stderr and key in proc.stderr and "expected" in proc.stderr
    assert proc.stdout == ""


def test_missing_file_and_bad_options_exit_2(tmp_path):
    missing = run_cli("train", tmp_path / "nope.yaml")
    assert missing.returncode == 2 and "nope.yaml" in missing.stderr
    assert "no such file" in missing.stderr and missing.stderr.count("\n") == 1
    for option in (["--algorithm", "magic"], ["--epochs", "0"], ["--seed", "-1"]):
        proc = run_cli("train", write(tmp_path, TINY), *option)
        assert proc.returncode == 2 and proc.stderr.count("\n") == 1, option
        assert option[0] in proc.stderr


def _history(doc):
    return [(h["train_loss"], h["test_loss"], h["test_accuracy"]) for h in doc["history"]]


def test_weight_delay_option_reaches_fit(tmp_path):
    """pdfa and dfa draw the same feedback, so pdfa trains exactly like dfa with delay 0 and
    differently with its default delay 1; --weight-delay must decide which."""
    path = write(tmp_path, TINY)
    args = ("train", path, "--epochs", "1", "--json")
    dfa = run_cli_json(*args, "-a", "dfa")
    pdfa = run_cli_json(*args, "-a", "pdfa")
    pdfa0 = run_cli_json(*args, "-a", "pdfa", "--weight-delay", "0")
    dfa1 = run_cli_json(*args, "-a", "dfa", "--weight-delay", "1")
    assert (dfa["weight_delay"], pdfa["weight_delay"]) == (0, 1)
    assert (pdfa0["weight_delay"], dfa1["weight_delay"]) == (0, 1)
    assert _history(pdfa0) == _history(dfa) != _history(pdfa)
    assert _history(dfa1) == _history(pdfa)


def test_weight_delay_of_the_workload_is_the_default_and_the_option_overrides_it(tmp_path):
    data = {**TINY, "training": {**TINY["training"], "algorithm": "pdfa", "weight_delay": 0}}
    path = write(tmp_path, data)
    args = ("train", path, "--epochs", "1", "--json")
    from_file = run_cli_json(*args)
    overridden = run_cli_json(*args, "--weight-delay", "1")
    assert (from_file["weight_delay"], overridden["weight_delay"]) == (0, 1)
    assert _history(from_file) != _history(overridden)


def test_table_states_a_nonzero_delay_and_where_it_came_from(tmp_path):
    path = write(tmp_path, TINY)
    default = run_cli("train", path, "--epochs", "1", "-a", "pdfa")
    assert default.returncode == 0, default.stderr
    assert "tiny-digits: pdfa, 1 epochs, seed 0, weight delay 1 (pdfa default)," in default.stdout
    option = run_cli("train", path, "--epochs", "1", "-a", "dfa", "--weight-delay", "1")
    assert "weight delay 1 (--weight-delay)" in option.stdout
    data = {**TINY, "training": {**TINY["training"], "weight_delay": 1}}
    from_file = run_cli("train", write(tmp_path, data, "f.yaml"), "--epochs", "1")
    assert "bp, 1 epochs, seed 0, weight delay 1 (training.weight_delay)" in from_file.stdout
    zero = run_cli("train", path, "--epochs", "1", "-a", "pdfa", "--weight-delay", "0")
    assert "weight delay" not in zero.stdout


@pytest.mark.parametrize("value", ["2", "-1", "one"])
def test_bad_weight_delay_exits_2_naming_the_option(tmp_path, value):
    proc = run_cli("train", write(tmp_path, TINY), "-a", "pdfa", "--weight-delay", value)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert "--weight-delay" in proc.stderr and proc.stdout == ""


def test_json_output_parses_even_with_progress_disabled(tmp_path):
    proc = run_cli("train", write(tmp_path, TINY), "--epochs", "1", "--json")
    assert json.loads(proc.stdout)["epochs"] == 1

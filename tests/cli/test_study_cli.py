"""``accelsim study`` end to end through the CLI, and its bad-input exits."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from conftest import run_cli, run_cli_json

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD = str(ROOT / "tests" / "data" / "study_tiny.yaml")
CHIP = str(ROOT / "examples" / "study" / "dflnpu_zero_skip.yaml")


def test_study_json_and_figure(tmp_path):
    figure = tmp_path / "fig" / "study.png"
    doc = run_cli_json("study", CHIP, WORKLOAD, "--epochs", "2", "--json", "-o", figure)
    assert list(doc["algorithms"]) == ["bp", "dfa", "pdfa"]
    assert doc["epochs"] == 2
    assert doc["zero_skipping_units"] == ["lc_fp", "lc_bw"]
    bp = doc["algorithms"]["bp"]
    assert bp["reached"] and bp["time_vs_bp"] == 1.0
    assert bp["time_to_accuracy_s"] == pytest.approx(
        bp["iterations_to_target"] * bp["latency_s_per_iteration"]
    )
    assert doc["algorithms"]["pdfa"]["weight_delay"] == 1
    assert figure.stat().st_size > 0
    with figure.with_suffix(".csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * 2
    assert {r["algorithm"] for r in rows} == {"bp", "dfa", "pdfa"}
    assert float(rows[0]["time_s"]) > 0


def test_weight_delay_option_applies_to_pdfa_in_training_and_simulation():
    """With --weight-delay 0 pdfa trains exactly like dfa (same feedback matrices) and is
    simulated without stale weights; the document records the delay used."""
    args = ("study", CHIP, WORKLOAD, "--algorithms", "dfa,pdfa", "--epochs", "1", "--json")
    default = run_cli_json(*args)["algorithms"]
    fresh = run_cli_json(*args, "--weight-delay", "0")["algorithms"]
    assert (default["pdfa"]["weight_delay"], fresh["pdfa"]["weight_delay"]) == (1, 0)
    assert fresh["dfa"]["weight_delay"] == default["dfa"]["weight_delay"] == 0
    accuracy = {k: [p["test_accuracy"] for p in v["history"]] for k, v in fresh.items()}
    assert accuracy["pdfa"] == accuracy["dfa"]
    assert fresh["dfa"] == {**default["dfa"], "train_seconds": fresh["dfa"]["train_seconds"]}


def test_pipeline_depth_too_small_for_the_delay_exits_2():
    proc = run_cli("study", CHIP, WORKLOAD, "--algorithms", "pdfa", "--pipeline-depth", "1")
    assert proc.returncode == 2, proc.stderr
    assert "pipeline_depth" in proc.stderr and "weight_delay" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_unreachable_target_is_reported_not_failed():
    proc = run_cli(
        "study",
        CHIP,
        WORKLOAD,
        "--algorithms",
        "bp,dfa",
        "--epochs",
        "1",
        "--target-accuracy",
        "1.0",
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert "target test accuracy 100.00 % (absolute)" in proc.stdout
    for name in ("bp", "dfa"):
        (row,) = [line for line in lines if line.startswith(name + " ")]
        assert "not reached" in row


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--algorithms", "bp,nope"], "--algorithms"),
        (["--target-accuracy", "0"], "--target-accuracy"),
        (["--target-accuracy", "1.01"], "--target-accuracy"),
        (["--target-accuracy", "high"], "--target-accuracy"),
        (["--epochs", "0"], "--epochs"),
        (["--weight-delay", "2"], "--weight-delay"),
        (["--weight-delay", "-1"], "--weight-delay"),
        (["--pipeline-depth", "0"], "--pipeline-depth"),
    ],
)
def test_bad_options_exit_2_with_one_line(args, message):
    proc = run_cli("study", CHIP, WORKLOAD, *args)
    assert proc.returncode == 2
    assert message in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
    assert proc.stdout == ""


@pytest.mark.parametrize("which", ["arch", "workload"])
def test_missing_file_exits_2_naming_it(tmp_path, which):
    missing = str(tmp_path / "nope.yaml")
    args = (missing, WORKLOAD) if which == "arch" else (CHIP, missing)
    proc = run_cli("study", *args)
    assert proc.returncode == 2
    assert "nope.yaml" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_simulation_only_workload_cannot_be_studied():
    proc = run_cli("study", CHIP, str(ROOT / "workloads" / "vgg16_cifar10.yaml"))
    assert proc.returncode == 2
    assert "dataset" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1

"""``accelsim simulate`` and ``accelsim compare`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import run_cli, run_cli_json

DFLNPU = "arch_configs/dflnpu.yaml"
LENET = "workloads/lenet_mnist.yaml"
KEYS = {
    "algorithm",
    "cycles",
    "latency_s",
    "energy_pj",
    "energy_breakdown_pj",
    "utilization",
    "dram_bytes",
    "layers",
    "steady_state",
}


def test_simulate_json_has_the_contract_keys():
    doc = run_cli_json(
        "simulate", DFLNPU, LENET, "--algorithm", "pdfa", "--iterations", "3", "--json"
    )
    assert set(doc) >= KEYS
    assert doc["algorithm"] == "pdfa"
    assert sum(doc["energy_breakdown_pj"].values()) == doc["energy_pj"]
    assert set(doc["utilization"]) == {"lc_fp", "lc_bw", "depc", "vector"}
    assert [row["layer"] for row in doc["layers"]][:5] == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert doc["latency_s"] == pytest.approx(doc["cycles"] / (doc["clock_mhz"] * 1e6))


def test_simulate_table_and_batch_one():
    proc = run_cli("simulate", DFLNPU, LENET, "--batch-size", "1")
    assert proc.returncode == 0, proc.stderr
    assert "energy breakdown" in proc.stdout and "conv1" in proc.stdout


def test_trace_is_chrome_trace_json(tmp_path):
    out = tmp_path / "trace.json"
    doc = run_cli_json("simulate", DFLNPU, LENET, "-a", "dfa", "--trace", str(out), "--json")
    trace = json.loads(out.read_text())
    slices = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    names = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert names == set(doc["utilization"])
    assert all({"name", "ts", "dur", "pid", "tid"} <= set(e) for e in slices)
    assert max(e["ts"] + e["dur"] for e in slices) == pytest.approx(doc["latency_s"] * 1e6)


def test_compare_json():
    doc = run_cli_json("compare", DFLNPU, LENET, "--json")
    assert set(doc["results"]) >= {"bp", "dfa", "pdfa"}
    assert doc["speedup_vs_bp"]["bp"] == 1.0 and doc["energy_ratio_vs_bp"]["bp"] == 1.0
    assert doc["speedup_vs_bp"]["pdfa"] >= doc["speedup_vs_bp"]["dfa"]


def test_compare_table_lists_each_algorithm():
    proc = run_cli("compare", DFLNPU, LENET, "--algorithms", "bp,dfa,hybrid-dfa")
    assert proc.returncode == 0, proc.stderr
    assert all(name in proc.stdout for name in ("bp", "dfa", "hybrid-dfa"))


def _bad_chip(tmp_path, edit) -> str:
    data = yaml.safe_load(Path(DFLNPU).read_text())
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d["units"][0].update(rows=0), "units[0].rows"),
        (lambda d: d["dram"].update(bandwidth_bytes_per_cycle=0), "dram.bandwidth_bytes_per_cycle"),
        (lambda d: d["units"][2].update(tasks=["ep", "wg"]), "units[].tasks"),
    ],
)
def test_bad_chip_is_one_line_exit_2(tmp_path, edit, key):
    path = _bad_chip(tmp_path, edit)
    proc = run_cli("simulate", path, LENET, "--algorithm", "dfa")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert path in proc.stderr and key in proc.stderr


def test_missing_and_malformed_files_exit_2(tmp_path):
    proc = run_cli("simulate", str(tmp_path / "none.yaml"), LENET)
    assert proc.returncode == 2 and "none.yaml" in proc.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("units: [ {name: x\n")
    proc = run_cli("compare", str(broken), LENET)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1

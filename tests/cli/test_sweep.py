"""``accelsim sweep`` and ``accelsim results`` end to end, with the real simulator."""

from __future__ import annotations

import csv
import io
import json
import sqlite3

import pytest
from conftest import ROOT, run_cli

ARCH = ROOT / "arch_configs" / "dflnpu.yaml"
WORKLOAD = ROOT / "workloads" / "lenet_mnist.yaml"
EXAMPLE = ROOT / "examples" / "sweeps" / "dflnpu_lenet.yaml"


def write_spec(folder, body: str, name: str = "spec.yaml"):
    path = folder / name
    path.write_text(f"arch: {ARCH}\nworkload: {WORKLOAD}\n{body}")
    return path


def cli_json(*args):
    proc = run_cli(*args)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def run_sweep_cli(*args):
    return run_cli("sweep", *args)


def one_line_error(proc, *words: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for word in words:
        assert word in proc.stderr


def test_the_example_sweep_runs_and_results_list_every_point(tmp_path):
    store = tmp_path / "out" / "sweep.db"
    summary = cli_json("sweep", EXAMPLE, "--store", store, "--workers", "2", "--json")
    assert summary["points"] == 36 and summary["ok"] == 36 and summary["failed"] == 0
    rows = cli_json("results", store, "--json")
    assert len(rows) == 36
    points = {json.dumps(row["point"], sort_keys=True) for row in rows}
    assert len(points) == 36
    for row in rows:
        assert set(row["point"]) == {
            "arch.clock_mhz",
            "arch.units.lc_fp.rows",
            "workload.dataset.batch_size",
            "algorithm",
        }
        assert row["status"] == "ok" and row["error"] is None
        assert row["cycles"] > 0 and row["latency_s"] > 0 and row["energy_pj"] > 0
        assert set(row["utilization"]) == {"lc_fp", "lc_bw", "depc", "vector"}
        assert "layers" not in row
    # Faster clock, same everything else: the same cycles take half the time.
    by_point = {json.dumps(r["point"], sort_keys=True): r for r in rows}
    for row in rows:
        if row["point"]["arch.clock_mhz"] == 100:
            twin = by_point[json.dumps({**row["point"], "arch.clock_mhz": 200}, sort_keys=True)]
            assert twin["latency_s"] < row["latency_s"]

    again = cli_json("sweep", EXAMPLE, "--store", store, "--json")
    assert again["skipped"] == 36 and again["ran"] == 0

    table = run_cli("results", store, "--csv")
    assert table.returncode == 0
    records = list(csv.DictReader(io.StringIO(table.stdout)))
    assert len(records) == 36
    assert {
        "arch.clock_mhz",
        "algorithm",
        "status",
        "cycles",
        "latency_s",
        "energy_pj",
        "utilization.lc_fp",
    } <= set(records[0])


def test_a_point_that_fails_in_the_simulator_is_stored_failed_and_the_rest_run(tmp_path):
    # Without a unit for dfa_ep, DFA cannot be scheduled; BP still can.
    spec = write_spec(
        tmp_path, "algorithms: [bp, dfa]\ngrid:\n  arch.units.depc.tasks: [[dfa_ep], [ep]]\n"
    )
    store = tmp_path / "s.db"
    summary = cli_json("sweep", spec, "--store", store, "--json")
    assert summary["ok"] == 3 and summary["failed"] == 1
    bad = {"arch.units.depc.tasks": ["ep"], "algorithm": "dfa"}
    assert [f["point"] for f in summary["failed_points"]] == [bad]
    assert "dfa_ep" in summary["failed_points"][0]["error"]
    failed = cli_json("results", store, "--json", "--status", "failed")
    assert [r["point"] for r in failed] == [bad]
    assert "dfa_ep" in failed[0]["error"] and failed[0]["cycles"] is None
    assert failed[0]["speedup_vs_bp"] is None and failed[0]["cycles_per_iteration"] is None
    ok_before = {r["hash"]: r["duration_s"] for r in cli_json("results", store, "--json")}
    # A rerun retries the failed point (and only it: ok points never run again) ...
    again = cli_json("sweep", spec, "--store", store, "--json")
    assert again["ran"] == 1 and again["retried"] == 1 and again["skipped"] == 3
    assert again["failed"] == 1 and again["kept_failed"] == 0
    # ... unless --keep-failed; --retry-failed (the default) is still accepted.
    kept = cli_json("sweep", spec, "--store", store, "--json", "--keep-failed")
    assert kept["ran"] == 0 and kept["skipped"] == 4 and kept["kept_failed"] == 1
    assert cli_json("sweep", spec, "--store", store, "--json", "--retry-failed")["ran"] == 1
    rows = cli_json("results", store, "--json", "--status", "ok")
    assert {r["hash"]: r["duration_s"] for r in rows} == {
        k: v for k, v in ok_before.items() if k in {r["hash"] for r in rows}
    }
    assert len(rows) == 3
    # The text summary counts and lists the failed points.
    text = run_cli("sweep", spec, "--store", store, "--no-progress")
    assert text.returncode == 0, text.stderr
    assert "1 failed" in text.stdout and "(1 of them failed before)" in text.stdout
    assert "failed: point {arch.units.depc.tasks=['ep'], algorithm=dfa}" in text.stdout
    assert "--status failed" in text.stdout
    kept_text = run_cli("sweep", spec, "--store", store, "--no-progress", "--keep-failed")
    assert "1 points stored as failed were not run again (--keep-failed)" in kept_text.stdout


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("algorithms: [bp]\ngrid: {arch.units.fp_core.rows: [8]}\n", ["fp_core", "lc_fp"]),
        ("algorithms: [bp]\ngrid: {}\n", ["grid", "non-empty"]),
        ("algorithms: [bp]\ngrid: {arch.clock_mhz: [fast]}\n", ["arch.clock_mhz", "number"]),
        ("algorithms: [bp]\ngrid: {arch.units.lc_fp.rows: [0]}\n", ["rows=0", "got 0"]),
    ],
)
def test_bad_specs_exit_2_with_one_line_before_creating_a_store(tmp_path, body, words):
    spec = write_spec(tmp_path, body)
    proc = run_sweep_cli(spec, "--store", tmp_path / "s.db")
    one_line_error(proc, str(spec), *words)
    assert not (tmp_path / "s.db").exists()


def test_missing_files_exit_2(tmp_path):
    one_line_error(run_sweep_cli(tmp_path / "nope.yaml", "--store", tmp_path / "s.db"), "nope.yaml")
    spec = tmp_path / "spec.yaml"
    spec.write_text("arch: missing_chip.yaml\nworkload: w.yaml\nalgorithms: [bp]\n")
    one_line_error(run_sweep_cli(spec, "--store", tmp_path / "s.db"), "arch", "missing_chip.yaml")
    one_line_error(run_cli("results", tmp_path / "absent.db"), "absent.db", "no such file")


def test_stores_that_are_not_accelsim_stores_exit_2_untouched(tmp_path):
    spec = write_spec(tmp_path, "algorithms: [bp]\n")
    text = tmp_path / "notes.db"
    text.write_text("not a database\n")
    other = tmp_path / "other.db"
    db = sqlite3.connect(other)
    db.execute("CREATE TABLE t (x)")
    db.commit()
    db.close()
    for store in (text, other):
        one_line_error(run_sweep_cli(spec, "--store", store), str(store), "accelsim sweep store")
        one_line_error(run_cli("results", store), str(store), "accelsim sweep store")
    assert text.read_text() == "not a database\n"


def test_help_has_examples():
    for command in ("sweep", "results"):
        proc = run_cli(command, "--help")
        assert proc.returncode == 0 and "Examples" in proc.stdout

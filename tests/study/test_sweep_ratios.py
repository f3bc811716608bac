"""Every sweep row carries its steady-state per-iteration cycles and energy and the ratios
against BP of the same swept values (``speedup_vs_bp``, ``energy_ratio_vs_bp``)."""

from __future__ import annotations

import csv
import io
import json

import pytest
from conftest import ROOT, run_cli

from accelsim.study.store import Store

ALGORITHMS = ("bp", "dfa", "pdfa")


def test_speedup_and_energy_ratio_follow_the_rows_own_per_iteration_figures(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"arch: {ROOT / 'arch_configs' / 'dflnpu.yaml'}\n"
        f"workload: {ROOT / 'workloads' / 'lenet_mnist.yaml'}\n"
        "algorithms: [bp, dfa, pdfa]\ngrid: {arch.clock_mhz: [100, 200]}\n"
    )
    store = tmp_path / "s.db"
    proc = run_cli("sweep", spec, "--store", store, "--json", "--no-progress")
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(run_cli("results", store, "--json").stdout)
    assert len(rows) == 6
    bp = {r["point"]["arch.clock_mhz"]: r for r in rows if r["point"]["algorithm"] == "bp"}
    for row in rows:
        steady = row["steady_state"]
        assert row["cycles_per_iteration"] == steady["cycles_per_iteration"] > 0
        assert row["energy_pj_per_iteration"] == steady["energy_pj_per_iteration"] > 0
        base = bp[row["point"]["arch.clock_mhz"]]
        if row["point"]["algorithm"] == "bp":
            assert row["speedup_vs_bp"] == 1.0 and row["energy_ratio_vs_bp"] == 1.0
        else:
            assert row["speedup_vs_bp"] == pytest.approx(
                base["cycles_per_iteration"] / row["cycles_per_iteration"], rel=1e-12
            )
            assert row["energy_ratio_vs_bp"] == pytest.approx(
                row["energy_pj_per_iteration"] / base["energy_pj_per_iteration"], rel=1e-12
            )
    # DFA and PDFA really differ from BP here, so a ratio of 1 everywhere would not pass.
    assert any(r["speedup_vs_bp"] != 1.0 for r in rows)

    table = run_cli("results", store, "--csv")
    assert table.returncode == 0, table.stderr
    records = list(csv.DictReader(io.StringIO(table.stdout)))
    for record, row in zip(records, rows, strict=True):
        for key in (
            "speedup_vs_bp",
            "energy_ratio_vs_bp",
            "cycles_per_iteration",
            "energy_pj_per_iteration",
        ):
            assert float(record[key]) == pytest.approx(row[key], rel=1e-12)


def _result(cycles: float, energy: float, arch: str = "chip") -> dict:
    steady = {"cycles_per_iteration": cycles, "energy_pj_per_iteration": energy}
    return {"cycles": cycles, "arch": arch, "workload": "net", "steady_state": steady}


def test_ratios_use_the_bp_row_of_the_same_values_and_are_null_without_one(tmp_path):
    with Store(tmp_path / "s.db") as store:
        store.record("b1", {"x": 1, "algorithm": "bp"}, "ok", _result(100, 50))
        store.record("d1", {"x": 1, "algorithm": "dfa"}, "ok", _result(40, 60))
        store.record("b2", {"x": 2, "algorithm": "bp"}, "ok", _result(1000, 500))
        store.record("d2", {"x": 2, "algorithm": "dfa"}, "ok", _result(500, 250))
        store.record("d3", {"x": 3, "algorithm": "dfa"}, "ok", _result(10, 10))  # no BP
        store.record("f1", {"x": 1, "algorithm": "pdfa"}, "failed", error="boom")
        rows = {r.key: r.derived for r in store.rows()}
        only_ok = {r.key for r in store.rows(status="ok")}
    assert rows["b1"]["speedup_vs_bp"] == 1.0 and rows["b1"]["energy_ratio_vs_bp"] == 1.0
    assert rows["d1"]["speedup_vs_bp"] == 2.5 and rows["d1"]["energy_ratio_vs_bp"] == 1.2
    assert rows["d2"]["speedup_vs_bp"] == 2.0 and rows["d2"]["energy_ratio_vs_bp"] == 0.5
    assert rows["d3"] == {
        "cycles_per_iteration": 10.0,
        "energy_pj_per_iteration": 10.0,
        "speedup_vs_bp": None,
        "energy_ratio_vs_bp": None,
    }
    assert set(rows["f1"].values()) == {None}
    assert only_ok == {"b1", "d1", "b2", "d2", "d3"}

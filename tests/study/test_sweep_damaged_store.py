"""Damaged stores are one-line ConfigErrors naming the file and what was expected; a damaged
row in ``accelsim results`` is reported and the other rows are still printed."""

from __future__ import annotations

import json
import sqlite3

import pytest
from conftest import ROOT, run_cli

from accelsim.config.errors import ConfigError
from accelsim.study.store import Store

RESULT = {"cycles": 10, "latency_s": 1e-6, "energy_pj": 5.0, "dram_bytes": 8}


def make_store(path):
    with Store(path) as store:
        store.record("h1", {"x": 1, "algorithm": "bp"}, "ok", RESULT)
        store.record("h2", {"x": 2, "algorithm": "bp"}, "ok", RESULT)
    return path


def one_line(proc, *words):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in proc.stderr


@pytest.mark.parametrize(
    ("damage", "words"),
    [
        ("UPDATE meta SET value = 'one' WHERE key = 'schema_version'", ["schema_version", "one"]),
        ("DROP TABLE points", ["no table points"]),
        ("ALTER TABLE points DROP COLUMN result", ["no column result"]),
    ],
)
def test_damaged_stores_are_one_line_config_errors(tmp_path, damage, words):
    path = make_store(tmp_path / "s.db")
    db = sqlite3.connect(path)
    db.execute(damage)
    db.commit()
    db.close()
    with pytest.raises(ConfigError) as err:
        Store(path, create=False)
    assert str(path) in str(err.value)
    one_line(run_cli("results", path), str(path), *words)


def test_a_corrupt_row_is_reported_and_the_others_are_listed(tmp_path):
    path = make_store(tmp_path / "s.db")
    db = sqlite3.connect(path)
    db.execute("UPDATE points SET result = '{not json' WHERE hash = 'h1'")
    db.commit()
    db.close()
    with Store(path, create=False) as store:
        assert [row.key for row in store.rows()] == ["h2"]
        assert len(store.damaged) == 1 and "hash h1" in store.damaged[0]
    proc = run_cli("results", path, "--json")
    assert proc.returncode == 0, proc.stderr
    assert [row["hash"] for row in json.loads(proc.stdout)] == ["h2"]
    assert "hash h1" in proc.stderr and "column result" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_store_name_too_long_for_the_file_system_is_a_config_error(tmp_path):
    path = tmp_path / ("x" * 300 + ".db")
    with pytest.raises(ConfigError, match="File name too long"):
        Store(path)
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"arch: {ROOT / 'arch_configs' / 'dflnpu.yaml'}\n"
        f"workload: {ROOT / 'workloads' / 'lenet_mnist.yaml'}\nalgorithms: [bp]\n"
    )
    for args in (
        ("results", path),
        ("sweep", spec, "--store", path),
        ("sweep", spec, "--store", path, "--dry-run"),
    ):
        one_line(run_cli(*args), "store path", "File name too long")

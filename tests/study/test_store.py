"""The SQLite store: marked as accelsim's, one row per hash, failed rows replaceable, ok kept."""

from __future__ import annotations

import sqlite3

import pytest

from accelsim.config.errors import ConfigError
from accelsim.study.store import SCHEMA_VERSION, STORE_FORMAT, Store

RESULT = {
    "algorithm": "bp",
    "cycles": 1200,
    "latency_s": 6e-6,
    "energy_pj": 3.5e6,
    "dram_bytes": 4096,
    "utilization": {"fp_core": 0.5},
    "layers": [{"name": "fc1"}],
}


def test_a_new_store_is_marked_and_in_wal_mode(tmp_path):
    path = tmp_path / "sub" / "s.db"
    with Store(path):
        pass
    db = sqlite3.connect(path)
    meta = dict(db.execute("SELECT key, value FROM meta"))
    assert meta["format"] == STORE_FORMAT
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_each_hash_is_stored_once_and_ok_rows_never_change(tmp_path):
    with Store(tmp_path / "s.db") as store:
        assert store.record("h1", {"arch.clock_mhz": 100, "algorithm": "bp"}, "ok", RESULT)
        changed = dict(RESULT, cycles=1)
        assert not store.record("h1", {"algorithm": "bp"}, "ok", changed)
        assert not store.record("h1", {"algorithm": "bp"}, "failed", error="boom")
        (row,) = store.rows()
    assert row.status == "ok" and row.result["cycles"] == 1200
    assert row.metrics["cycles"] == 1200 and row.metrics["dram_bytes"] == 4096
    assert row.point == {"arch.clock_mhz": 100, "algorithm": "bp"}


def test_a_failed_row_is_replaced_by_a_later_success(tmp_path):
    with Store(tmp_path / "s.db") as store:
        store.record("h1", {"algorithm": "dfa"}, "failed", error="worker died")
        assert store.statuses() == {"h1": "failed"}
        assert store.record("h1", {"algorithm": "dfa"}, "ok", RESULT)
        (row,) = store.rows()
    assert row.status == "ok" and row.error is None


def test_rows_persist_across_connections(tmp_path):
    with Store(tmp_path / "s.db") as store:
        for i in range(5):
            store.record(f"h{i}", {"i": i, "algorithm": "bp"}, "ok", RESULT)
    with Store(tmp_path / "s.db", create=False) as store:
        assert [row.point["i"] for row in store.rows()] == list(range(5))
        assert store.rows(status="failed") == []


def test_a_file_that_is_not_sqlite_is_refused(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("hello, I am a text file\n")
    with pytest.raises(ConfigError, match="not an SQLite database"):
        Store(path)
    assert path.read_text() == "hello, I am a text file\n"


def test_an_sqlite_file_of_another_kind_is_refused(tmp_path):
    path = tmp_path / "other.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE customers (id INTEGER)")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="accelsim sweep store"):
        Store(path)


def test_a_newer_schema_is_refused(tmp_path):
    path = tmp_path / "s.db"
    Store(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    db.commit()
    db.close()
    with pytest.raises(ConfigError, match="schema"):
        Store(path)


def test_reading_a_missing_store_does_not_create_it(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        Store(tmp_path / "absent.db", create=False)
    assert not (tmp_path / "absent.db").exists()

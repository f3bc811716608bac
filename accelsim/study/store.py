"""The result store of a sweep: one SQLite file, one row per point, each committed as it ends.

SQLite is embedded (stdlib ``sqlite3``, no server) and its write-ahead log makes every commit
survive a killed process, so a sweep stopped at any moment, even by SIGKILL, loses at most the
points that were still running. Rows are keyed by the hash of the point's resolved
configuration (unique), so rerunning a sweep skips what is already there and no point is ever
stored twice. A ``meta`` table marks the file as an accelsim store and records its schema.

Schema (version 1)::

    meta(key TEXT PRIMARY KEY, value TEXT)            -- format, schema_version, created_by
    runs(id, started_at, spec_file, spec_name, points_total)
    points(id, hash UNIQUE, point JSON, algorithm, status 'ok'|'failed', error,
           cycles, latency_s, energy_pj, dram_bytes, duration_s, finished_at, result JSON)
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelsim import __version__
from accelsim.config.errors import ConfigError

STORE_FORMAT = "accelsim-sweep-store"
SCHEMA_VERSION = 1
SUMMARY_COLUMNS = ("cycles", "latency_s", "energy_pj", "dram_bytes")
_SQLITE_MAGIC = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at REAL NOT NULL,
    spec_file TEXT NOT NULL,
    spec_name TEXT NOT NULL,
    points_total INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS points (
    id INTEGER PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    point TEXT NOT NULL,
    algorithm TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error TEXT,
    cycles REAL,
    latency_s REAL,
    energy_pj REAL,
    dram_bytes REAL,
    duration_s REAL,
    finished_at REAL NOT NULL,
    result TEXT
);
"""

# A failed row may be replaced by a later success (--retry-failed); an ok row never changes.
_UPSERT = """
INSERT INTO points (hash, point, algorithm, status, error, cycles, latency_s, energy_pj,
                    dram_bytes, duration_s, finished_at, result)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (hash) DO UPDATE SET
    point = excluded.point, status = excluded.status, error = excluded.error,
    cycles = excluded.cycles, latency_s = excluded.latency_s, energy_pj = excluded.energy_pj,
    dram_bytes = excluded.dram_bytes, duration_s = excluded.duration_s,
    finished_at = excluded.finished_at, result = excluded.result
WHERE points.status = 'failed'
"""


@dataclass(frozen=True)
class StoredRow:
    """One point as stored: ``point`` holds the swept values and ``algorithm``."""

    key: str
    point: dict[str, Any]
    status: str  # ok | failed
    error: str | None
    metrics: dict[str, float | None]  # the SUMMARY_COLUMNS
    duration_s: float | None
    finished_at: float
    result: dict[str, Any] | None  # the full simulate JSON (None for failed points)


class Store:
    """An open store; use as a context manager or call ``close``."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        self.label = str(path)
        _check_file(self.path, self.label, create)
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self._init()
        except sqlite3.DatabaseError as err:
            raise ConfigError(
                self.label, None, "an accelsim sweep store (SQLite)", str(err)
            ) from None

    # -- lifecycle --------------------------------------------------------------------------
    def _init(self) -> None:
        db = self._db
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if tables and "meta" not in tables:
            raise ConfigError(
                self.label, None, "an accelsim sweep store", "an SQLite database of another kind"
            )
        if tables:
            meta = dict(db.execute("SELECT key, value FROM meta"))
            if meta.get("format") != STORE_FORMAT:
                raise ConfigError(
                    self.label,
                    "meta.format",
                    f"{STORE_FORMAT!r} (an accelsim sweep store)",
                    meta.get("format"),
                )
            version = int(meta.get("schema_version", "0"))
            if version != SCHEMA_VERSION:
                raise ConfigError(
                    self.label,
                    "meta.schema_version",
                    f"schema version {SCHEMA_VERSION} (this accelsim {__version__})",
                    version,
                )
        # WAL: a commit is durable once written to the log, readers never block the writer;
        # synchronous=NORMAL keeps every commit safe from a killed process (not from power loss).
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        if not tables:
            with self._transaction():
                for statement in _SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [
                        ("format", STORE_FORMAT),
                        ("schema_version", str(SCHEMA_VERSION)),
                        ("created_by", f"accelsim {__version__}"),
                    ],
                )

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing ----------------------------------------------------------------------------
    def start_run(self, spec_file: str, spec_name: str, points_total: int) -> int:
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO runs (started_at, spec_file, spec_name, points_total) "
                "VALUES (?, ?, ?, ?)",
                (time.time(), spec_file, spec_name, points_total),
            )
        return int(cursor.lastrowid)

    def record(
        self,
        key: str,
        point: dict[str, Any],
        status: str,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        duration_s: float | None = None,
    ) -> bool:
        """Commit one finished point; False if an ok row with this hash was already there."""
        if status not in ("ok", "failed"):
            raise ValueError(f"status must be 'ok' or 'failed', not {status!r}")
        metrics = [_number((result or {}).get(name)) for name in SUMMARY_COLUMNS]
        row = (
            key,
            json.dumps(point, default=_plain),
            str(point.get("algorithm", "")),
            status,
            error,
            *metrics,
            duration_s,
            time.time(),
            json.dumps(result, default=_plain) if result is not None else None,
        )
        with self._transaction():
            cursor = self._db.execute(_UPSERT, row)
        return cursor.rowcount > 0

    # -- reading ----------------------------------------------------------------------------
    def statuses(self) -> dict[str, str]:
        """hash -> status of every stored point."""
        return dict(self._db.execute("SELECT hash, status FROM points"))

    def count(self) -> int:
        return int(self._db.execute("SELECT COUNT(*) FROM points").fetchone()[0])

    def rows(self, status: str | None = None) -> list[StoredRow]:
        """Stored points in the order they finished."""
        query = (
            "SELECT hash, point, status, error, cycles, latency_s, energy_pj, dram_bytes, "
            "duration_s, finished_at, result FROM points"
        )
        args: tuple = ()
        if status is not None:
            query += " WHERE status = ?"
            args = (status,)
        rows = []
        for record in self._db.execute(query + " ORDER BY id", args):
            key, point, state, error, *metrics, duration, finished, result = record
            rows.append(
                StoredRow(
                    key=key,
                    point=json.loads(point),
                    status=state,
                    error=error,
                    metrics=dict(zip(SUMMARY_COLUMNS, metrics, strict=True)),
                    duration_s=duration,
                    finished_at=finished,
                    result=json.loads(result) if result else None,
                )
            )
        return rows


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error) in autocommit mode."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def _check_file(path: Path, label: str, create: bool) -> None:
    if path.is_dir():
        raise ConfigError(label, None, "a sweep store file", "a directory")
    if not path.exists():
        if not create:
            raise ConfigError(label, None, "an existing sweep store", "no such file")
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as err:
            raise ConfigError(label, None, "a writable store path", str(err)) from None
        return
    try:
        with path.open("rb") as handle:
            head = handle.read(len(_SQLITE_MAGIC))
    except OSError as err:
        raise ConfigError(label, None, "a readable sweep store", str(err)) from None
    if head and head != _SQLITE_MAGIC:
        raise ConfigError(label, None, "an accelsim sweep store", "not an SQLite database")
    if not head and not create:
        raise ConfigError(label, None, "an accelsim sweep store", "an empty file")


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _plain(value: Any) -> Any:
    """numpy scalars and arrays (and other array-likes) as plain JSON values."""
    for attr in ("tolist", "item"):
        if hasattr(value, attr):
            return getattr(value, attr)()
    return str(value)

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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from accelsim import __version__
from accelsim.config.errors import ConfigError

STORE_FORMAT = "accelsim-sweep-store"
SCHEMA_VERSION = 1
SUMMARY_COLUMNS = ("cycles", "latency_s", "energy_pj", "dram_bytes")
_SQLITE_MAGIC = b"SQLite format 3\x00"
_POINT_COLUMNS = (
    "id", "hash", "point", "algorithm", "status", "error", "cycles", "latency_s", "energy_pj",
    "dram_bytes", "duration_s", "finished_at", "result",
)  # fmt: skip

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

# A failed row may be replaced by a later run (a rerun retries it); an ok row never changes.
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
    # cycles_per_iteration, energy_pj_per_iteration, speedup_vs_bp, energy_ratio_vs_bp
    derived: dict[str, float | None] = field(default_factory=dict)


DERIVED_COLUMNS = (
    "cycles_per_iteration",
    "energy_pj_per_iteration",
    "speedup_vs_bp",
    "energy_ratio_vs_bp",
)


class Store:
    """An open store; use as a context manager or call ``close``."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        self.label = str(path)
        # Rows ``rows`` could not read (damaged JSON): one message each, filled by ``rows``.
        self.damaged: list[str] = []
        _check_file(self.path, self.label, create)
        try:
            self._db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
        except (sqlite3.Error, OSError) as err:
            raise ConfigError(self.label, None, "a store file SQLite can open", str(err)) from None
        try:
            self._init()
        except sqlite3.Error as err:
            self._db.close()
            raise ConfigError(
                self.label, None, "an accelsim sweep store (SQLite)", str(err)
            ) from None
        except ConfigError:
            self._db.close()
            raise

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
            written = meta.get("schema_version")
            try:
                version = int(written)
            except (TypeError, ValueError):
                raise ConfigError(
                    self.label,
                    "meta.schema_version",
                    f"an integer schema version ({SCHEMA_VERSION} for this accelsim)",
                    written,
                ) from None
            if version != SCHEMA_VERSION:
                raise ConfigError(
                    self.label,
                    "meta.schema_version",
                    f"schema version {SCHEMA_VERSION} (this accelsim {__version__})",
                    version,
                )
            missing = [t for t in ("runs", "points") if t not in tables]
            if missing:
                raise ConfigError(
                    self.label,
                    None,
                    "an accelsim sweep store with the tables meta, runs and points",
                    "no table " + " and no table ".join(missing),
                )
            columns = {row[1] for row in db.execute("PRAGMA table_info(points)")}
            absent = [c for c in _POINT_COLUMNS if c not in columns]
            if absent:
                raise ConfigError(
                    self.label,
                    "points",
                    "a points table with the columns of schema version 1",
                    "no column " + ", ".join(absent),
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
        return dict(self._query("SELECT hash, status FROM points"))

    def count(self) -> int:
        return int(self._query("SELECT COUNT(*) FROM points")[0][0])

    def _query(self, sql: str, args: tuple = ()) -> list[tuple]:
        try:
            return self._db.execute(sql, args).fetchall()
        except sqlite3.Error as err:
            raise ConfigError(
                self.label, None, "a readable accelsim sweep store", str(err)
            ) from None

    def rows(self, status: str | None = None) -> list[StoredRow]:
        """Stored points in the order they finished, each with its ``derived`` per-iteration
        metrics and ratios against BP (``with_bp_ratios``). A row whose stored JSON is damaged
        is left out and described in ``self.damaged``; the others are returned."""
        query = (
            "SELECT id, hash, point, status, error, cycles, latency_s, energy_pj, dram_bytes, "
            "duration_s, finished_at, result FROM points"
        )
        self.damaged = []
        rows = []
        # Every status is read: a failed row's ratios need no BP, an ok row's need its BP row.
        for record in self._query(query + " ORDER BY id"):
            row_id, key, point, state, error, *metrics, duration, finished, result = record
            try:
                row = StoredRow(
                    key=key,
                    point=_json_object(point, "point"),
                    status=state,
                    error=error,
                    metrics=dict(zip(SUMMARY_COLUMNS, metrics, strict=True)),
                    duration_s=duration,
                    finished_at=finished,
                    result=_json_object(result, "result") if result else None,
                )
            except ValueError as err:
                self.damaged.append(
                    f"{self.label}: points row {row_id} (hash {key}): expected {err}; row skipped"
                )
                continue
            rows.append(row)
        rows = with_bp_ratios(rows)
        return [row for row in rows if status is None or row.status == status]


def with_bp_ratios(rows: list[StoredRow]) -> list[StoredRow]:
    """``rows`` with ``derived`` filled: ``cycles_per_iteration`` and ``energy_pj_per_iteration``
    from the simulate document's ``steady_state``, and ``speedup_vs_bp`` (BP cycles per
    iteration / this row's) and ``energy_ratio_vs_bp`` (this row's energy per iteration / BP's).

    BP of a row is the stored ok row with the same swept values and ``algorithm: bp`` (and the
    same chip and workload names); when several match (one store, several specs), the one that
    finished last. Without one (the spec did not include ``bp``), the ratios are None.
    """
    steady = {id(row): _steady(row) for row in rows}
    bp_rows: dict[str, tuple[float | None, float | None]] = {}
    for row in rows:
        if row.status == "ok" and row.point.get("algorithm") == "bp":
            bp_rows[_twin_key(row)] = steady[id(row)]
    out = []
    for row in rows:
        cycles, energy = steady[id(row)]
        base_cycles, base_energy = bp_rows.get(_twin_key(row), (None, None))
        derived = {
            "cycles_per_iteration": cycles,
            "energy_pj_per_iteration": energy,
            "speedup_vs_bp": _ratio(base_cycles, cycles),
            "energy_ratio_vs_bp": _ratio(energy, base_energy),
        }
        out.append(replace(row, derived=derived))
    return out


def _steady(row: StoredRow) -> tuple[float | None, float | None]:
    if row.status != "ok" or not isinstance(row.result, dict):
        return None, None
    steady = row.result.get("steady_state")
    if not isinstance(steady, dict):
        return None, None
    return _number(steady.get("cycles_per_iteration")), _number(
        steady.get("energy_pj_per_iteration")
    )


def _twin_key(row: StoredRow) -> str:
    values = {k: v for k, v in row.point.items() if k != "algorithm"}
    result = row.result if isinstance(row.result, dict) else {}
    names = [result.get("arch"), result.get("workload")]
    return json.dumps([values, names], sort_keys=True, default=str)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or denominator is None or denominator == 0:
        return None
    return numerator / denominator


def _json_object(text: Any, column: str) -> dict[str, Any]:
    """A stored JSON column that must hold an object; ValueError saying what it holds."""
    try:
        value = json.loads(text)
    except (TypeError, ValueError) as err:
        raise ValueError(f"a JSON object in column {column}, got damaged JSON ({err})") from None
    if not isinstance(value, dict):
        raise ValueError(f"a JSON object in column {column}, got {type(value).__name__}")
    return value


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (or ``ROLLBACK`` on error) in autocommit mode."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, *rest: object) -> None:
        self._db.execute("ROLLBACK" if exc_type else "COMMIT")


def store_exists(path: str | Path) -> bool:
    """Whether a file is at ``path``; a path the file system refuses is a ConfigError."""
    try:
        return Path(path).exists()
    except OSError as err:
        raise ConfigError(
            str(path), None, "a store path the file system accepts", err.strerror or str(err)
        ) from None


def _check_file(path: Path, label: str, create: bool) -> None:
    try:
        _check_path(path, label, create)
    except OSError as err:  # e.g. a file name longer than the file system allows
        raise ConfigError(
            label, None, "a store path the file system accepts", err.strerror or str(err)
        ) from None


def _check_path(path: Path, label: str, create: bool) -> None:
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

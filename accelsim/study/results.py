"""Stored sweep rows as plain data: the ``accelsim results`` JSON rows and their flat CSV form.

A row is ``{"point": {swept path: value, ..., "algorithm": a}, "status", "error", "hash"}``
plus the summary keys of ``accelsim simulate --json`` (``cycles``, ``latency_s``,
``energy_pj``, ``dram_bytes``, ``energy_breakdown_pj``, ``utilization``, and any other scalar
the simulator reports). Per-layer lists stay out unless ``full``; the store keeps them anyway.
"""

from __future__ import annotations

from typing import Any

from accelsim.study.store import SUMMARY_COLUMNS, StoredRow


def result_rows(stored: list[StoredRow], full: bool = False) -> list[dict[str, Any]]:
    rows = []
    for record in stored:
        row: dict[str, Any] = {
            "point": record.point,
            "status": record.status,
            "error": record.error,
            "hash": record.key,
        }
        result = record.result or {}
        for key in SUMMARY_COLUMNS:
            row[key] = result.get(key, record.metrics.get(key))
        for key, value in result.items():
            if key in row or key == "algorithm":
                continue
            if full or _is_summary(value):
                row[key] = value
        row.update(record.derived)  # per-iteration figures and the ratios against BP
        row["duration_s"] = record.duration_s
        rows.append(row)
    return rows


def _is_summary(value: Any) -> bool:
    if isinstance(value, dict):
        return all(_is_scalar(v) for v in value.values())
    return _is_scalar(value)


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def flatten(row: dict[str, Any]) -> dict[str, Any]:
    """One level of nesting as dotted columns: ``point.arch.clock_mhz``, ``utilization.fp_core``."""
    flat: dict[str, Any] = {}
    for key, value in row.items():
        if key == "point":
            flat.update(value)
        elif isinstance(value, dict):
            flat.update({f"{key}.{sub}": v for sub, v in value.items()})
        elif _is_scalar(value):
            flat[key] = value
    return flat


def table_columns(rows: list[dict[str, Any]]) -> tuple[list[str], list[dict[str, Any]]]:
    """Flat rows and their columns: swept values and algorithm first, then status and metrics."""
    flat = [flatten(row) for row in rows]
    point_keys: list[str] = []
    other: list[str] = []
    for row, source in zip(flat, rows, strict=True):
        for key in row:
            bucket = point_keys if key in source["point"] else other
            if key not in point_keys and key not in other:
                bucket.append(key)
    if "algorithm" in point_keys:
        point_keys.remove("algorithm")
        point_keys.append("algorithm")
    return point_keys + other, flat

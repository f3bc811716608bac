"""Axis labels with units, and SI prefixes chosen from the data.

Every quantity accelsim reports carries its unit in its name (``latency_s``, ``energy_pj``,
``clock_mhz``, ``dram_bytes``); this module turns such a name, or a sweep's dotted path, into a
label like ``Latency (ms)`` and the factor that scales the raw values to that prefix, so no axis
shows ``1e9`` offsets or a unit left to guess. CSV files keep the raw, unscaled values.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

# name (last dotted segment) -> (words, unit)
KNOWN: dict[str, tuple[str, str]] = {
    "cycles": ("Cycles", "cycles"),
    "cycles_per_iteration": ("Cycles per iteration", "cycles"),
    "energy_pj_per_iteration": ("Energy per iteration", "pJ"),
    "latency_s_per_iteration": ("Latency per iteration", "s"),
    "dram_bytes_per_iteration": ("DRAM traffic per iteration", "B"),
    "latency_s": ("Latency", "s"),
    "energy_pj": ("Energy", "pJ"),
    "dram_bytes": ("DRAM traffic", "B"),
    "duration_s": ("Simulation wall time", "s"),
    "time_s": ("Time", "s"),
    "speedup_vs_bp": ("Speedup vs BP", "×"),
    "energy_ratio_vs_bp": ("Energy vs BP", "×"),
    "clock_mhz": ("Clock", "MHz"),
    "technology_nm": ("Technology", "nm"),
    "batch_size": ("Batch size", "samples"),
    "rows": ("PE rows", "PEs"),
    "cols": ("PE columns", "PEs"),
    "lanes": ("Vector lanes", "lanes"),
    "density": ("Feedback density", "fraction"),
    "bits": ("Bits", "bit"),
    "out_channels": ("Output channels", "channels"),
    "out_features": ("Output features", "features"),
    "hidden_size": ("Hidden size", "units"),
    "kernel": ("Kernel size", "px"),
    "epochs": ("Epochs", "epochs"),
    "accuracy": ("Accuracy", "fraction"),
    "test_accuracy": ("Test accuracy", "fraction"),
    "pipeline_depth": ("Pipeline depth", "iterations"),
}

# suffix -> unit, tried in order when a name is not in KNOWN
SUFFIXES = (
    ("_bytes_per_cycle", "B/cycle"),
    ("_pj_per_byte", "pJ/B"),
    ("_pj", "pJ"),
    ("_s", "s"),
    ("_mhz", "MHz"),
    ("_kb", "KiB"),
    ("_bytes", "B"),
    ("_nm", "nm"),
    ("_v", "V"),
    ("_cycles", "cycles"),
)

# base unit -> ladder of (factor to divide by, prefixed unit)
_PREFIXES: dict[str, tuple[tuple[float, str], ...]] = {
    "s": ((1e-9, "ns"), (1e-6, "µs"), (1e-3, "ms"), (1.0, "s")),
    "pJ": ((1.0, "pJ"), (1e3, "nJ"), (1e6, "µJ"), (1e9, "mJ"), (1e12, "J")),
    "B": ((1.0, "B"), (2.0**10, "KiB"), (2.0**20, "MiB"), (2.0**30, "GiB")),
    "cycles": ((1.0, "cycles"), (1e3, "10³ cycles"), (1e6, "10⁶ cycles"), (1e9, "10⁹ cycles")),
}
# Any other unit (or none): powers of a thousand written as a multiplier, ``Count (×10⁶)``.
_GENERIC = ((1.0, ""), (1e3, "×10³"), (1e6, "×10⁶"), (1e9, "×10⁹"), (1e12, "×10¹²"))


@dataclass(frozen=True)
class Quantity:
    """How to show one quantity: ``label`` includes the unit; divide raw values by ``scale``."""

    label: str
    unit: str
    scale: float = 1.0


def describe(key: str) -> tuple[str, str]:
    """(words, base unit) for a metric name or dotted path; unit ``value`` when unknown."""
    if key == "algorithm":
        return "Algorithm", ""
    parts = key.split(".")
    last = parts[-1]
    if len(parts) >= 2 and parts[0] in ("utilization",):
        return f"{parts[1]} utilization", "fraction"
    if len(parts) >= 2 and parts[0] == "energy_breakdown_pj":
        return f"{parts[1]} energy", "pJ"
    words, unit = KNOWN.get(last, ("", ""))
    if not words:
        for suffix, suffix_unit in SUFFIXES:
            if last.endswith(suffix):
                words, unit = last[: -len(suffix)].replace("_", " ").capitalize(), suffix_unit
                break
        else:
            words, unit = last.replace("_", " ").capitalize(), "value"
    owner = _owner(parts)
    if owner and not words[:2].isupper():  # "Output channels" -> "conv1 output channels"
        words = words[0].lower() + words[1:]
    return (f"{owner} {words}" if owner else words), unit


def _owner(parts: list[str]) -> str:
    """The named entry a path goes through (``fp_core`` in ``arch.units.fp_core.rows``)."""
    for container in ("units", "layers"):
        if container in parts[:-2]:
            return parts[parts.index(container) + 1]
    if len(parts) >= 3 and parts[0] == "arch" and parts[1] in ("global_buffer", "dram"):
        return {"global_buffer": "Global buffer", "dram": "DRAM"}[parts[1]]
    return ""


def quantity(key: str, values: Iterable[float] = ()) -> Quantity:
    """The label for ``key``, with an SI prefix that keeps ``values`` between 1 and 1000.

    A key without a known unit (``describe`` says ``value``) is labelled by its words alone,
    never ``(value)``; large values of it, or of a unit without prefixes, are scaled by a power
    of a thousand that the label names (``Count (×10⁶)``, ``Clock (×10³ MHz)``).
    """
    words, unit = describe(key)
    if unit == "value":
        unit = ""
    scale, shown = 1.0, unit
    ladder = _PREFIXES.get(unit)
    finite = [abs(float(v)) for v in values if _finite(v)]
    if finite:
        peak = max(finite)
        steps = ladder or _GENERIC
        for factor, prefixed in steps:
            if peak >= factor * 0.999 or factor == steps[0][0]:
                scale = factor
                shown = prefixed if ladder else " ".join(p for p in (prefixed, unit) if p)
    if not shown:
        return Quantity(words, "", scale)
    return Quantity(f"{words} ({shown})", shown, scale)


def _finite(value: object) -> bool:
    if value is None or isinstance(value, bool):
        return False
    try:
        return math.isfinite(float(value))  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return False

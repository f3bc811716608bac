"""The sweep spec: which chip, which workload, which algorithms, and what to vary.

A spec is a small YAML file::

    arch: ../../arch_configs/dflnpu.yaml        # relative to the spec file's folder
    workload: ../../workloads/lenet_mnist.yaml
    algorithms: [bp, dfa, pdfa]
    grid:                                        # cartesian product of the lists
      arch.clock_mhz: [100, 200]
      arch.units.fp_core.rows: [8, 16, 32]
    random:                                      # seeded samples, crossed with the grid
      samples: 8
      seed: 0
      ranges:
        workload.dataset.batch_size: [1, 16, 64]              # choose from a list
        arch.global_buffer.size_kb: {low: 64, high: 1024, log: true, integer: true}

``load_spec`` reads and checks all of it (files exist, paths exist in them, values have the type
of the value they replace) and returns a frozen ``SweepSpec``; nothing has run at that point.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelsim.config.algorithms import ALGORITHMS
from accelsim.config.errors import ConfigError
from accelsim.config.fields import Section, check_int
from accelsim.config.yaml_io import load_yaml_mapping
from accelsim.study.paths import get_value, split_path

SPEC_KEYS = (
    "name",
    "description",
    "arch",
    "workload",
    "algorithms",
    "iterations",
    "grid",
    "random",
)

MAX_SAMPLES = 1_000_000  # random.samples


@dataclass(frozen=True)
class Range:
    """A continuous (or integer) interval sampled uniformly, or log-uniformly with ``log``."""

    low: float
    high: float
    log: bool = False
    integer: bool = False


@dataclass(frozen=True)
class Axis:
    """One swept dotted path: a list of values (grid or random choice) or a ``Range``."""

    path: str
    root: str  # arch | workload
    parts: tuple[str, ...]
    values: tuple[Any, ...] = ()
    range: Range | None = None


@dataclass(frozen=True)
class RandomSpec:
    samples: int
    seed: int
    axes: tuple[Axis, ...]


@dataclass(frozen=True)
class SweepSpec:
    """A validated spec; ``arch`` and ``workload`` are the raw mappings read from the files."""

    file: str
    name: str
    arch_file: Path
    workload_file: Path
    arch: dict[str, Any]
    workload: dict[str, Any]
    algorithms: tuple[str, ...]
    iterations: int | None  # None: enough for a steady state (simulate's default)
    grid: tuple[Axis, ...]
    random: RandomSpec | None

    @property
    def swept_paths(self) -> tuple[str, ...]:
        random_axes = self.random.axes if self.random else ()
        return tuple(axis.path for axis in (*self.grid, *random_axes))


def load_spec(source: str | Path) -> SweepSpec:
    """Read and validate a sweep spec file; every problem is a ConfigError naming file and key."""
    data, label = load_yaml_mapping(source)
    root = Section(data, label)
    root.reject_unknown(SPEC_KEYS)
    folder = Path(source).resolve().parent
    arch_file = _resolve_file(root, "arch", folder)
    workload_file = _resolve_file(root, "workload", folder)
    arch, _ = load_yaml_mapping(arch_file)
    workload, _ = load_yaml_mapping(workload_file)
    raw = {"arch": arch, "workload": workload}
    sources = {"arch": str(arch_file), "workload": str(workload_file)}

    algorithms = tuple(root.get_list("algorithms"))
    for index, name in enumerate(algorithms):
        if not isinstance(name, str) or name not in ALGORITHMS:
            raise ConfigError(
                label, f"algorithms[{index}]", "one of " + ", ".join(ALGORITHMS), name
            )
    if len(set(algorithms)) != len(algorithms):
        raise ConfigError(label, "algorithms", "distinct algorithm names", list(algorithms))

    grid: tuple[Axis, ...] = ()
    if "grid" in data:
        grid = _parse_grid(root, raw, sources)
    random_spec = _parse_random(root, raw, sources) if "random" in data else None
    if random_spec is not None:
        seen = {axis.path for axis in grid}
        for axis in random_spec.axes:
            if axis.path in seen:
                raise ConfigError(
                    label, f"random.ranges.{axis.path}", "a path not also swept by grid", axis.path
                )
    return SweepSpec(
        file=label,
        name=root.get_str("name", default=Path(label).stem),
        arch_file=arch_file,
        workload_file=workload_file,
        arch=arch,
        workload=workload,
        algorithms=algorithms,
        iterations=root.get_int("iterations", default=None, minimum=1),
        grid=grid,
        random=random_spec,
    )


def _resolve_file(root: Section, key: str, folder: Path) -> Path:
    written = root.get_str(key)
    path = Path(written)
    path = (path if path.is_absolute() else folder / path).resolve()
    if not path.is_file():
        where = "" if Path(written).is_absolute() else f" (relative to {folder})"
        raise ConfigError(root.file, key, f"an existing {key} file{where}", written)
    return path


def _parse_grid(root: Section, raw: dict, sources: dict) -> tuple[Axis, ...]:
    value = root.data["grid"]
    expected = "a non-empty mapping of dotted paths to lists of values"
    if not isinstance(value, dict) or not value:
        raise ConfigError(root.file, "grid", expected, value)
    axes = []
    for path, values in value.items():
        key = f"grid.{path}"
        base = _target(path, raw, sources, root.file, key)
        axes.append(_list_axis(path, values, base, root.file, key))
    return tuple(axes)


def _parse_random(root: Section, raw: dict, sources: dict) -> RandomSpec:
    section = root.get_section("random")
    section.reject_unknown(("samples", "seed", "ranges"))
    # Bounded so that a typo (an exponent too many) is an input error, not a sweep that never
    # ends; every point of a sweep is planned (and stored) individually.
    samples = section.get_int("samples", minimum=1, maximum=MAX_SAMPLES)
    seed = section.get_int("seed", default=0, minimum=0)
    ranges = section.data.get("ranges")
    expected = "a non-empty mapping of dotted paths to lists or {low, high, log, integer}"
    if not isinstance(ranges, dict) or not ranges:
        raise ConfigError(root.file, "random.ranges", expected, ranges)
    axes = []
    for path, spec in ranges.items():
        key = f"random.ranges.{path}"
        base = _target(path, raw, sources, root.file, key)
        if isinstance(spec, dict):
            axes.append(_range_axis(path, spec, base, root.file, key))
        else:
            axes.append(_list_axis(path, spec, base, root.file, key))
    return RandomSpec(samples, seed, tuple(axes))


def _target(path: Any, raw: dict, sources: dict, file: str, key: str) -> tuple[str, tuple, Any]:
    name, parts = split_path(path, file, key)
    return name, parts, get_value(raw[name], parts, file, key, sources[name])


def _list_axis(path: str, values: Any, base: tuple, file: str, key: str) -> Axis:
    name, parts, current = base
    if not isinstance(values, list) or not values:
        raise ConfigError(file, key, "a non-empty list of values", values)
    for value in values:
        _check_type(value, current, file, key)
    if len({_canonical(v) for v in values}) != len(values):
        raise ConfigError(file, key, "distinct values", values)
    return Axis(path, name, parts, values=tuple(values))


def _range_axis(path: str, spec: dict, base: tuple, file: str, key: str) -> Axis:
    name, parts, current = base
    section = Section(spec, file, key)
    section.reject_unknown(("low", "high", "log", "integer"))
    if isinstance(current, bool) or not isinstance(current, (int, float)):
        raise ConfigError(
            file, key, "a list of values (the value in the file is not a number)", spec
        )
    low = section.get_float("low")
    high = section.get_float("high")
    log = section.get_bool("log", default=False)
    integer = section.get_bool("integer", default=isinstance(current, int))
    if high <= low:
        raise section.error("high", f"a number > low ({low:g})", high)
    if log and low <= 0:
        raise section.error("low", "a number > 0 (log ranges)", low)
    if integer:
        low = float(check_int(low, file, f"{key}.low"))
        high = float(check_int(high, file, f"{key}.high"))
    return Axis(path, name, parts, range=Range(low, high, log, integer))


def _kind(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _check_type(value: Any, current: Any, file: str, key: str) -> None:
    """A swept value must have the type of the value it replaces (numbers mix freely)."""
    expected = _kind(current)
    if expected is None:
        return
    if _kind(value) != expected or (isinstance(value, float) and not math.isfinite(value)):
        raise ConfigError(file, key, f"{expected} like the value in the file ({current!r})", value)


def _canonical(value: Any) -> str:
    return canonical_json(value)


def canonical_json(value: Any) -> str:
    """A JSON text of ``value`` that cannot fail, for hashing and comparing raw YAML data.

    Mapping keys become strings (as JSON writes them) before sorting, so mixed key types sort;
    values JSON has no type for (dates, ...) are written as ``str``; a structure that contains
    itself is cut at the repeat. For plain data the text equals
    ``json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)``.
    """
    return json.dumps(_plain(value, set()), sort_keys=True, separators=(",", ":"))


def _plain(value: Any, open_ids: set[int]) -> Any:
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (dict, list, tuple)):
        if id(value) in open_ids:
            return "<recursive>"
        open_ids.add(id(value))
        try:
            if isinstance(value, dict):
                return {_plain_key(k): _plain(v, open_ids) for k, v in value.items()}
            return [_plain(v, open_ids) for v in value]
        finally:
            open_ids.discard(id(value))
    return str(value)


def _plain_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, (bool, int, float)):
        return json.dumps(key)
    return str(key)

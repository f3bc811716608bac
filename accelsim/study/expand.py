"""Turn a sweep spec into its list of points, in a stable, seed-reproducible order.

A point is one simulation: the swept values, an algorithm, and the fully resolved arch and
workload mappings they produce. Order: for each random sample (in draw order), for each grid
combination (cartesian product, first grid key varying slowest), for each algorithm (spec
order). Each point carries a hash of everything that determines its result (resolved arch,
resolved workload, algorithm, iterations, model version): the store's identity for resume.
Points that resolve to the same configuration (a random draw repeated) are kept once.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from accelsim import __version__
from accelsim.config.errors import ConfigError
from accelsim.study.paths import set_value
from accelsim.study.spec import Axis, Range, SweepSpec, canonical_json


@dataclass(frozen=True)
class Point:
    """One simulation of a sweep. ``values`` maps each swept dotted path to its value."""

    index: int
    values: tuple[tuple[str, Any], ...]
    algorithm: str
    iterations: int | None
    arch: dict[str, Any]
    workload: dict[str, Any]
    key: str  # sha256 of the resolved configuration

    def as_dict(self) -> dict[str, Any]:
        """The swept values plus ``algorithm``: the ``point`` of a stored row."""
        return {**dict(self.values), "algorithm": self.algorithm}


def model_version() -> str:
    """Part of every point's hash, so a new simulator version does not reuse old results."""
    return __version__


def config_hash(
    arch: dict[str, Any], workload: dict[str, Any], algorithm: str, iterations: int | None
) -> str:
    payload = {
        "arch": arch,
        "workload": workload,
        "algorithm": algorithm,
        "iterations": iterations,
        "model_version": model_version(),
    }
    # canonical_json never fails (keys as strings, cycles cut, other objects as str) and gives
    # the same text as json.dumps(sort_keys=True, default=str) for plain YAML data, so stores
    # written before it keep their hashes.
    return hashlib.sha256(canonical_json(payload).encode()).hexdigest()


def expand(spec: SweepSpec) -> list[Point]:
    """All points of ``spec``, deduplicated by configuration hash, in the documented order."""
    return list(iter_points(spec))


def count_points(spec: SweepSpec) -> int:
    """How many points ``expand`` gives at most (computed, nothing is built): samples x grid
    combinations x algorithms; repeated random draws make the real count smaller."""
    samples = spec.random.samples if spec.random is not None else 1
    return samples * math.prod(len(axis.values) for axis in spec.grid) * len(spec.algorithms)


def iter_points(spec: SweepSpec) -> Iterator[Point]:
    """The points of ``expand`` one at a time, built as they are asked for (``--dry-run``)."""
    grid_axes = spec.grid
    seen: set[str] = set()
    index = 0
    for sample in _random_samples(spec):
        for combo in itertools.product(*(axis.values for axis in grid_axes)):
            assignment = [*zip(grid_axes, combo, strict=True), *sample]
            arch, workload = _resolve(spec, assignment)
            values = tuple((axis.path, value) for axis, value in assignment)
            for algorithm in spec.algorithms:
                key = _point_hash(spec, values, arch, workload, algorithm)
                if key in seen:
                    continue
                seen.add(key)
                yield Point(index, values, algorithm, spec.iterations, arch, workload, key)
                index += 1


def _point_hash(spec: SweepSpec, values: tuple, arch: dict, workload: dict, algorithm: str) -> str:
    try:
        return config_hash(arch, workload, algorithm, spec.iterations)
    except (TypeError, ValueError, RecursionError) as err:  # not expected: canonical_json
        where = ", ".join(f"{k}={v}" for k, v in values) or "the unmodified files"
        raise ConfigError(
            spec.file, f"point {{{where}}}", "values that can be hashed", str(err)
        ) from None


def _random_samples(spec: SweepSpec) -> Iterator[list[tuple[Axis, Any]]]:
    if spec.random is None:
        yield []
        return
    rng = random.Random(spec.random.seed)
    for _ in range(spec.random.samples):
        yield [(axis, _draw(rng, axis)) for axis in spec.random.axes]


def _draw(rng: random.Random, axis: Axis) -> Any:
    if axis.range is None:
        return axis.values[rng.randrange(len(axis.values))]
    return draw_range(rng, axis.range)


def draw_range(rng: random.Random, r: Range) -> int | float:
    """One value of ``r``; integers are uniform over [low, high] (log-uniform with ``log``)."""
    if r.log:
        value = math.exp(rng.uniform(math.log(r.low), math.log(r.high)))
    elif r.integer:
        return rng.randint(int(r.low), int(r.high))
    else:
        value = rng.uniform(r.low, r.high)
    if r.integer:
        return min(int(r.high), max(int(r.low), round(value)))
    # Six significant digits: readable points, and immune to last-ulp differences of libm.
    return float(f"{value:.6g}")


def _resolve(spec: SweepSpec, assignment: list[tuple[Axis, Any]]) -> tuple[dict, dict]:
    arch = copy.deepcopy(spec.arch)
    workload = copy.deepcopy(spec.workload)
    targets = {"arch": arch, "workload": workload}
    for axis, value in assignment:
        set_value(targets[axis.root], axis.parts, copy.deepcopy(value))
    return arch, workload

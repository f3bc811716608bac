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
import json
import math
import random
from dataclasses import dataclass
from typing import Any

from accelsim import __version__
from accelsim.study.paths import set_value
from accelsim.study.spec import Axis, Range, SweepSpec


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
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def expand(spec: SweepSpec) -> list[Point]:
    """All points of ``spec``, deduplicated by configuration hash, in the documented order."""
    grid_axes = spec.grid
    grid_combos = list(itertools.product(*(axis.values for axis in grid_axes)))
    samples = _random_samples(spec)
    points: list[Point] = []
    seen: set[str] = set()
    for sample in samples:
        for combo in grid_combos:
            assignment = [*zip(grid_axes, combo, strict=True), *sample]
            arch, workload = _resolve(spec, assignment)
            values = tuple((axis.path, value) for axis, value in assignment)
            for algorithm in spec.algorithms:
                key = config_hash(arch, workload, algorithm, spec.iterations)
                if key in seen:
                    continue
                seen.add(key)
                points.append(
                    Point(len(points), values, algorithm, spec.iterations, arch, workload, key)
                )
    return points


def _random_samples(spec: SweepSpec) -> list[list[tuple[Axis, Any]]]:
    if spec.random is None:
        return [[]]
    rng = random.Random(spec.random.seed)
    return [
        [(axis, _draw(rng, axis)) for axis in spec.random.axes] for _ in range(spec.random.samples)
    ]


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

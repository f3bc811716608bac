"""Run a sweep: plan the points still missing from the store, execute them, store each result.

``plan_sweep`` loads the spec, expands its points, validates each point's resolved arch and
workload with the real loaders (so a bad value is exit code 2 before anything runs) and subtracts
what the store already holds. ``run_sweep`` hands the remaining points to an executor (local
processes or Dask) and commits every outcome to the store the moment it arrives, then yields it
so the caller can drive a progress bar. ``run_point`` is what a worker executes for one point.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from accelsim.config.arch import load_arch
from accelsim.config.errors import ConfigError
from accelsim.config.workload import load_workload
from accelsim.study.executor import TaskOutcome, check_main_guard
from accelsim.study.expand import Point, expand
from accelsim.study.spec import SweepSpec, canonical_json, load_spec
from accelsim.study.store import Store


class Executor(Protocol):
    def run(self, fn: Any, tasks: list[Any]) -> Iterator[TaskOutcome]: ...


@dataclass(frozen=True)
class SweepPlan:
    spec: SweepSpec
    points: tuple[Point, ...]  # every point of the spec
    todo: tuple[Point, ...]  # those still to run
    done: int  # points already in the store (skipped)
    retried: int = 0  # points of ``todo`` stored as failed by an earlier run (run again)


def run_point(task: dict[str, Any]) -> dict[str, Any]:
    """Simulate one point in a worker; returns the ``accelsim simulate --json`` dict."""
    # Imported here so that a worker imports the simulator once (forkserver preload), while the
    # parent, which only plans and stores, never pays for it.
    from accelsim.report.api import simulate_point

    return simulate_point(
        task["arch"],
        task["workload"],
        task["algorithm"],
        iterations=task["iterations"],
        arch_label=task["arch_label"],
        workload_label=task["workload_label"],
    )


def task_for(spec: SweepSpec, point: Point) -> dict[str, Any]:
    """The picklable payload of one point for ``run_point``."""
    where = describe(point)
    return {
        "arch": point.arch,
        "workload": point.workload,
        "algorithm": point.algorithm,
        "iterations": point.iterations,
        "arch_label": f"{spec.arch_file} at {where}",
        "workload_label": f"{spec.workload_file} at {where}",
    }


def describe(point: Point) -> str:
    """``point {arch.clock_mhz=100, algorithm=bp}``: how messages name a point."""
    values = ", ".join(f"{key}={value}" for key, value in point.as_dict().items())
    return "point {" + values + "}"


def validate_points(spec: SweepSpec, points: list[Point]) -> None:
    """Check every point's resolved files with the real loaders; first failure -> ConfigError.

    Each distinct resolved arch and workload is loaded once, so a grid of n arch values by m
    workload values costs n + m loads, not n * m.
    """
    for _ in validated(spec, points):
        pass


def validated(spec: SweepSpec, points: Iterable[Point]) -> Iterator[Point]:
    """``points`` one at a time, each checked by the loaders first (``validate_points``)."""
    seen: set[tuple[str, str]] = set()
    for point in points:
        for root, data, loader in (
            ("arch", point.arch, load_arch),
            ("workload", point.workload, load_workload),
        ):
            key = (root, canonical_json(data))
            if key in seen:
                continue
            source = spec.arch_file if root == "arch" else spec.workload_file
            try:
                loader(data, label=str(source))
            except ConfigError as err:
                values = {k: v for k, v in point.values if k.startswith(root + ".")}
                raise ConfigError(
                    spec.file,
                    describe_values(values),
                    f"values the {root} file accepts ({err.message})",
                ) from None
            seen.add(key)
        yield point


def describe_values(values: dict[str, Any]) -> str:
    if not values:
        return "the unmodified files"
    return "point {" + ", ".join(f"{k}={v}" for k, v in values.items()) + "}"


def load_points(spec_path: str | Path) -> tuple[SweepSpec, list[Point]]:
    """The validated spec and all its points, each checked by the loaders; nothing runs."""
    spec = load_spec(spec_path)
    points = expand(spec)
    validate_points(spec, points)
    return spec, points


def plan_sweep(
    spec: SweepSpec, points: list[Point], store: Store, retry_failed: bool = True
) -> SweepPlan:
    """Subtract the points ``store`` holds: ok points always (they never run twice), failed
    ones too with ``retry_failed=False`` (``accelsim sweep --keep-failed``); by default a rerun
    runs the failed points again."""
    stored = store.statuses()
    skip = {"ok"} if retry_failed else {"ok", "failed"}
    todo = tuple(p for p in points if stored.get(p.key) not in skip)
    retried = sum(1 for p in todo if stored.get(p.key) == "failed")
    return SweepPlan(spec, tuple(points), todo, len(points) - len(todo), retried)


def run_sweep(
    plan: SweepPlan,
    store: Store,
    executor: Executor,
    fn: Callable[[dict[str, Any]], dict[str, Any]] = run_point,
) -> Iterator[tuple[Point, TaskOutcome]]:
    """Execute ``plan.todo`` with ``fn`` (``run_point``); each outcome is committed to ``store``
    before it is yielded."""
    check_main_guard()  # before anything is written, in a worker re-running a script
    if not plan.todo:
        return
    store.start_run(plan.spec.file, plan.spec.name, len(plan.points))
    tasks = [task_for(plan.spec, point) for point in plan.todo]
    for outcome in executor.run(fn, tasks):
        point = plan.todo[outcome.index]
        store.record(
            point.key,
            point.as_dict(),
            "ok" if outcome.ok else "failed",
            result=outcome.value if outcome.ok else None,
            error=None if outcome.ok else outcome.error,
            duration_s=outcome.duration_s,
        )
        yield point, outcome

"""The Python entry points behind ``accelsim simulate`` and ``accelsim compare``.

``simulate_point`` runs one (chip, workload, algorithm) point and returns exactly the JSON
document of ``accelsim simulate --json``; ``compare_point`` returns that of ``accelsim compare
--json`` (with ``equal_area=`` a baseline chip, also BP on that chip resized to the same area,
``equal_area_baseline``). All accept file paths, already-parsed dicts (sweeps) or loaded
objects, and raise ``ConfigError`` for bad input.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from accelsim.config.algorithms import ALGORITHMS
from accelsim.config.arch import Arch, check_task_kinds, load_arch
from accelsim.config.errors import ConfigError
from accelsim.config.training import WEIGHT_DELAYS, resolve_weight_delay
from accelsim.config.workload import Workload, load_workload
from accelsim.hw.area import chip_area, equal_area_scaling
from accelsim.hw.cost import CostModel, TaskCost, cost_model, task_cost
from accelsim.hw.sparsity import ZeroFractions
from accelsim.lowering.graph import Task, TaskGraph
from accelsim.lowering.lower import lower
from accelsim.lowering.presets import settings_for
from accelsim.report.metrics import check_result, comparison, metrics, ratios_against
from accelsim.report.trace import chrome_trace
from accelsim.sim.engine import SimResult, simulate
from accelsim.sim.schedules import Schedule, schedule_for
from accelsim.sim.steady import AUTO_MAX_ITERATIONS, SteadyState, default_iterations, steady_state

ArchSource = str | Path | dict[str, Any] | Arch
WorkloadSource = str | Path | dict[str, Any] | Workload
COMPARED = ("bp", "dfa", "pdfa")


@dataclass(frozen=True)
class Run:
    """Everything one simulation produced (the CLI needs more than the JSON for --trace)."""

    arch: Arch
    graph: TaskGraph
    schedule: Schedule
    result: SimResult
    model: CostModel
    report: dict
    steady: SteadyState
    cost_of: Callable[[Task, int], TaskCost]

    def trace(self) -> dict:
        return chrome_trace(self.arch, self.graph, self.result, self.cost_of)


def _file_key(source: Any, label: str | None) -> tuple | None:
    """Cache key of a file source (path, size, mtime), so sweeps re-parse only edited files."""
    if isinstance(source, (str, Path)) and label is None:
        try:
            stat = Path(source).stat()
        except OSError:
            return None
        return (str(source), stat.st_size, stat.st_mtime_ns)
    return None


@lru_cache(maxsize=64)
def _load_arch_file(key: tuple) -> Arch:
    return load_arch(key[0])


@lru_cache(maxsize=64)
def _load_workload_file(key: tuple) -> Workload:
    return load_workload(key[0])


def resolve_arch(source: ArchSource, label: str | None = None) -> Arch:
    if isinstance(source, Arch):
        return source
    key = _file_key(source, label)
    return _load_arch_file(key) if key else load_arch(source, label)


def resolve_workload(
    source: WorkloadSource, label: str | None = None, batch_size: int | None = None
) -> Workload:
    if isinstance(source, Workload):
        workload = source
    else:
        key = _file_key(source, label)
        workload = _load_workload_file(key) if key else load_workload(source, label=label)
    if batch_size is not None:
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ConfigError(None, "--batch-size", "a positive integer", batch_size)
        workload = workload.with_batch_size(batch_size)
    return workload


def run(
    arch: ArchSource,
    workload: WorkloadSource,
    algorithm: str,
    iterations: int | None = None,
    arch_label: str | None = None,
    workload_label: str | None = None,
    *,
    batch_size: int | None = None,
    pipeline_depth: int | None = None,
    weight_delay: int | None = None,
    zero_fractions: ZeroFractions | None = None,
) -> Run:
    """Lower, cost and simulate one point. ``zero_fractions`` ({layer: {"input": z, "error":
    z}}, measured in training) set the work of tasks on units with ``zero_skipping``.

    ``iterations=None`` runs enough iterations for a steady state (one without a pipeline;
    under pdfa the warm-up plus a measurement window, doubled until the spacing of iteration
    ends settles, see ``accelsim.sim.steady``). ``weight_delay=None`` takes the workload's
    ``training.weight_delay``, else the algorithm's default (1 for pdfa)."""
    if algorithm not in ALGORITHMS:
        raise ConfigError(None, "--algorithm", "one of " + ", ".join(ALGORITHMS), algorithm)
    if iterations is not None and (
        isinstance(iterations, bool) or not isinstance(iterations, int) or iterations < 1
    ):
        raise ConfigError(None, "--iterations", "a positive integer", iterations)
    if weight_delay is not None and weight_delay not in WEIGHT_DELAYS:
        raise ConfigError(None, "--weight-delay", "0 or 1", weight_delay)
    if pipeline_depth is not None and (not isinstance(pipeline_depth, int) or pipeline_depth < 1):
        raise ConfigError(None, "--pipeline-depth", "a positive integer", pipeline_depth)
    chip = resolve_arch(arch, arch_label)
    wl = resolve_workload(workload, workload_label, batch_size)
    settings = settings_for(wl, algorithm)
    if algorithm != "sparse-dfa":
        densities = [
            u.feedback.density
            for u in chip.units
            if u.feedback is not None and {"dfa_ep", "ep"} & set(u.tasks)
        ]
        if densities and min(densities) < 1.0:
            settings = dataclasses.replace(settings, density=min(densities))
    graph = lower(wl, algorithm, settings)
    check_task_kinds(chip, (t.kind for t in graph.tasks), algorithm)
    model = cost_model(chip, graph, zero_fractions)
    memo: dict[tuple[int, int], TaskCost] = {}
    units = chip.units

    def cost_of(task: Task, unit: int) -> TaskCost:
        key = (task.index, unit)
        cost = memo.get(key)
        if cost is None:
            cost = memo[key] = task_cost(task, units[unit], model)
        return cost

    if weight_delay is None:
        weight_delay = resolve_weight_delay(wl.training, algorithm)
    schedule = schedule_for(graph, chip, pipeline_depth, weight_delay)
    if iterations is not None:
        result = simulate(graph, chip, schedule, cost_of, iterations)
        steady = steady_state(result.iteration_end, schedule.depth)
    else:
        iterations = default_iterations(schedule.depth)
        while True:
            result = simulate(graph, chip, schedule, cost_of, iterations)
            steady = steady_state(result.iteration_end, schedule.depth)
            if steady.reached or 2 * iterations > AUTO_MAX_ITERATIONS:
                break
            iterations *= 2
    report = metrics(chip, graph, schedule, result, model, cost_of, iterations, steady)
    check_result(report, f"{chip.source} with {wl.source}")
    return Run(chip, graph, schedule, result, model, report, steady, cost_of)


def simulate_point(
    arch: ArchSource,
    workload: WorkloadSource,
    algorithm: str,
    iterations: int | None = None,
    arch_label: str | None = None,
    workload_label: str | None = None,
    *,
    batch_size: int | None = None,
    pipeline_depth: int | None = None,
    weight_delay: int | None = None,
    zero_fractions: ZeroFractions | None = None,
) -> dict:
    """The ``accelsim simulate --json`` document for one point."""
    return run(
        arch,
        workload,
        algorithm,
        iterations,
        arch_label,
        workload_label,
        batch_size=batch_size,
        pipeline_depth=pipeline_depth,
        weight_delay=weight_delay,
        zero_fractions=zero_fractions,
    ).report


def compared_algorithms(workload: Workload) -> tuple[str, ...]:
    """BP, DFA and PDFA, plus the workload's own algorithm when it is a hybrid or variant."""
    own = getattr(workload.training, "algorithm", None)
    extra = (own,) if own and own not in COMPARED else ()
    return (*COMPARED, *extra)


def compare_point(
    arch: ArchSource,
    workload: WorkloadSource,
    iterations: int | None = None,
    arch_label: str | None = None,
    workload_label: str | None = None,
    *,
    algorithms: tuple[str, ...] | None = None,
    batch_size: int | None = None,
    pipeline_depth: int | None = None,
    weight_delay: int | None = None,
    equal_area: ArchSource | None = None,
) -> dict:
    """The ``accelsim compare --json`` document: each algorithm against the BP baseline.

    ``equal_area`` (a baseline chip: path, dict or ``Arch``) adds the ``equal_area`` entry of
    ``equal_area_baseline``: every algorithm against BP on the baseline resized to this chip's
    area."""
    chip = resolve_arch(arch, arch_label)
    wl = resolve_workload(workload, workload_label, batch_size)
    names = tuple(algorithms) if algorithms else compared_algorithms(wl)
    if "bp" not in names:
        names = ("bp", *names)
    results = {
        name: simulate_point(
            chip, wl, name, iterations, pipeline_depth=pipeline_depth, weight_delay=weight_delay
        )
        for name in names
    }
    doc = comparison(results)
    if equal_area is not None:
        doc["equal_area"] = equal_area_baseline(
            chip,
            wl,
            equal_area,
            results,
            iterations,
            pipeline_depth=pipeline_depth,
            weight_delay=weight_delay,
        )
    return doc


def equal_area_baseline(
    arch: ArchSource,
    workload: WorkloadSource,
    baseline: ArchSource,
    results: dict[str, dict],
    iterations: int | None = None,
    *,
    pipeline_depth: int | None = None,
    weight_delay: int | None = None,
) -> dict:
    """BP on ``baseline`` with its PE arrays resized to ``arch``'s area, and each of
    ``results`` (simulate documents of ``arch``) against it, per steady iteration.

    The resizing rule is ``accelsim.hw.area.equal_area_scaling``: one factor for every PE array
    of the baseline, integer rows and columns, the size closest in total area to ``arch``'s.
    ``speedup_vs_equal_area_bp`` = the resized baseline's BP cycles per iteration / the
    algorithm's; ``energy_ratio_vs_equal_area_bp`` = the algorithm's energy per iteration / that
    BP's."""
    chip = resolve_arch(arch)
    base = resolve_arch(baseline)
    if not any(u.kind == "pe_array" for u in base.units):
        raise ConfigError(base.source, "units", "a pe_array unit to resize to equal area", "none")
    scaled = equal_area_scaling(base, chip_area(chip).total_mm2)
    bp = simulate_point(
        scaled.arch,
        workload,
        "bp",
        iterations,
        pipeline_depth=pipeline_depth,
        weight_delay=weight_delay,
    )["steady_state"]
    speedup, energy = ratios_against(results, bp)
    return {
        "baseline": base.name,
        "baseline_area_mm2": scaled.baseline_area_mm2,
        "scaled_area_mm2": scaled.scaled_area_mm2,
        "target_area_mm2": scaled.target_area_mm2,
        "scale": scaled.scale,
        "scaled_pe_arrays": {name: {"rows": r, "cols": c} for name, r, c in scaled.pe_arrays},
        "bp_cycles_per_iteration": bp["cycles_per_iteration"],
        "bp_energy_pj_per_iteration": bp["energy_pj_per_iteration"],
        "speedup_vs_equal_area_bp": speedup,
        "energy_ratio_vs_equal_area_bp": energy,
    }

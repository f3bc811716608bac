"""Accuracy x hardware cost: how long, and how much energy, a chip needs to reach an accuracy.

For each algorithm the study (1) simulates one training iteration on the chip (steady state,
enough iterations for a steady state), (2) trains the workload with the functional
engine, recording the test accuracy after every epoch, (3) measures the zero fractions of
activations and errors of the trained network and, if the chip has zero-skipping units,
simulates again with them, and (4) converts epochs into chip time and energy:

    iterations(k)      = k * ceil(train samples / batch size)
    time(k)            = iterations(k) * latency per iteration      (steady state)
    energy(k)          = iterations(k) * energy per iteration
    epochs to target   = the first k with test accuracy(k) >= target
    time-to-accuracy   = time(epochs to target),  energy-to-accuracy likewise.

Both (1) and (2) use the same weight delay ``d`` per algorithm, ``resolve_weight_delay`` of the
workload's ``training.weight_delay`` (default 1 for pdfa, as on DF-LNPU, and 0 otherwise; the
``weight_delay`` argument overrides it for pdfa): the chip starts the next forward pass before
the current update has landed exactly when the training uses ``d`` steps of stale weights.

The default target is ``DEFAULT_FRACTION`` of the best test accuracy BP reaches in the same run
(of the best of all algorithms when BP is not studied). docs/study.md has the JSON keys.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from accelsim.config.algorithms import parse_algorithm_list
from accelsim.config.arch import Arch
from accelsim.config.errors import ConfigError
from accelsim.config.training import WEIGHT_DELAYS, TrainingSpec, resolve_weight_delay
from accelsim.config.workload import Workload
from accelsim.nn.datasets import Dataset, load_dataset
from accelsim.nn.network import Network
from accelsim.nn.train import BatchProgress, EpochStats, TrainingDiverged, fit
from accelsim.report.api import resolve_arch, resolve_workload, simulate_point
from accelsim.study.sparsity import measure_zero_fractions

DEFAULT_ALGORITHMS = ("bp", "dfa", "pdfa")
DEFAULT_FRACTION = 0.95  # of the best BP accuracy of the run
SIM_ITERATIONS = None  # simulated iterations per algorithm: None = until a steady state
SPARSITY_SAMPLES = 256  # test samples the zero fractions are measured on (as layer_stats)


@dataclass(frozen=True)
class EpochPoint:
    """One epoch of one algorithm, placed on the chip's time and energy axes."""

    epoch: int
    iterations: int  # training iterations (mini-batches) so far
    time_s: float  # simulated chip time of those iterations
    energy_pj: float
    test_accuracy: float
    train_loss: float


@dataclass(frozen=True)
class Outcome:
    """What one algorithm reached and what it cost on the chip."""

    algorithm: str
    weight_delay: int  # stale-weight steps, the same in training and in the simulation
    pipeline_depth: int  # the chip's bound on iterations in flight in the simulated schedule
    cycles_per_iteration: float  # steady state, zero skipping applied
    dense_cycles_per_iteration: float  # the same without zero skipping
    latency_s_per_iteration: float
    energy_pj_per_iteration: float
    zero_fractions: dict[str, dict[str, float]]  # layer -> {input, error}
    history: tuple[EpochPoint, ...]
    best_test_accuracy: float | None
    epochs_to_target: int | None  # None: not reached
    iterations_to_target: int | None
    time_to_accuracy_s: float | None
    energy_to_accuracy_pj: float | None
    time_vs_bp: float | None  # time-to-accuracy / BP's (< 1: faster than BP)
    energy_vs_bp: float | None
    diverged: str | None  # the divergence message when training blew up
    train_seconds: float  # host wall time of the training

    @property
    def reached(self) -> bool:
        return self.epochs_to_target is not None


@dataclass(frozen=True)
class StudyResult:
    arch: str
    workload: str
    batch_size: int
    epochs: int
    seed: int
    train_samples: int
    iterations_per_epoch: int
    target_accuracy: float
    target_rule: str  # "absolute", or e.g. "0.95 x best bp accuracy"
    zero_skipping_units: tuple[str, ...]
    outcomes: tuple[Outcome, ...]

    def outcome(self, algorithm: str) -> Outcome:
        return next(o for o in self.outcomes if o.algorithm == algorithm)

    def to_dict(self) -> dict[str, Any]:
        """The JSON document of ``accelsim study --json``."""
        doc = asdict(self)
        doc["zero_skipping_units"] = list(self.zero_skipping_units)
        doc["algorithms"] = {}
        for outcome, raw in zip(self.outcomes, doc.pop("outcomes"), strict=True):
            raw["reached"] = outcome.reached
            raw["history"] = [dict(point) for point in raw["history"]]
            doc["algorithms"][raw.pop("algorithm")] = raw
        return doc


EpochCallback = Callable[[str, EpochStats], None]
BatchCallback = Callable[[str, BatchProgress], None]


def parse_algorithms(text: str | Sequence[str] | None) -> tuple[str, ...]:
    """``"bp,dfa"`` -> ("bp", "dfa"); the defaults when absent; bad lists are a ConfigError."""
    if text is None:
        return DEFAULT_ALGORITHMS
    return parse_algorithm_list(text)


def check_target(target: float | None) -> float | None:
    if target is None:
        return None
    ok = isinstance(target, (int, float)) and not isinstance(target, bool)
    if not ok or not math.isfinite(target) or not 0.0 < target <= 1.0:
        raise ConfigError(None, "--target-accuracy", "a fraction in (0, 1]", target)
    return float(target)


def study(
    arch: str | Path | dict | Arch,
    workload: str | Path | dict | Workload,
    algorithms: Sequence[str] | str | None = None,
    target_accuracy: float | None = None,
    epochs: int | None = None,
    seed: int | None = None,
    *,
    pipeline_depth: int | None = None,
    weight_delay: int | None = None,
    data: Dataset | None = None,
    on_epoch: EpochCallback | None = None,
    on_batch: BatchCallback | None = None,
) -> StudyResult:
    """Train and simulate ``workload`` on ``arch`` with each algorithm (see the module doc).

    ``pipeline_depth`` bounds the iterations in flight in the simulated schedule (default: the
    chip's); ``weight_delay`` (0 or 1) overrides pdfa's delay (default: the workload's
    ``training.weight_delay``, else 1). Everything is validated before the first epoch: bad
    input raises ConfigError. A training that diverges is reported as not reaching the target;
    the others go on.
    """
    names = parse_algorithms(algorithms)
    target = check_target(target_accuracy)
    override = check_weight_delay(weight_delay)
    chip = resolve_arch(arch)
    wl = resolve_workload(workload)
    spec = _training_spec(wl, epochs, seed)
    wl = replace(wl, training=spec)
    skipping = tuple(u.name for u in chip.units if u.zero_skipping)
    delays = {name: study_weight_delay(spec, name, override) for name in names}

    dense = {
        name: simulate_point(
            chip,
            wl,
            name,
            SIM_ITERATIONS,
            pipeline_depth=pipeline_depth,
            weight_delay=delays[name],
        )
        for name in names
    }
    for name in names:  # fail on an algorithm the functional engine lacks, before training
        Network(wl, seed=spec.seed).plan(name)
    if data is None:
        data = load_dataset(wl.dataset, spec.seed, wl.source)
    per_epoch = math.ceil(len(data.x_train) / wl.dataset.batch_size)

    trained: dict[str, tuple[Any, str | None, float, int]] = {}
    for name in names:
        delay = delays[name]
        started = time.perf_counter()
        try:
            result = fit(
                wl,
                algorithm=name,
                data=data,
                weight_delay=delay,
                on_epoch=(lambda s, n=name: on_epoch(n, s)) if on_epoch else None,
                on_batch=(lambda b, n=name: on_batch(n, b)) if on_batch else None,
            )
            trained[name] = (result, None, time.perf_counter() - started, delay)
        except TrainingDiverged as err:
            trained[name] = (None, str(err), time.perf_counter() - started, delay)

    rule = "absolute"
    if target is None:
        target, rule = _default_target(names, trained)

    outcomes: list[Outcome] = []
    for name in names:
        result, diverged, seconds, delay = trained[name]
        fractions: dict[str, dict[str, float]] = {}
        report = dense[name]
        if result is not None:
            fractions = _zero_fractions(result, data, name)
            if skipping:
                report = simulate_point(
                    chip,
                    wl,
                    name,
                    SIM_ITERATIONS,
                    pipeline_depth=pipeline_depth,
                    weight_delay=delay,
                    zero_fractions=fractions,
                )
        outcomes.append(
            _outcome(
                name, report, dense[name], result, diverged, seconds, delay, fractions, per_epoch
            )
        )
    outcomes = _to_target(outcomes, target)
    return StudyResult(
        arch=chip.name,
        workload=wl.name,
        batch_size=wl.dataset.batch_size,
        epochs=spec.epochs,
        seed=spec.seed,
        train_samples=len(data.x_train),
        iterations_per_epoch=per_epoch,
        target_accuracy=target,
        target_rule=rule,
        zero_skipping_units=skipping,
        outcomes=tuple(outcomes),
    )


def check_weight_delay(weight_delay: int | None) -> int | None:
    """None, or a delay in WEIGHT_DELAYS (else a ConfigError naming ``--weight-delay``)."""
    if weight_delay is None:
        return None
    ok = isinstance(weight_delay, int) and not isinstance(weight_delay, bool)
    if not ok or weight_delay not in WEIGHT_DELAYS:
        raise ConfigError(None, "--weight-delay", "0 or 1", weight_delay)
    return int(weight_delay)


def study_weight_delay(training: TrainingSpec, algorithm: str, override: int | None) -> int:
    """The delay ``algorithm`` is trained and simulated with: ``override`` for pdfa when given,
    else ``resolve_weight_delay`` (the workload's ``training.weight_delay``, else the
    algorithm's default)."""
    if override is not None and algorithm == "pdfa":
        return override
    return resolve_weight_delay(training, algorithm)


def _training_spec(wl: Workload, epochs: int | None, seed: int | None) -> TrainingSpec:
    spec = wl.training or TrainingSpec()
    if epochs is not None:
        if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
            raise ConfigError(None, "--epochs", "a positive integer", epochs)
        spec = replace(spec, epochs=epochs)
    if seed is not None:
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            raise ConfigError(None, "--seed", "a non-negative integer", seed)
        spec = replace(spec, seed=seed)
    return spec


def _zero_fractions(result: Any, data: Dataset, algorithm: str) -> dict[str, dict[str, float]]:
    """The training's own per-layer statistics when it reports them, else measured here."""
    stats = getattr(result, "layer_stats", None) or {}
    keys = ("input_zero_fraction", "error_zero_fraction")
    if stats and all(all(k in s for k in keys) for s in stats.values()):
        return {
            layer: {"input": s["input_zero_fraction"], "error": s["error_zero_fraction"]}
            for layer, s in stats.items()
        }
    count = min(SPARSITY_SAMPLES, len(data.x_test))
    return measure_zero_fractions(
        result.network, data.x_test[:count], data.y_test[:count], algorithm
    )


def _default_target(names: Sequence[str], trained: dict) -> tuple[float, str]:
    def best(name: str) -> float | None:
        result = trained[name][0]
        return max(s.test_accuracy for s in result.history) if result is not None else None

    if "bp" in names and best("bp") is not None:
        return DEFAULT_FRACTION * best("bp"), f"{DEFAULT_FRACTION:g} x best bp accuracy"
    values = [b for b in (best(n) for n in names) if b is not None]
    if not values:
        return 1.0, "absolute (every training diverged)"
    return DEFAULT_FRACTION * max(values), f"{DEFAULT_FRACTION:g} x best accuracy of the run"


def _outcome(
    name, report, dense, result, diverged, seconds, delay, fractions, per_epoch
) -> Outcome:
    steady = report["steady_state"]
    latency = steady["latency_s_per_iteration"]
    energy = steady["energy_pj_per_iteration"]
    history = ()
    if result is not None:
        history = tuple(
            EpochPoint(
                epoch=s.epoch,
                iterations=s.epoch * per_epoch,
                time_s=s.epoch * per_epoch * latency,
                energy_pj=s.epoch * per_epoch * energy,
                test_accuracy=s.test_accuracy,
                train_loss=s.train_loss,
            )
            for s in result.history
        )
    return Outcome(
        algorithm=name,
        weight_delay=delay,
        pipeline_depth=report["pipeline_depth"],
        cycles_per_iteration=steady["cycles_per_iteration"],
        dense_cycles_per_iteration=dense["steady_state"]["cycles_per_iteration"],
        latency_s_per_iteration=latency,
        energy_pj_per_iteration=energy,
        zero_fractions=fractions,
        history=history,
        best_test_accuracy=max((p.test_accuracy for p in history), default=None),
        epochs_to_target=None,
        iterations_to_target=None,
        time_to_accuracy_s=None,
        energy_to_accuracy_pj=None,
        time_vs_bp=None,
        energy_vs_bp=None,
        diverged=diverged,
        train_seconds=seconds,
    )


def _to_target(outcomes: list[Outcome], target: float) -> list[Outcome]:
    done: list[Outcome] = []
    for o in outcomes:
        hit = next((p for p in o.history if p.test_accuracy >= target), None)
        if hit is not None:
            o = replace(
                o,
                epochs_to_target=hit.epoch,
                iterations_to_target=hit.iterations,
                time_to_accuracy_s=hit.time_s,
                energy_to_accuracy_pj=hit.energy_pj,
            )
        done.append(o)
    bp = next((o for o in done if o.algorithm == "bp" and o.reached), None)
    if bp is None:
        return done
    return [
        replace(
            o,
            time_vs_bp=o.time_to_accuracy_s / bp.time_to_accuracy_s,
            energy_vs_bp=o.energy_to_accuracy_pj / bp.energy_to_accuracy_pj,
        )
        if o.reached
        else o
        for o in done
    ]

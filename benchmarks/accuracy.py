"""Accuracy benchmark: train each workload with each algorithm over several seeds.

The list ``EXPERIMENTS`` is the whole benchmark (workload file, algorithm, optional overrides,
target); add rows to extend it. Every finished run is cached as one JSON file under
benchmarks/results/accuracy/, keyed by the workload file's content, the overrides and the seed,
so a killed benchmark resumes where it stopped. It prints the table of mean and min-max over
seeds; docs/results.md is written by benchmarks/results.py from the same cache.

    python benchmarks/accuracy.py                         # everything, seeds 0 1 2
    python benchmarks/accuracy.py --workloads mlp_mnist1d --algorithms bp dfa --seeds 0
    python benchmarks/accuracy.py --only lenet_mnist/dfa/epochs=20 --seeds 1 2
    python benchmarks/accuracy.py --table-only            # print the table from the cache

Kernels run with one numba thread by default (``--threads``): on a shared 2-core machine the
parallel kernels' thread start-up dominated (10x slower per step under load).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / "results" / "accuracy"


@dataclass(frozen=True)
class Target:
    """A figure to compare against: test accuracy >= ``minimum`` (a fraction; a published
    figure), or at most ``points_below_bp`` percentage points below BP's mean on the same
    workload and epochs (an aim of issue 13)."""

    minimum: float | None
    text: str
    points_below_bp: float | None = None

    def met(self, mean_percent: float, bp_mean_percent: float | None) -> bool:
        if self.points_below_bp is not None:
            return bp_mean_percent is not None and (
                mean_percent >= bp_mean_percent - self.points_below_bp
            )
        return mean_percent >= 100 * self.minimum


@dataclass(frozen=True)
class Experiment:
    workload: str  # file name under workloads/
    algorithm: str
    training: dict = field(default_factory=dict)  # overrides merged into ``training:``
    label: str = ""  # distinguishes variants of the same workload and algorithm
    target: Target | None = None

    @property
    def name(self) -> str:
        stem = Path(self.workload).stem
        return f"{stem}/{self.algorithm}" + (f"/{self.label}" if self.label else "")


EXPERIMENTS: list[Experiment] = [
    Experiment("mlp_mnist1d.yaml", "bp", target=Target(0.68, ">= 68 % (Greydanus 2020)")),
    Experiment("mlp_mnist1d.yaml", "fa"),
    Experiment("mlp_mnist1d.yaml", "dfa", target=Target(None, "within 3 points of BP", 3.0)),
    Experiment("cnn_mnist1d.yaml", "bp", target=Target(0.94, ">= 94 % (Greydanus 2020)")),
    Experiment("cnn_mnist1d.yaml", "fa"),
    Experiment("cnn_mnist1d.yaml", "dfa"),
    # the convolutional DFA feedback form (docs/algorithms.md section 3) instead of the dense one
    Experiment("cnn_mnist1d.yaml", "dfa", {"feedback": {"conv_mode": "conv"}}, "conv_mode=conv"),
    Experiment("lenet_mnist.yaml", "bp", target=Target(0.990, "error <= 1.0 % (biotorch 0.91 %)")),
    Experiment("lenet_mnist.yaml", "dfa", target=Target(0.980, "error <= 2.0 % (biotorch 1.61 %)")),
    Experiment("lenet_mnist.yaml", "fa"),
    Experiment(
        "lenet_mnist.yaml",
        "dfa",
        {"feedback": {"conv_mode": "conv"}},
        label="conv_mode=conv",
        target=Target(0.980, "error <= 2.0 % (biotorch 1.61 %)"),
    ),
    # DFA learns more slowly than BP: the same LeNet with a 3x larger learning rate, or longer
    Experiment(
        "lenet_mnist.yaml",
        "dfa",
        {"optimizer": {"type": "adam", "lr": 0.003}},
        label="lr=0.003",
        target=Target(0.980, "error <= 2.0 % (biotorch 1.61 %)"),
    ),
    Experiment(
        "lenet_mnist.yaml",
        "dfa",
        {"epochs": 20},
        label="epochs=20",
        target=Target(0.980, "error <= 2.0 % (biotorch 1.61 %)"),
    ),
    Experiment(
        "lenet_mnist.yaml",
        "dfa",
        {"epochs": 20, "feedback": {"conv_mode": "conv"}},
        label="epochs=20,conv_mode=conv",
        target=Target(0.980, "error <= 2.0 % (biotorch 1.61 %)"),
    ),
    Experiment("mlp_mnist.yaml", "bp"),
    Experiment("mlp_mnist.yaml", "fa"),
    Experiment("mlp_mnist.yaml", "dfa", target=Target(None, "within 0.5 points of BP", 0.5)),
]


def run_key(experiment: Experiment, seed: int, epochs: int | None) -> str:
    """The cache file's name: the experiment, the seed and a digest of what decides the run -
    the workload's parsed content (comments and formatting do not count), the overrides and
    the epochs."""
    import yaml

    text = (ROOT / "workloads" / experiment.workload).read_text(encoding="utf-8")
    content = json.dumps(yaml.safe_load(text), sort_keys=True)
    parts: list = [content, experiment.training, epochs]
    if experiment.algorithm == "hybrid-dfa":
        # the preset's default placement is code, not text: key the resolved BP layers, so a
        # new default (HYBRID_DEFAULT_RULE) reruns instead of reusing the old default's runs
        parts.append(list(_resolved(experiment).bp_layers))
    recipe = json.dumps(parts, sort_keys=True)
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    return f"{experiment.name.replace('/', '__')}__seed{seed}__{digest}"


def _workload(experiment: Experiment):
    """The workload file with the experiment's ``training`` overrides merged in."""
    import yaml

    from accelsim.config.workload import load_workload

    path = ROOT / "workloads" / experiment.workload
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["training"] = {**data.get("training", {}), **experiment.training}
    return load_workload(data, label=str(path.relative_to(ROOT)))


def _resolved(experiment: Experiment):
    from accelsim.lowering.presets import settings_for

    return settings_for(_workload(experiment), experiment.algorithm)


def run(experiment: Experiment, seed: int, epochs: int | None) -> dict:
    from accelsim.nn.train import fit

    workload = _workload(experiment)
    total = epochs or workload.training.epochs
    every = max(1, total // 10)

    def report(stats) -> None:
        if stats.epoch % every == 0 or stats.epoch == total:
            print(
                f"  epoch {stats.epoch}: test accuracy {100 * stats.test_accuracy:.2f} % "
                f"({stats.seconds:.0f} s)",
                flush=True,
            )

    result = fit(
        workload, algorithm=experiment.algorithm, epochs=epochs, seed=seed, on_epoch=report
    )
    return {"experiment": experiment.name, **result.to_dict()}


def cached(experiment: Experiment, seed: int, epochs: int | None) -> dict | None:
    path = CACHE / f"{run_key(experiment, seed, epochs)}.json"
    return json.loads(path.read_text()) if path.exists() else None


def finished(experiment: Experiment, seeds: list[int], epochs: int | None) -> list[dict]:
    """The cached results of the seeds that finished, in seed order."""
    return [r for r in (cached(experiment, s, epochs) for s in seeds) if r]


def table(experiments: list[Experiment], seeds: list[int], epochs: int | None) -> str:
    lines = [
        f"Seeds {', '.join(map(str, seeds))}; test accuracy after the last epoch, mean and "
        "[min, max] over the seeds that finished. Settings: the workload files' `training:` "
        "sections (epochs, optimizer, schedule). Regenerate with `python benchmarks/accuracy.py`.",
        "",
        "| workload | algorithm | runs | epochs | test accuracy % | [min, max] | test error % "
        "| s/run | target | met |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    means: dict[str, float] = {}
    for experiment in experiments:
        runs = finished(experiment, seeds, epochs)
        stem = Path(experiment.workload).stem
        if not runs:
            lines.append(
                f"| {stem} | {experiment.algorithm} | 0/{len(seeds)} | | not run | | "
                f"| | {experiment.target.text if experiment.target else ''} | |"
            )
            continue
        acc = [100 * r["test_accuracy"] for r in runs]
        mean = sum(acc) / len(acc)
        means[experiment.name] = mean
        met = ""
        if experiment.target is not None:
            ok = experiment.target.met(mean, means.get(f"{stem}/bp"))
            met = "yes" if ok else "**no**"
        seconds = sum(r["seconds"] for r in runs) / len(runs)
        lines.append(
            f"| {stem} | {experiment.algorithm}{'/' + experiment.label if experiment.label else ''}"
            f" | {len(runs)}/{len(seeds)} | {runs[0]['epochs']} | {mean:.2f} | "
            f"[{min(acc):.2f}, {max(acc):.2f}] | {100 - mean:.2f} | {seconds:.0f} | "
            f"{experiment.target.text if experiment.target else ''} | {met} |"
        )
    return "\n".join(lines)


NOTES = """
Notes:

- Settings: each workload file's `training:` section, with the algorithm's
  `training.per_algorithm` recipe where the file has one (the MLPs; docs/algorithms.md,
  "Recipes"); a `settings` entry says what a row changes. Accuracy is the test accuracy after
  the last epoch, not the best epoch. Rows with fewer epochs than the workload file are the DFA
  extension runs, cut to fit a shared 2-core machine.
- MNIST-1D MLP: with its recipe (lr 0.01, found on the validation split) BP meets the 68 %
  reference (Greydanus 2020, whose MLP has a residual second layer). DFA's best recipe
  (lr 0.003, weight decay 0.01, unit feedback scale) leaves it where it was; the gap to BP grew
  because BP's own recipe helped BP. Before the recipes (both at lr 0.003, weight decay 0.001):
  BP 64.57 %, DFA 57.70 % (git history of this file). The search (the "Recipes" table) found no
  DFA setting within 3 points of BP on validation either.
- MNIST MLP: recipes (BP lr 0.003, DFA unit feedback scale) move neither algorithm beyond
  run-to-run noise; DFA stays about 0.7 points below BP (before: BP 98.50 %, DFA 97.76 %).
- MNIST-1D CNN: the reference 94 % used 6000 Adam steps at lr 1e-2 without shuffling; 100 epochs
  (4000 steps) with a cosine schedule reach about 92 %. FA and DFA with the default dense
  feedback train the conv layers poorly; DFA with the convolutional feedback form
  (`conv_mode=conv` rows, docs/algorithms.md section 3) does much better. `hybrid-dfa`'s
  default (`conv`) is BP exactly on this network (its only FC layer is the output), hence BP's
  accuracy (the placement section below has the hybrids that are not).
- LeNet on MNIST: 5 epochs reach the BP target; DFA is still improving after 5 epochs (the
  biotorch figure is from a much longer schedule), hence the `epochs=20` and `lr=0.003` rows;
  the DFA error target is met only with 20 epochs and the convolutional feedback form.
"""


def select(
    experiments: list[Experiment],
    workloads: list[str] | None,
    algorithms: list[str] | None,
    only: list[str] | None = None,
) -> list[Experiment]:
    """The experiments matching every filter given (an empty or missing filter matches all)."""
    return [
        e
        for e in experiments
        if (not workloads or Path(e.workload).stem in workloads)
        and (not algorithms or e.algorithm in algorithms)
        and (not only or e.name in only)
    ]


def run_missing(todo: list[tuple[Experiment, int]], epochs: int | None, after_each) -> None:
    """Run each (experiment, seed) not in the cache yet, caching its result as it finishes.

    ``after_each()`` is called after every finished run (to refresh the docs table); a run that
    fails is reported on stderr and stays missing, so the next call retries it.
    """
    for experiment, seed in todo:
        if cached(experiment, seed, epochs):
            continue
        print(f"{experiment.name} seed {seed} ...", flush=True)
        started = time.perf_counter()
        try:
            result = run(experiment, seed, epochs)
        except Exception as err:  # keep going; the run stays missing and is retried next time
            print(f"  failed: {type(err).__name__}: {err}", file=sys.stderr, flush=True)
            continue
        path = CACHE / f"{run_key(experiment, seed, epochs)}.json"
        path.write_text(json.dumps(result, indent=1), encoding="utf-8")
        print(
            f"  test accuracy {100 * result['test_accuracy']:.2f} % "
            f"({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
        after_each()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", nargs="*", help="workload stems, e.g. mlp_mnist1d")
    parser.add_argument("--algorithms", nargs="*", help="e.g. bp dfa")
    parser.add_argument(
        "--only", nargs="*", help="experiment names, e.g. lenet_mnist/dfa/epochs=20"
    )
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=None, help="override every workload's")
    parser.add_argument("--threads", type=int, default=1, help="numba threads (default 1)")
    parser.add_argument("--table-only", action="store_true", help="only print the table")
    args = parser.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    experiments = select(EXPERIMENTS, args.workloads, args.algorithms, args.only)
    CACHE.mkdir(parents=True, exist_ok=True)
    # seed-major order: one run of everything first, so a partial benchmark covers all rows
    todo = [(e, s) for s in args.seeds for e in experiments]

    run_missing([] if args.table_only else todo, args.epochs, lambda: None)
    print(table(EXPERIMENTS, args.seeds, args.epochs) + "\n" + NOTES)


if __name__ == "__main__":
    main()

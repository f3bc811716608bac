"""DFA recipe search: learning rate, weight decay and feedback scale per algorithm, on a
validation split.

For each workload in ``GRIDS`` and each algorithm (bp, dfa), every combination of the grid's
settings is trained on the first 90 % of the training set and scored on the last 10 % (the
validation split; the test set is never looked at here). The best setting per algorithm (mean
validation accuracy over the seeds) is the recipe written into the workload's
``training.per_algorithm`` section; benchmarks/results.py then reports it on the test set over
three seeds. Runs are cached one JSON file each under benchmarks/results/recipes/, keyed by the
workload file, the setting and the seed, so a killed search resumes.

    python benchmarks/dfa_recipes.py                      # every grid, its seeds (SEEDS)
    python benchmarks/dfa_recipes.py --workloads mlp_mnist1d --table-only

It prints the table; benchmarks/results.py puts it into docs/results.md.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "benchmarks" / "results" / "recipes"
VALIDATION_FRACTION = 0.1


@dataclass(frozen=True)
class Grid:
    workload: str  # file under workloads/
    algorithms: tuple[str, ...]
    lr: tuple[float, ...]
    weight_decay: tuple[float, ...]
    scale: tuple[str, ...]  # feedback scale (ignored by bp)


GRIDS = (
    Grid(
        "mlp_mnist1d.yaml",
        ("bp", "dfa"),
        (0.001, 0.003, 0.01),
        (0.0, 0.001, 0.01, 0.03),
        ("fan_in", "unit"),
    ),
    Grid("mlp_mnist.yaml", ("bp", "dfa"), (0.0003, 0.001, 0.003), (0.0,), ("fan_in", "unit")),
)
# seeds per grid point: two on MNIST-1D (400 validation samples, so one seed is too noisy), one
# on MNIST (6000 validation samples; ~100 s a run on a shared 2-core machine)
SEEDS = {"mlp_mnist1d.yaml": [0, 1], "mlp_mnist.yaml": [0]}


@dataclass(frozen=True)
class Setting:
    algorithm: str
    lr: float
    weight_decay: float
    scale: str

    @property
    def label(self) -> str:
        text = f"lr={self.lr:g}, weight_decay={self.weight_decay:g}"
        return text + (f", feedback scale={self.scale}" if self.algorithm != "bp" else "")


def settings(grid: Grid) -> list[Setting]:
    out = []
    for algorithm in grid.algorithms:
        scales = ("fan_in",) if algorithm == "bp" else grid.scale
        for lr, wd, scale in itertools.product(grid.lr, grid.weight_decay, scales):
            out.append(Setting(algorithm, lr, wd, scale))
    return out


def _training(base: dict, setting: Setting) -> dict:
    optimizer = {**base.get("optimizer", {}), "lr": setting.lr}
    optimizer["weight_decay"] = setting.weight_decay
    feedback = {**base.get("feedback", {}), "scale": setting.scale}
    return {**base, "algorithm": setting.algorithm, "optimizer": optimizer, "feedback": feedback}


def run_key(workload: str, setting: Setting, seed: int) -> str:
    text = (ROOT / "workloads" / workload).read_text(encoding="utf-8")
    # the per_algorithm section is this script's output: leave it out of the key
    recipe = json.dumps([_without_recipes(text), setting.__dict__, seed, VALIDATION_FRACTION])
    digest = hashlib.sha256(recipe.encode()).hexdigest()[:10]
    return f"{Path(workload).stem}__{setting.algorithm}__seed{seed}__{digest}"


def _without_recipes(text: str) -> str:
    import yaml

    data = yaml.safe_load(text)
    data.get("training", {}).pop("per_algorithm", None)
    return json.dumps(data, sort_keys=True)


def validation_split(data):
    from accelsim.nn.datasets.base import Dataset

    count = len(data.x_train)
    cut = count - int(round(VALIDATION_FRACTION * count))
    return Dataset(
        data.name + "-validation",
        data.x_train[:cut],
        data.y_train[:cut],
        data.x_train[cut:],
        data.y_train[cut:],
        data.num_classes,
    )


def run(workload: str, setting: Setting, seed: int) -> dict:
    import yaml

    from accelsim.config.workload import load_workload
    from accelsim.nn.datasets import load_dataset
    from accelsim.nn.train import fit

    path = ROOT / "workloads" / workload
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["training"].pop("per_algorithm", None)
    data["training"] = _training(data["training"], setting)
    spec = load_workload(data, label=str(path.relative_to(ROOT)))
    split = validation_split(load_dataset(spec.dataset, seed, spec.source))
    result = fit(spec, seed=seed, data=split)
    return {"validation_accuracy": result.test_accuracy, "seconds": result.seconds}


def cached(workload: str, setting: Setting, seed: int) -> dict | None:
    path = CACHE / f"{run_key(workload, setting, seed)}.json"
    return json.loads(path.read_text()) if path.exists() else None


def best(grid: Grid, seeds: list[int]) -> dict[str, tuple[Setting, float]]:
    """Per algorithm, the setting with the highest mean validation accuracy (complete only)."""
    out: dict[str, tuple[Setting, float]] = {}
    for setting in settings(grid):
        runs = [cached(grid.workload, setting, s) for s in seeds]
        if not all(runs):
            continue
        mean = statistics.fmean(r["validation_accuracy"] for r in runs)
        if setting.algorithm not in out or mean > out[setting.algorithm][1]:
            out[setting.algorithm] = (setting, mean)
    return out


def table(grids: tuple[Grid, ...], seeds: list[int] | None = None) -> str:
    lines = [
        f"Validation accuracy (last {VALIDATION_FRACTION:.0%} of the training set, never the "
        "test set), mean over the seeds of `runs` (two on MNIST-1D, one on MNIST, whose "
        "validation split is 15x larger); **bold** = the best "
        "setting per algorithm, the recipe written into the workload's "
        "`training.per_algorithm`. Other settings as in the workload file. Regenerate with "
        "`python benchmarks/dfa_recipes.py`.",
        "",
        "| workload | algorithm | setting | validation accuracy % | runs |",
        "|---|---|---|---|---|",
    ]
    for grid in grids:
        grid_seeds = SEEDS[grid.workload] if seeds is None else seeds
        winners = best(grid, grid_seeds)
        for setting in settings(grid):
            runs = [r for r in (cached(grid.workload, setting, s) for s in grid_seeds) if r]
            if not runs:
                lines.append(
                    f"| {Path(grid.workload).stem} | {setting.algorithm} | {setting.label} "
                    f"| not run | 0/{len(grid_seeds)} |"
                )
                continue
            mean = 100 * statistics.fmean(r["validation_accuracy"] for r in runs)
            text = f"{mean:.2f}"
            if winners.get(setting.algorithm, (None,))[0] == setting:
                text = f"**{text}**"
            lines.append(
                f"| {Path(grid.workload).stem} | {setting.algorithm} | {setting.label} | "
                f"{text} | {len(runs)}/{len(grid_seeds)} |"
            )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", nargs="*", help="workload stems, e.g. mlp_mnist1d")
    parser.add_argument("--seeds", nargs="*", type=int, help="default: SEEDS of each grid")
    parser.add_argument("--threads", type=int, default=1, help="numba threads (default 1)")
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    grids = tuple(g for g in GRIDS if not args.workloads or Path(g.workload).stem in args.workloads)
    CACHE.mkdir(parents=True, exist_ok=True)
    todo = (
        []
        if args.table_only
        else [
            (g, setting, seed)
            for g in grids
            for seed in (args.seeds or SEEDS[g.workload])
            for setting in settings(g)
        ]
    )
    for grid, setting, seed in todo:
        if cached(grid.workload, setting, seed):
            continue
        started = time.perf_counter()
        try:
            result = run(grid.workload, setting, seed)
        except Exception as err:  # noqa: BLE001  the point stays missing and is retried
            print(f"{grid.workload} {setting.label} seed {seed}: failed: {err}", file=sys.stderr)
            continue
        path = CACHE / f"{run_key(grid.workload, setting, seed)}.json"
        path.write_text(json.dumps(result, indent=1), encoding="utf-8")
        print(
            f"{Path(grid.workload).stem} {setting.algorithm} {setting.label} seed {seed}: "
            f"{100 * result['validation_accuracy']:.2f} % ({time.perf_counter() - started:.0f} s)",
            flush=True,
        )
    print(table(GRIDS, args.seeds or None))


if __name__ == "__main__":
    main()

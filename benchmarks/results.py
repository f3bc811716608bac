"""docs/results.md, whole: every accuracy result of the project, generated from one command.

The rows are the experiments of benchmarks/accuracy.py (``EXPERIMENTS``: the engine's reference
results), benchmarks/accuracy_extensions.py (the DFA extensions on CNNs and RNNs, epochs cut)
and ``EXTRA`` below (the LeNet-shaped CNNs and the tuned recipes); then the recipe search
(benchmarks/dfa_recipes.py) and the hybrid placement study (benchmarks/hybrid_placement.py).
Every row is the mean ± sample standard deviation over seeds 0, 1, 2, sorted by workload, then
epochs, then algorithm. The figure docs/img/accuracy_vs_cost.png places every row on the
simulated dflnpu's training energy (epochs x iterations per epoch x energy per steady-state
iteration).

    python benchmarks/results.py            # run what is missing (cached), write docs/results.md
    python benchmarks/results.py --table-only   # only rewrite the file from the cache

A run is cached as one JSON file under benchmarks/results/accuracy/ (accuracy.py's cache), so a
killed run resumes and a rewrite needs no training.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import accuracy
import accuracy_extensions
import dfa_recipes
import hybrid_placement
from accuracy import ROOT, Experiment, finished, run_missing

RESULTS_MD = ROOT / "docs" / "results.md"
FIGURE = ROOT / "docs" / "img" / "accuracy_vs_cost.png"
SIM_CACHE = ROOT / "benchmarks" / "results" / "results_sim.json"
SEEDS = [0, 1, 2]
ORDER = ("bp", "fa", "dfa", "pdfa", "sparse-dfa", "modular-dfa", "hybrid-dfa")
PRESETS = ("bp", "fa", "dfa", "sparse-dfa", "modular-dfa", "hybrid-dfa")


# The LeNet-shaped CNNs (two conv stages, two or more FC layers) with every algorithm: on
# MNIST-1D the placement study's delay-0 runs give BP, DFA, modular DFA and the default hybrid
# (the same experiments, so the same cached runs); FA and sparse DFA are added here. cnn_mnist1d
# with the default hybrid at the workload's full 100 epochs is the acceptance point of issue 13.
def _placement_rows(workload: str) -> list[Experiment]:
    from accelsim.config.extensions import HYBRID_DEFAULT_RULE

    rows = []
    for placement in hybrid_placement.placements(workload):
        if (
            placement.family in ("bp", "dfa")
            or placement.label.startswith("modular, pairs")
            or HYBRID_DEFAULT_RULE in placement.rules
        ):
            rows.append(placement.experiment(workload, 0))
    return rows


EXTRA: list[Experiment] = [
    *_placement_rows("lenet_mnist1d.yaml"),
    Experiment("lenet_mnist1d.yaml", "fa"),
    Experiment("lenet_mnist1d.yaml", "sparse-dfa"),
    *(Experiment("lenet_mnist.yaml", a) for a in ("sparse-dfa", "modular-dfa", "hybrid-dfa")),
    Experiment("cnn_mnist1d.yaml", "hybrid-dfa"),
]


@dataclass(frozen=True)
class Row:
    experiment: Experiment
    runs: list[dict]

    @property
    def workload(self) -> str:
        return Path(self.experiment.workload).stem

    @property
    def epochs(self) -> int:
        return self.runs[0]["epochs"] if self.runs else 0

    @property
    def accuracy(self) -> list[float]:
        return [100 * r["test_accuracy"] for r in self.runs]

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracy)

    @property
    def std(self) -> float:
        return statistics.stdev(self.accuracy) if len(self.runs) > 1 else 0.0

    @property
    def sort_key(self) -> tuple:
        e = self.experiment
        return (self.workload, self.epochs, ORDER.index(e.algorithm), e.label)


def experiments() -> list[Experiment]:
    """Every row, each experiment once (the same name and overrides counted once)."""
    seen: dict[str, Experiment] = {}
    for e in (*accuracy.EXPERIMENTS, *accuracy_extensions.EXPERIMENTS, *EXTRA):
        key = json.dumps([e.workload, e.algorithm, e.training, e.label], sort_keys=True)
        seen.setdefault(key, e)
    return list(seen.values())


def _settings(e: Experiment) -> str:
    """What distinguishes the row from the workload file's own settings."""
    label = e.label.removesuffix("/delay=0")  # placement-study rows: trained on fresh weights
    parts = [label] if label and label not in ("BP", "DFA") else []
    if e.algorithm == "hybrid-dfa" and "bp_layers" not in json.dumps(e.training):
        from accelsim.config.extensions import HYBRID_DEFAULT_RULE

        bp = ", ".join(accuracy._resolved(e).bp_layers) or "none"
        parts.append(f"default: BP on `{HYBRID_DEFAULT_RULE}` = {bp}")
    return "; ".join(parts)


def accuracy_table(rows: list[Row]) -> str:
    lines = [
        "| workload | epochs | algorithm | settings | runs | test accuracy % | gap to BP | "
        "s/run | target | met |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    bp = {(r.workload, r.epochs): r.mean for r in rows if r.runs and _is_bp(r.experiment)}
    for row in sorted((r for r in rows if r.runs), key=lambda r: r.sort_key):
        e = row.experiment
        base = bp.get((row.workload, row.epochs))
        gap = f"{row.mean - base:+.2f}" if base is not None else ""
        extra = ""
        if row.workload.startswith("lstm"):
            bits = statistics.fmean(r["test_loss"] for r in row.runs) / math.log(2)
            extra = f" ({bits:.3f} bits/char)"
        target, met = "", ""
        if e.target is not None:
            target = e.target.text
            met = "yes" if e.target.met(row.mean, base) else "**no**"
        seconds = statistics.fmean(r["seconds"] for r in row.runs)
        lines.append(
            f"| {row.workload} | {row.epochs} | {e.algorithm} | {_settings(e)} | "
            f"{len(row.runs)}/{len(SEEDS)} | {row.mean:.2f} ± {row.std:.2f}{extra} | {gap} | "
            f"{seconds:.0f} | {target} | {met} |"
        )
    missing = [r.experiment.name for r in rows if not r.runs]
    if missing:
        lines += ["", "Not run yet: " + ", ".join(f"`{m}`" for m in missing) + "."]
    return "\n".join(lines)


def _is_bp(e: Experiment) -> bool:
    return e.algorithm == "bp" and not _settings(e)


def _cost(row: Row, cache: dict) -> dict | None:
    """dflnpu's time and energy to train the row: epochs x batches x per-iteration cost."""
    e = row.experiment
    key = accuracy.run_key(e, 0, None)
    if key not in cache:
        from accelsim.nn.datasets import load_dataset
        from accelsim.report.api import simulate_point

        workload = accuracy._workload(e)
        try:
            report = simulate_point(ROOT / "arch_configs" / "dflnpu.yaml", workload, e.algorithm)
        except Exception as err:  # noqa: BLE001  shown as a missing point, not a crash
            cache[key] = {"error": str(err)}
            return None
        data = load_dataset(workload.dataset, 0, workload.source)
        steady = report["steady_state"]
        cache[key] = {
            "batches_per_epoch": math.ceil(len(data.x_train) / workload.dataset.batch_size),
            "joules_per_iteration": steady["energy_pj_per_iteration"] * 1e-12,
            "seconds_per_iteration": steady["latency_s_per_iteration"],
        }
    point = cache[key]
    if "error" in point:
        return None
    iterations = point["batches_per_epoch"] * row.epochs
    return {
        "energy_j": iterations * point["joules_per_iteration"],
        "time_s": iterations * point["seconds_per_iteration"],
    }


def figure(rows: list[Row], cache: dict) -> Path:
    """Accuracy against dflnpu training energy, one panel per workload and epochs."""
    from matplotlib.ticker import FormatStrFormatter, MaxNLocator

    from accelsim.plot.output import Table, save_figure
    from accelsim.plot.style import new_figure, paper, style_for

    groups: dict[tuple[str, int], list[tuple[Row, dict]]] = {}
    for row in sorted((r for r in rows if r.runs), key=lambda r: r.sort_key):
        cost = _cost(row, cache)
        if cost is not None:
            groups.setdefault((row.workload, row.epochs), []).append((row, cost))
    names = list(ORDER)
    columns = 3
    panels = len(groups)
    table_rows = []
    with paper():
        fig = new_figure(7.0, 2.0 * math.ceil(panels / columns))
        axes_list = fig.subplots(math.ceil(panels / columns), columns, squeeze=False).ravel()
        for axes, ((workload, epochs), points) in zip(axes_list, groups.items(), strict=False):
            for algorithm in ORDER:
                mine = [(r, c) for r, c in points if r.experiment.algorithm == algorithm]
                if not mine:
                    continue
                style = style_for(algorithm, names).line()
                style.pop("linestyle")
                axes.errorbar(
                    [c["energy_j"] for _, c in mine],
                    [r.mean for r, _ in mine],
                    yerr=[r.std for r, _ in mine],
                    linestyle="none",
                    label=algorithm,
                    **style,
                )
                for r, c in mine:
                    table_rows.append(
                        {
                            "workload": workload,
                            "epochs": epochs,
                            "algorithm": algorithm,
                            "settings": _settings(r.experiment),
                            "training_energy_j": c["energy_j"],
                            "training_time_s": c["time_s"],
                            "accuracy_mean": r.mean,
                            "accuracy_std": r.std,
                        }
                    )
            # each panel spans a narrow range of energy: a linear axis with few ticks reads best
            axes.xaxis.set_major_locator(MaxNLocator(4))
            axes.xaxis.set_major_formatter(FormatStrFormatter("%.3g"))
            axes.tick_params(labelsize=6)
            axes.set_title(f"{workload}, {epochs} epochs", fontsize=7)
            axes.set_xlabel("dflnpu training energy (J)", fontsize=7)
            axes.set_ylabel("test accuracy (%)", fontsize=7)
        for axes in axes_list[panels:]:
            axes.set_visible(False)
        handles = {}
        for axes in axes_list[:panels]:
            for handle, label in zip(*axes.get_legend_handles_labels(), strict=True):
                handles.setdefault(label, handle)
        fig.legend(
            list(handles.values()),
            list(handles.keys()),
            loc="outside upper center",  # constrained layout keeps it off the panels
            ncol=len(handles),
            fontsize=7,
            frameon=False,
        )
    save_figure(fig, Table.from_dicts(table_rows), FIGURE)
    return FIGURE


HEADER = """# Accuracy results

Generated by `python benchmarks/results.py` (the whole file: do not edit by hand); it trains
only what its cache (benchmarks/results/accuracy/) lacks. Every figure is the test accuracy after
the last epoch, mean ± sample standard deviation over seeds {seeds}; `gap to BP` compares with
BP on the same workload and epochs. Runs used one numba thread each on a shared 2-core machine;
`s/run` is the mean wall time of one run. The cached runs behind this file took {hours:.1f} h of
training in all (wall time, summed over runs).
"""


def render(figures: bool = True, save: bool = True) -> str:
    """The whole of docs/results.md from the caches (no training); ``figures`` also writes the
    PNG/CSV files it links to. Simulations missing from the simulation caches are run (and
    stored with ``save``)."""
    chosen = experiments()
    rows = [Row(e, finished(e, SEEDS, None)) for e in chosen]
    cache = json.loads(SIM_CACHE.read_text()) if SIM_CACHE.exists() else {}
    if figures:
        figure(rows, cache)
    else:
        for row in rows:
            if row.runs:
                _cost(row, cache)
    if save:
        SIM_CACHE.write_text(json.dumps(cache, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    placement_cache = (
        json.loads(hybrid_placement.SIM_CACHE.read_text())
        if hybrid_placement.SIM_CACHE.exists()
        else {}
    )
    points = hybrid_placement.collect(list(hybrid_placement.WORKLOADS), SEEDS, placement_cache)
    if save:
        hybrid_placement.SIM_CACHE.write_text(
            json.dumps(placement_cache, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
    _, why = hybrid_placement.choose_default(points)
    placement_runs = [
        r
        for p in points
        for r in finished(p.placement.experiment(p.workload, p.delay), SEEDS, None)
    ]
    study_seconds = sum(r["seconds"] for r in placement_runs)
    placement_figures = hybrid_placement.figures(points, write=figures)
    counted = {json.dumps(r, sort_keys=True) for row in rows for r in row.runs}
    counted |= {json.dumps(r, sort_keys=True) for r in placement_runs}
    hours = sum(json.loads(r)["seconds"] for r in counted) / 3600
    body = [
        accuracy_table(rows),
        "",
        accuracy.NOTES.strip(),
        "",
        f"![accuracy against dflnpu training energy](img/{FIGURE.name})",
        "",
        "## Recipes: learning rate, weight decay and feedback scale per algorithm",
        "",
        dfa_recipes.table(dfa_recipes.GRIDS),
        "",
        "## Where the BP layers go: hybrid DFA placements",
        "",
        hybrid_placement.table(points, SEEDS, study_seconds),
        "",
        "Default placement of `hybrid-dfa` (`choose_default` in benchmarks/hybrid_placement.py):",
        "",
        *why,
        "",
        *(f"![{p.stem}](img/{p.name})" for p in placement_figures if p.suffix == ".png"),
    ]
    header = HEADER.format(seeds=", ".join(map(str, SEEDS)), hours=hours)
    return header + "\n" + "\n".join(body) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--table-only", action="store_true", help="no training: cache only")
    parser.add_argument("--threads", type=int, default=1, help="numba threads (default 1)")
    parser.add_argument("--workloads", nargs="*", help="train only these workload stems")
    args = parser.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    started = time.perf_counter()
    if not args.table_only:
        todo = [
            (e, s)
            for s in SEEDS
            for e in experiments()
            if not args.workloads or Path(e.workload).stem in args.workloads
        ]
        run_missing(todo, None, lambda: None)
    RESULTS_MD.write_text(render(), encoding="utf-8")
    print(f"wrote {RESULTS_MD.relative_to(ROOT)} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

"""Hybrid DFA placement study: which layers to train by BP, what accuracy that buys, and what it
costs on the chip.

For each CNN workload in ``WORKLOADS`` and each placement (``placements``: BP and DFA for
reference; ``top-k`` and ``bottom-k`` BP layers for every k that gives a new set; ``conv``, BP on
the convolutional layers and DFA on the fully connected ones; modular DFA with its module
boundaries at layer pairs and at the conv/fc boundary), the script

1. trains the workload over seeds 0 1 2 (benchmarks/accuracy.py's runner and cache) with fresh
   weights (weight delay 0) and, for DFA and the candidate default rules, also with the one-step
   weight delay a pipelined chip imposes (delay 1);
2. simulates one steady-state training iteration on ``CHIPS`` (dflnpu, bp_baseline): with delay
   0 the iterations are serialized, with delay 1 the next forward pass overlaps this iteration's
   backward work (``accelsim.sim.schedules.pipelines``);
3. prints the table (mean ± std accuracy, cycles and energy per iteration, the Pareto front of
   accuracy against dflnpu cycles); benchmarks/results.py puts it into docs/results.md with the
   figures docs/img/hybrid_placement_<workload>.png (+ .csv);
4. chooses the default placement of ``hybrid-dfa`` (``choose_default``): among the placement
   *rules* that apply to any network (``DEFAULT_CANDIDATES``), the cheapest on dflnpu (mean
   cycles per iteration relative to BP over the workloads, pipelined) whose mean accuracy gap
   to BP is at most ``GAP_POINTS``; if none is, the one with the smallest gap.

    python benchmarks/hybrid_placement.py                # everything (resumes from the cache)
    python benchmarks/hybrid_placement.py --workloads lenet_mnist1d --seeds 0
    python benchmarks/hybrid_placement.py --table-only   # print the table from the cache
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import yaml
from accuracy import CACHE, ROOT, Experiment, finished, run_missing

IMG = ROOT / "docs" / "img"
SIM_CACHE = ROOT / "benchmarks" / "results" / "placement_sim.json"
WORKLOADS = {"cnn_mnist1d.yaml": 20, "deep_cnn_mnist1d.yaml": 20, "lenet_mnist1d.yaml": 30}
CHIPS = ("dflnpu", "bp_baseline")
DELAYS = (0, 1)
GAP_POINTS = 1.0
DEFAULT_CANDIDATES = ("conv", "top-half", "bottom-half")


FAMILY_NAMES = {
    "bp": "BP",
    "dfa": "DFA",
    "top-k": "BP on top-k",
    "bottom-k": "BP on bottom-k",
    "conv": "BP on conv",
    "modular": "Modular",
}


@dataclass(frozen=True)
class Placement:
    label: str  # what the table shows, e.g. "bottom-2 (conv1, conv2)"
    family: str  # bp | dfa | top-k | bottom-k | conv | modular (the figure's colour)
    algorithm: str
    extensions: str  # JSON of training.extensions ("{}" for bp and dfa)
    rules: tuple[str, ...] = ()  # placement rules that give this set of BP layers

    @property
    def delays(self) -> tuple[int, ...]:
        """Delay 1 (pipelined) only where it decides something, for time: DFA (= PDFA) and the
        placement rules that may become the default; BP is the serialized baseline."""
        if self.family == "dfa" or set(self.rules) & set(DEFAULT_CANDIDATES):
            return DELAYS
        return (0,)

    def experiment(self, workload: str, delay: int) -> Experiment:
        training: dict = {"epochs": WORKLOADS[workload], "weight_delay": delay}
        extensions = json.loads(self.extensions)
        if extensions:
            training["extensions"] = extensions
        label = f"{self.label}/delay={delay}"
        return Experiment(workload, self.algorithm_at(delay), training, label)

    def algorithm_at(self, delay: int) -> str:
        """The algorithm name trained and simulated: DFA with the weight delay is pdfa."""
        return "pdfa" if self.algorithm == "dfa" and delay == 1 else self.algorithm


def _param_layers(workload: str) -> list:
    """The workload's parameter layers (LayerSpec records)."""
    from accelsim.config.workload import load_workload

    return list(load_workload(ROOT / "workloads" / workload).param_layers)


def placements(workload: str) -> list[Placement]:
    """Every distinct placement of the study for ``workload`` (module doc)."""
    from accelsim.config.extensions import placement

    layers = _param_layers(workload)
    count = len(layers)
    out = [Placement("BP", "bp", "bp", "{}"), Placement("DFA", "dfa", "dfa", "{}")]
    by_set: dict[tuple[str, ...], list[str]] = {}
    # k up to 3 and half the layers: enough to see the trend on the deep CNN at a third of the
    # training time of every k
    ks = sorted({1, 2, 3, math.ceil(count / 2)})
    rules = [f"top-{k}" for k in ks if k > 1] + [f"bottom-{k}" for k in ks]
    rules += ["conv", "top-half", "bottom-half"]
    hidden = {x.name for x in layers[:-1]}  # the output layer takes e in every algorithm
    for rule in rules:
        chosen = placement(rule, layers)
        if not hidden & set(chosen) or hidden <= set(chosen):
            continue  # plain DFA or BP exactly: the reference rows
        by_set.setdefault(chosen, []).append(rule)
    for chosen, names in by_set.items():
        family = "conv" if names[0] == "conv" else names[0].rsplit("-", 1)[0] + "-k"
        label = " = ".join(names) + f" ({', '.join(chosen)})"
        extensions = json.dumps({"bp_layers": list(chosen)})
        out.append(Placement(label, family, "hybrid-dfa", extensions, tuple(names)))
    out.append(Placement("modular, pairs from the top", "modular", "modular-dfa", "{}"))
    conv = [x.name for x in layers if x.kind == "conv"]
    rest = [x.name for x in layers if x.kind != "conv"]
    if conv and len(rest) > 1:
        modules = json.dumps({"modules": [conv, rest]})
        out.append(Placement("modular, conv | fc", "modular", "modular-dfa", modules))
    return out


def _sim_key(workload: str, placement: Placement, chip: str, delay: int) -> str:
    text = (ROOT / "workloads" / workload).read_text(encoding="utf-8")
    arch = (ROOT / "arch_configs" / f"{chip}.yaml").read_text(encoding="utf-8")
    digest = hashlib.sha256((text + arch).encode()).hexdigest()[:10]
    return f"{workload}|{placement.algorithm}|{placement.extensions}|{chip}|{delay}|{digest}"


def simulate(workload: str, placement: Placement, chip: str, delay: int, cache: dict) -> dict:
    """Steady-state cycles and energy per iteration of one placement (cached by inputs)."""
    key = _sim_key(workload, placement, chip, delay)
    if key not in cache:
        from accelsim.report.api import simulate_point

        data = yaml.safe_load((ROOT / "workloads" / workload).read_text(encoding="utf-8"))
        extensions = json.loads(placement.extensions)
        if extensions:
            data["training"]["extensions"] = extensions
        report = simulate_point(
            ROOT / "arch_configs" / f"{chip}.yaml",
            data,
            placement.algorithm_at(delay),
            weight_delay=delay,
            workload_label=f"workloads/{workload}",
        )
        steady = report["steady_state"]
        cache[key] = {
            "cycles": steady["cycles_per_iteration"],
            "energy_pj": steady["energy_pj_per_iteration"],
            "pipelined": report["pipeline_depth"] > 1,
        }
    return cache[key]


@dataclass(frozen=True)
class Point:
    workload: str
    placement: Placement
    delay: int
    accuracy: list[float]  # percent, one per finished seed
    cost: dict[str, dict]  # chip -> simulate()

    @property
    def mean(self) -> float:
        return statistics.fmean(self.accuracy) if self.accuracy else math.nan

    @property
    def std(self) -> float:
        return statistics.stdev(self.accuracy) if len(self.accuracy) > 1 else 0.0


def collect(workloads: list[str], seeds: list[int], sim_cache: dict) -> list[Point]:
    points = []
    for workload in workloads:
        for placement in placements(workload):
            for delay in placement.delays:
                runs = finished(placement.experiment(workload, delay), seeds, None)
                cost = {c: simulate(workload, placement, c, delay, sim_cache) for c in CHIPS}
                accuracy = [100 * r["test_accuracy"] for r in runs]
                points.append(Point(workload, placement, delay, accuracy, cost))
    return points


def choose_default(points: list[Point]) -> tuple[str, list[str]]:
    """The default placement rule of hybrid-dfa and the lines that explain the choice.

    Each candidate rule is scored per weight delay (0: serialized, 1: pipelined) by its mean
    accuracy gap to BP and its mean dflnpu cycles per iteration relative to BP's, over the
    workloads; a rule that gives BP's own layer set on a workload scores BP there. Among the
    (rule, delay) variants within ``GAP_POINTS`` of BP the cheapest wins; if none is, the
    variant with the smallest gap."""
    lines = []
    scores: dict[tuple[str, int], tuple[float, float]] = {}
    workloads = sorted({p.workload for p in points})
    for rule in DEFAULT_CANDIDATES:
        for delay in DELAYS:
            gaps, ratios = [], []
            for workload in workloads:
                bp = _find(points, workload, lambda p: p.placement.family == "bp", 0)
                mine = _find(points, workload, lambda p, r=rule: r in p.placement.rules, delay)
                mine = bp if mine is None else mine  # the rule is BP on this workload
                if bp is None or not bp.accuracy or not mine.accuracy:
                    break
                gaps.append(mine.mean - bp.mean)
                ratios.append(mine.cost["dflnpu"]["cycles"] / bp.cost["dflnpu"]["cycles"])
            else:
                gap, ratio = statistics.fmean(gaps), statistics.fmean(ratios)
                scores[rule, delay] = (gap, ratio)
                lines.append(
                    f"- `{rule}`, delay {delay}: mean accuracy gap to BP {gap:+.2f} points, mean "
                    f"dflnpu cycles per iteration {ratio:.3f}x BP's"
                )
    if not scores:
        return "", ["- not enough finished runs to choose"]
    within = [v for v, (gap, _) in scores.items() if gap >= -GAP_POINTS]
    if within:
        choice = min(within, key=lambda v: scores[v][1])
        why = f"the cheapest variant within {GAP_POINTS:g} point of BP"
    else:
        choice = max(scores, key=lambda v: scores[v][0])
        why = f"no variant is within {GAP_POINTS:g} point of BP; the one with the smallest gap"
    lines.append(f"- chosen: **`{choice[0]}`** (with delay {choice[1]}: {why})")
    return choice[0], lines


def _find(points, workload, predicate, delay) -> Point | None:
    for point in points:
        if point.workload == workload and point.delay == delay and predicate(point):
            return point
    return None


def table(points: list[Point], seeds: list[int], seconds: float) -> str:
    from accelsim.plot.pareto import pareto_front

    lines = [
        f"Test accuracy after the last epoch, mean ± std over seeds {', '.join(map(str, seeds))} "
        f"(epochs: {', '.join(f'{Path(w).stem} {e}' for w, e in WORKLOADS.items())}); cycles and "
        "energy per steady-state training iteration from the simulator. Delay 0: trained on "
        "fresh weights, iterations serialized on the chip; delay 1: trained with one step of "
        "weight delay, the next forward pass overlapping the backward work (pipelined; "
        "bp_baseline keeps one set of activations per layer too, so it pipelines as well). "
        "`front`: on the Pareto front of accuracy against dflnpu cycles, per workload. "
        f"Regenerate with `python benchmarks/hybrid_placement.py` "
        f"(this table: {seconds / 60:.0f} min of training on this machine, from the cache).",
        "",
        "| workload | placement | delay | runs | accuracy % | dflnpu Mcycles/it | dflnpu µJ/it "
        "| bp_baseline Mcycles/it | bp_baseline µJ/it | front |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for workload in dict.fromkeys(p.workload for p in points):
        mine = [p for p in points if p.workload == workload]
        done = [p for p in mine if p.accuracy]
        front = {
            id(done[i])
            for i in pareto_front(
                [(p.cost["dflnpu"]["cycles"], p.mean) for p in done], maximize_y=True
            )
        }
        ranked = sorted(
            mine, key=lambda p: (p.placement.family != "bp", -p.mean if p.accuracy else 0)
        )
        for p in ranked:
            d, b = p.cost["dflnpu"], p.cost["bp_baseline"]
            acc = f"{p.mean:.2f} ± {p.std:.2f}" if p.accuracy else "not run"
            lines.append(
                f"| {Path(workload).stem} | {p.placement.label.replace('|', '/')} | {p.delay} | "
                f"{len(p.accuracy)}/{len(seeds)} | {acc} | {d['cycles'] / 1e6:.3f} | "
                f"{d['energy_pj'] / 1e6:.1f} | {b['cycles'] / 1e6:.3f} | "
                f"{b['energy_pj'] / 1e6:.1f} | {'yes' if id(p) in front else ''} |"
            )
    return "\n".join(lines)


def figure_path(workload: str) -> Path:
    return IMG / f"hybrid_placement_{Path(workload).stem}.png"


def figures(points: list[Point], write: bool = True) -> list[Path]:
    """The Pareto figure of each workload with finished runs (written unless ``write`` is
    false); returns the PNG paths."""
    from accelsim.plot.output import save_figure
    from accelsim.plot.pareto import pareto_figure

    written = []
    for workload in dict.fromkeys(p.workload for p in points):
        rows = [
            {
                "placement": f"{p.placement.label} d{p.delay}",
                # capitalised: not algorithm names, so every family gets its own style
                "family": FAMILY_NAMES[p.placement.family] + (", pipelined" if p.delay else ""),
                "cycles_per_iteration": p.cost["dflnpu"]["cycles"],
                "test_accuracy_percent": p.mean,
            }
            for p in points
            if p.workload == workload and p.accuracy
        ]
        if not rows:
            continue
        if not write:
            written.append(figure_path(workload))
            continue
        figure, data = pareto_figure(
            rows,
            ("placement", "family"),
            y="test_accuracy_percent",
            hue="family",
            maximize_y=True,
        )
        axes = figure.axes[0]
        axes.set_title(f"{Path(workload).stem} on dflnpu", fontsize=8)
        handles, labels = axes.get_legend_handles_labels()
        axes.get_legend().remove()  # outside the data: the points fill the whole axes
        figure.set_size_inches(6.0, 2.8)
        figure.legend(handles, labels, loc="outside right upper", fontsize=6, frameon=False)
        written += save_figure(figure, data, figure_path(workload))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", nargs="*", help="workload stems, e.g. lenet_mnist1d")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="numba threads (default 1)")
    parser.add_argument("--table-only", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    chosen = [w for w in WORKLOADS if not args.workloads or Path(w).stem in args.workloads]
    CACHE.mkdir(parents=True, exist_ok=True)
    todo = []
    if not args.table_only:
        for seed in args.seeds:
            for workload in chosen:
                for placement in placements(workload):
                    for delay in placement.delays:
                        todo.append((placement.experiment(workload, delay), seed))
    started = time.perf_counter()
    run_missing(todo, None, lambda: None)
    sim_cache = json.loads(SIM_CACHE.read_text()) if SIM_CACHE.exists() else {}
    points = collect(list(WORKLOADS), args.seeds, sim_cache)
    SIM_CACHE.write_text(json.dumps(sim_cache, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    seconds = sum(
        r["seconds"]
        for w in WORKLOADS
        for p in placements(w)
        for d in p.delays
        for r in finished(p.experiment(w, d), args.seeds, None)
    )
    choice, why = choose_default(points)
    text = table(points, args.seeds, seconds) + "\n\nDefault placement of `hybrid-dfa`:\n\n"
    text += "\n".join(why)
    print(text)
    print(f"({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()

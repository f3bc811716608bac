"""Accuracy of the DFA extensions (Han et al. 2020) on the CNN and RNN workloads.

For each workload: BP, FA, DFA, sparse DFA at densities 1, 0.1 and 0.01, sparse DFA with a
grouped conv feedback (CNNs), modular DFA and hybrid DFA, each over seeds 0 1 2, with epochs
cut to fit a shared 2-core machine (``EPOCHS``). Runs are cached like benchmarks/accuracy.py
(same cache folder and keys), so a killed run resumes. The table (mean, [min, max], gap to BP,
bits per character for the language model) is printed; docs/results.md is written by
benchmarks/results.py from the same cache.

    python benchmarks/accuracy_extensions.py                       # everything
    python benchmarks/accuracy_extensions.py --workloads gru_mnist1d --seeds 0
    python benchmarks/accuracy_extensions.py --table-only
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import accuracy  # noqa: E402  (H2's benchmark: Experiment, run, cache)
from accuracy import CACHE, Experiment, finished, run_missing, select  # noqa: E402

EPOCHS = {
    "cnn_mnist1d.yaml": 20,
    "deep_cnn_mnist1d.yaml": 20,
    "gru_mnist1d.yaml": 15,
    "gru2_mnist1d.yaml": 15,
    "lstm_shakespeare.yaml": 3,
}
# conv feedback groups per CNN: a divisor of every conv layer's channels (25 and 16/32)
CNN_GROUPS = {"cnn_mnist1d.yaml": 5, "deep_cnn_mnist1d.yaml": 2}


def _rows(workload: str) -> list[Experiment]:
    epochs = {"epochs": EPOCHS[workload]}

    def ext(algorithm: str, label: str = "", **extensions) -> Experiment:
        training = {**epochs, **({"extensions": extensions} if extensions else {})}
        return Experiment(workload, algorithm, training, label)

    rows = [ext("bp"), ext("fa"), ext("dfa")]
    rows += [ext("sparse-dfa", f"density={d:g}", density=d) for d in (1.0, 0.1, 0.01)]
    if workload in CNN_GROUPS:
        groups = CNN_GROUPS[workload]
        rows.append(ext("sparse-dfa", f"density=0.1,groups={groups}", density=0.1, groups=groups))
    rows += [ext("modular-dfa"), ext("hybrid-dfa")]
    return rows


EXPERIMENTS: list[Experiment] = [row for w in EPOCHS for row in _rows(w)]


def table(experiments: list[Experiment], seeds: list[int]) -> str:
    lines = [
        f"Seeds {', '.join(map(str, seeds))}; test accuracy after the last epoch (epochs cut "
        "for a shared 2-core machine: "
        + ", ".join(f"{Path(w).stem} {e}" for w, e in EPOCHS.items())
        + "), mean and [min, max] over the seeds that finished; gap = mean - BP's mean in "
        "points. lstm_shakespeare: accuracy = next-character accuracy, bpc = test loss / ln 2. "
        "Presets at their defaults (docs/dfa-extensions.md) unless the label says otherwise. "
        "Regenerate with `python benchmarks/accuracy_extensions.py`.",
        "",
        "| workload | algorithm | runs | test accuracy % | [min, max] | gap to BP | bpc | s/run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    bp: dict[str, float] = {}
    for experiment in experiments:
        runs = finished(experiment, seeds, None)
        stem = Path(experiment.workload).stem
        name = experiment.algorithm + (f" ({experiment.label})" if experiment.label else "")
        if not runs:
            lines.append(f"| {stem} | {name} | 0/{len(seeds)} | not run | | | | |")
            continue
        acc = [100 * r["test_accuracy"] for r in runs]
        mean = sum(acc) / len(acc)
        if experiment.algorithm == "bp":
            bp[stem] = mean
        gap = f"{mean - bp[stem]:+.2f}" if stem in bp else ""
        bpc = ""
        if stem.startswith("lstm"):
            bpc = f"{sum(r['test_loss'] for r in runs) / len(runs) / math.log(2):.3f}"
        seconds = sum(r["seconds"] for r in runs) / len(runs)
        lines.append(
            f"| {stem} | {name} | {len(runs)}/{len(seeds)} | {mean:.2f} | "
            f"[{min(acc):.2f}, {max(acc):.2f}] | {gap} | {bpc} | {seconds:.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workloads", nargs="*", help="workload stems, e.g. gru_mnist1d")
    parser.add_argument("--algorithms", nargs="*", help="e.g. bp hybrid-dfa")
    parser.add_argument("--seeds", nargs="*", type=int, default=[0, 1, 2])
    parser.add_argument("--threads", type=int, default=1, help="numba threads (default 1)")
    parser.add_argument("--table-only", action="store_true", help="only print the table")
    args = parser.parse_args()
    os.environ.setdefault("NUMBA_NUM_THREADS", str(args.threads))
    chosen = select(EXPERIMENTS, args.workloads, args.algorithms)
    CACHE.mkdir(parents=True, exist_ok=True)

    todo = [] if args.table_only else [(e, s) for s in args.seeds for e in chosen]
    run_missing(todo, None, lambda: None)
    print(table(EXPERIMENTS, args.seeds))


__all__ = ["EXPERIMENTS", "accuracy", "table"]

if __name__ == "__main__":
    main()

"""``accelsim study``: train with each algorithm, simulate it, report time/energy to accuracy.

The computation lives in ``accelsim.study.tradeoff``; this module parses options, drives a tqdm
bar on stderr (algorithms x epochs) and renders a table, JSON, or the figure with its CSV.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from accelsim.cli.options import weight_delay_option
from accelsim.cli.simulate import _joules, _seconds

EPILOG = """\b
Examples:
  accelsim study arch_configs/dflnpu.yaml examples/study/mlp_digits.yaml
  accelsim study examples/study/dflnpu_zero_skip.yaml examples/study/mlp_digits.yaml \\
      --algorithms bp,dfa,pdfa --target-accuracy 0.9 --epochs 6 -o out/study.png
  accelsim study arch_configs/dflnpu.yaml workloads/mlp_mnist1d.yaml --epochs 20 --json
  accelsim study arch_configs/dflnpu.yaml examples/study/mlp_digits.yaml \\
      --algorithms dfa,pdfa --weight-delay 0 --epochs 2

The default target is 0.95 x the best test accuracy BP reaches in the run.
Exit codes: 0 done (a target not reached is a result, not an error); 2 bad input.
"""


@click.command(epilog=EPILOG)
@click.argument("arch", type=click.Path(path_type=Path))
@click.argument("workload", type=click.Path(path_type=Path))
@click.option(
    "--algorithms",
    default="bp,dfa,pdfa",
    show_default=True,
    help="Comma-separated algorithms to train and simulate.",
)
@click.option(
    "--target-accuracy",
    "target",
    type=float,
    default=None,
    help="Test accuracy to reach, a fraction in (0, 1]; default 0.95 x the best BP accuracy.",
)
@click.option(
    "--epochs",
    "-e",
    type=click.IntRange(min=1),
    default=None,
    help="Epochs per algorithm; default: the workload's training.epochs.",
)
@click.option(
    "--seed",
    "-s",
    type=click.IntRange(min=0),
    default=None,
    help="Seed of weights, feedback and shuffling; default: training.seed.",
)
@click.option(
    "--pipeline-depth",
    type=click.IntRange(min=1),
    default=None,
    help="Bound on iterations in flight in the simulated pdfa schedule (default: the chip's "
    "pipeline_depth); it does not set the training delay (see --weight-delay).",
)
@weight_delay_option(
    "pdfa's weight delay, the same in training and simulation: 1 = the next forward "
    "pass uses weights not yet updated by the current iteration (default: the workload's "
    "training.weight_delay, else 1). Applies to pdfa only."
)
@click.option("--json", "as_json", is_flag=True, help="Print the result document as JSON.")
@click.option(
    "-o",
    "--output",
    "figure",
    default=None,
    metavar="FIGURE",
    help="Also write the accuracy vs time/energy figure (.png, .pdf or .svg; <stem>.csv holds "
    "its data).",
)
def study(
    arch, workload, algorithms, target, epochs, seed, pipeline_depth, weight_delay, as_json, figure
):
    """Accuracy x hardware cost: train WORKLOAD with each algorithm, simulate its training
    iterations on the chip ARCH, and report the time and energy each needs to reach a target
    test accuracy."""
    from accelsim.report.api import resolve_workload
    from accelsim.study.tradeoff import check_target, parse_algorithms
    from accelsim.study.tradeoff import study as run_study

    names = parse_algorithms(algorithms)
    check_target(target)
    wl = resolve_workload(workload)
    total = len(names) * (epochs or getattr(wl.training, "epochs", 1))
    bar = _Bar(total)
    try:
        result = run_study(
            arch,
            wl,
            names,
            target,
            epochs,
            seed,
            pipeline_depth=pipeline_depth,
            weight_delay=weight_delay,
            on_epoch=bar.epoch,
            on_batch=bar.batch,
        )
    finally:
        bar.close()
    doc = result.to_dict()
    written = []
    if figure is not None:
        from accelsim.plot.output import save_figure
        from accelsim.plot.study import study_figure

        written = save_figure(*study_figure(doc), figure)
    if as_json:
        click.echo(json.dumps(doc, indent=2))
    else:
        click.echo(render_study(doc))
    for path in written:
        click.echo(f"wrote {path}", err=as_json)


class _Bar:
    """One tqdm bar on stderr over algorithms x epochs; shown only on a terminal."""

    def __init__(self, total: int) -> None:
        from tqdm import tqdm

        self.bar = tqdm(total=total, unit="epoch", file=sys.stderr, disable=None, leave=False)

    def batch(self, algorithm: str, progress) -> None:
        self.bar.set_description(algorithm, refresh=False)
        self.bar.set_postfix_str(f"batch {progress.batch}/{progress.num_batches}", refresh=False)

    def epoch(self, algorithm: str, stats) -> None:
        self.bar.set_postfix_str(f"test acc {100 * stats.test_accuracy:.1f} %", refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


def render_study(doc: dict) -> str:
    lines = [
        f"{doc['workload']} on {doc['arch']}: batch {doc['batch_size']}, "
        f"{doc['iterations_per_epoch']} iterations/epoch, {doc['epochs']} epochs, "
        f"seed {doc['seed']}",
        f"target test accuracy {100 * doc['target_accuracy']:.2f} % ({doc['target_rule']})",
    ]
    if doc["zero_skipping_units"]:
        lines.append("zero skipping on " + ", ".join(doc["zero_skipping_units"]))
    header = (
        "algorithm",
        "delay",
        "best acc",
        "epochs",
        "iterations",
        "cycles/iter",
        "latency/iter",
        "energy/iter",
        "time to acc",
        "energy to acc",
        "time vs bp",
        "energy vs bp",
    )
    rows = []
    for name, o in doc["algorithms"].items():
        best = "diverged" if o["diverged"] else f"{100 * o['best_test_accuracy']:.2f} %"
        reached = o["reached"]
        miss = "not reached"
        rows.append(
            (
                name,
                str(o["weight_delay"]),
                best,
                str(o["epochs_to_target"]) if reached else miss,
                f"{o['iterations_to_target']:,}" if reached else "-",
                f"{o['cycles_per_iteration']:,.0f}",
                _seconds(o["latency_s_per_iteration"]),
                _joules(o["energy_pj_per_iteration"]),
                _seconds(o["time_to_accuracy_s"]) if reached else "-",
                _joules(o["energy_to_accuracy_pj"]) if reached else "-",
                f"{o['time_vs_bp']:.2f}x" if o["time_vs_bp"] is not None else "-",
                f"{o['energy_vs_bp']:.2f}x" if o["energy_vs_bp"] is not None else "-",
            )
        )
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines.append("")
    lines.append(
        "  ".join(
            h.ljust(w) if i == 0 else h.rjust(w)
            for i, (h, w) in enumerate(zip(header, widths, strict=True))
        )
    )
    for row in rows:
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    return "\n".join(lines)

"""``accelsim train``: train a workload and render its progress, a table, or JSON."""

from __future__ import annotations

import json
import sys

import click

from accelsim.cli.options import weight_delay_option
from accelsim.config.algorithms import ALGORITHMS

EPILOG = """\b
Examples:
  accelsim train workloads/mlp_mnist1d.yaml
  accelsim train workloads/cnn_mnist1d.yaml --algorithm dfa --epochs 20 --seed 1
  accelsim train workloads/lenet_mnist.yaml --algorithm fa --json > lenet_fa.json
  accelsim train workloads/mlp_mnist1d.yaml --algorithm pdfa --weight-delay 0 --epochs 2

Exit codes: 0 trained; 2 bad input (one line on stderr naming file and key);
1 training diverged (NaN or infinite loss).
"""


@click.command(epilog=EPILOG)
@click.argument("workload", metavar="WORKLOAD")
@click.option(
    "--algorithm",
    "-a",
    type=click.Choice(ALGORITHMS),
    default=None,
    help="Training algorithm; default: the workload's training.algorithm.",
)
@click.option(
    "--epochs",
    "-e",
    type=click.IntRange(min=1),
    default=None,
    help="Number of epochs; default: the workload's training.epochs.",
)
@click.option(
    "--seed",
    "-s",
    type=click.IntRange(min=0),
    default=None,
    help="Seed of weights, feedback matrices and shuffling; default: training.seed.",
)
@weight_delay_option(
    "Optimizer steps between the weights a gradient is computed with and the weights it "
    "updates (1: the next forward pass does not wait for the current update, as pdfa on "
    "DF-LNPU); default: training.weight_delay, else 1 for pdfa and 0 otherwise."
)
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print only the result as JSON on stdout (no progress, no table).",
)
def train(
    workload: str,
    algorithm: str | None,
    epochs: int | None,
    seed: int | None,
    weight_delay: int | None,
    as_json: bool,
) -> None:
    """Train WORKLOAD (a workload YAML file) and report loss and accuracy per epoch."""
    from accelsim.config.workload import load_workload
    from accelsim.nn.train import TrainingDiverged, fit
    from accelsim.nn.train.loop import training_settings

    spec = load_workload(workload)
    settings = training_settings(spec, algorithm, epochs, seed, weight_delay)
    delay = (settings.weight_delay, _delay_source(spec, settings.algorithm, weight_delay))
    bars = None if as_json or not sys.stderr.isatty() else _Bars(settings.epochs)
    try:
        result = fit(
            spec,
            algorithm=algorithm,
            epochs=epochs,
            seed=seed,
            weight_delay=weight_delay,
            on_epoch=bars.epoch if bars else None,
            on_batch=bars.batch if bars else None,
        )
    except TrainingDiverged as err:
        if bars:
            bars.close()
        click.echo(f"accelsim: error: {err}", err=True)
        sys.exit(1)
    if bars:
        bars.close()
    if as_json:
        doc = result.to_dict()
        doc["weight_delay"] = delay[0]  # what fit used: the option, the workload's, the default
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(_table(result, delay))
    routes = _routes(spec, result.algorithm)
    if routes:
        click.echo(routes)


def _routes(spec, algorithm: str) -> str:
    """Where each layer's error came from, for the presets whose defaults decide it (which
    layers a hybrid trains by BP is the first thing its reader asks)."""
    from accelsim.config.extensions import HYBRID_DEFAULT_RULE, PRESETS
    from accelsim.lowering.presets import routes, settings_for

    if algorithm not in PRESETS:
        return ""
    settings = settings_for(spec, algorithm)
    names = [layer.name for layer in spec.trainable_layers]
    parts = []
    for name, (route, source) in zip(names, routes(names, algorithm, settings), strict=True):
        origin = "e" if source == names[-1] else f"{source}'s error"
        parts.append(f"{name} {route}" + (f" from {origin}" if route == "dfa" else ""))
    note = ""
    explicit = spec.training is not None and spec.training.extensions.bp_layers is not None
    if algorithm == "hybrid-dfa" and not explicit:
        note = f" [default bp_layers: {HYBRID_DEFAULT_RULE}]"
    return "error routes: " + ", ".join(parts) + note


def _delay_source(spec, algorithm: str, option: int | None) -> str:
    """Where the weight delay came from, for the summary line."""
    if option is not None:
        return "--weight-delay"
    if spec.training is not None and spec.training.weight_delay is not None:
        return "training.weight_delay"
    return f"{algorithm} default"


class _Bars:
    """Two tqdm bars on stderr: epochs (outer) and batches of the current epoch (inner)."""

    def __init__(self, epochs: int) -> None:
        from tqdm import tqdm

        self._tqdm = tqdm
        self.outer = tqdm(total=epochs, desc="training", unit="epoch", position=0, file=sys.stderr)
        self.inner = None

    def batch(self, progress) -> None:
        if self.inner is None:
            self.inner = self._tqdm(
                total=progress.num_batches,
                desc=f"epoch {progress.epoch}",
                unit="batch",
                leave=False,
                position=1,
                file=sys.stderr,
            )
        self.inner.update(1)
        self.inner.set_postfix(loss=f"{progress.loss:.4f}", refresh=False)

    def epoch(self, stats) -> None:
        if self.inner is not None:
            self.inner.close()
            self.inner = None
        self.outer.update(1)
        self.outer.set_postfix(test_acc=f"{stats.test_accuracy:.4f}")

    def close(self) -> None:
        for bar in (self.inner, self.outer):
            if bar is not None:
                bar.close()
        self.inner = None


def _table(result, delay: tuple[int, str] = (0, "")) -> str:
    header = ("epoch", "train loss", "train acc", "test loss", "test acc", "lr", "seconds")
    rows = [
        (
            str(s.epoch),
            f"{s.train_loss:.4f}",
            f"{100 * s.train_accuracy:.2f} %",
            f"{s.test_loss:.4f}",
            f"{100 * s.test_accuracy:.2f} %",
            f"{s.lr:.3g}",
            f"{s.seconds:.1f}",
        )
        for s in result.history
    ]
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(header)]
    lines = ["  ".join(h.rjust(w) for h, w in zip(header, widths, strict=True))]
    lines.append("  ".join("-" * w for w in widths))
    lines += ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    lines.append("")
    stale = f"weight delay {delay[0]} ({delay[1]}), " if delay[0] else ""
    lines.append(
        f"{result.workload}: {result.algorithm}, {result.epochs} epochs, seed {result.seed}, "
        f"{stale}{result.num_params} parameters: test accuracy "
        f"{100 * result.test_accuracy:.2f} % in {result.seconds:.1f} s"
    )
    return "\n".join(lines)

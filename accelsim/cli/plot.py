"""``accelsim plot``: paper figures from simulations and sweep stores, each with its data as CSV.

Subcommands: ``compare`` (speedup and energy vs BP), ``breakdown`` (energy stacked bars),
``timeline`` (per-unit Gantt of one simulation), ``sweep`` (line plot or heatmap from a store),
``pareto`` (cycles vs energy per iteration front from a store). The figures live in
``accelsim.plot``; this module gathers their data (simulations, store rows) and writes the files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from accelsim.config.errors import ConfigError

_FORMAT = click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["png", "pdf", "svg"]),
    help="Picture format(s) when -o has no suffix (repeatable) [default: png].",
)
_OUT = click.option(
    "-o",
    "--output",
    "out",
    required=True,
    metavar="PATH",
    help="Output file; its suffix (.png, .pdf, .svg) picks the format. <stem>.csv gets the data.",
)


@click.group(
    help="Paper figures (PNG, PDF, SVG) in one greyscale-safe style; every figure also writes "
    "its data as CSV beside it.\n\n\b\nExamples:\n"
    "  accelsim plot compare arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml -o out/cmp.pdf\n"
    "  accelsim plot breakdown arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml -o out/e.png\n"
    "  accelsim plot timeline arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml "
    "--algorithm pdfa -o out/gantt.svg\n"
    "  accelsim plot sweep out/sweep.db --x arch.clock_mhz --y latency_s --hue algorithm "
    "-o out/clock.png\n"
    "  accelsim plot pareto out/sweep.db -o out/pareto.pdf"
)
def plot() -> None:
    pass


def _algorithms(text: str | None, option: str = "--algorithms") -> tuple[str, ...] | None:
    from accelsim.config.algorithms import parse_algorithm_list

    return None if text is None else parse_algorithm_list(text, option)


def _written(paths: list[Path]) -> None:
    for path in paths:
        click.echo(str(path))


# -- from simulations ------------------------------------------------------------------------------


@plot.command(
    short_help="Speedup and energy vs BP per algorithm (grouped bars).",
    help="Speedup and energy of each algorithm vs the BP baseline on ARCH, one bar group per "
    "WORKLOAD.\n\n\b\nExample:\n  accelsim plot compare arch_configs/dflnpu.yaml "
    "workloads/lenet_mnist.yaml -o out/compare.pdf",
)
@click.argument("arch")
@click.argument("workloads", nargs=-1, required=True, metavar="WORKLOAD...")
@click.option(
    "--algorithms",
    default=None,
    help="Comma-separated, e.g. bp,dfa,pdfa [default: those of accelsim compare].",
)
@click.option(
    "--iterations",
    type=click.IntRange(min=1),
    default=None,
    help="Training iterations simulated per algorithm (default: enough for a steady state).",
)
@_OUT
@_FORMAT
def compare(
    arch: str,
    workloads: tuple[str, ...],
    algorithms: str | None,
    iterations: int | None,
    out: str,
    formats: tuple[str, ...],
) -> None:
    from accelsim.plot.compare import compare_figure
    from accelsim.plot.output import save_figure
    from accelsim.report.api import compare_point

    names = _algorithms(algorithms)
    data = {}
    for workload in workloads:
        result = compare_point(arch, workload, iterations, algorithms=names)
        data[_workload_name(workload, result)] = result
    figure, table = compare_figure(data)
    _written(save_figure(figure, table, out, formats))


@plot.command(
    short_help="Energy breakdown per algorithm (stacked bars).",
    help="Energy breakdown (stacked bars, one per algorithm) of one training iteration of "
    "WORKLOAD on ARCH.\n\n\b\nExample:\n  accelsim plot breakdown arch_configs/dflnpu.yaml "
    "workloads/lenet_mnist.yaml --algorithms bp,dfa,pdfa -o out/energy.png",
)
@click.argument("arch")
@click.argument("workload")
@click.option("--algorithms", default="bp,dfa,pdfa", show_default=True, help="Comma-separated.")
@click.option("--iterations", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--percent", is_flag=True, help="Shares of each bar's total instead of energy.")
@_OUT
@_FORMAT
def breakdown(
    arch: str,
    workload: str,
    algorithms: str,
    iterations: int,
    percent: bool,
    out: str,
    formats: tuple[str, ...],
) -> None:
    from accelsim.plot.breakdown import breakdown_figure
    from accelsim.plot.output import save_figure
    from accelsim.report.api import simulate_point

    results = {
        name: simulate_point(arch, workload, name, iterations)
        for name in _algorithms(algorithms) or ("bp",)
    }
    figure, table = breakdown_figure(results, percent=percent)
    _written(save_figure(figure, table, out, formats))


@plot.command(
    short_help="Per-unit Gantt chart of one simulation or trace.",
    help="Per-unit Gantt chart of one simulation of WORKLOAD on ARCH (or of a saved trace, "
    "--trace FILE from `accelsim simulate --trace`).\n\n\b\nExamples:\n"
    "  accelsim plot timeline arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml "
    "--algorithm pdfa --iterations 2 -o out/gantt.png\n"
    "  accelsim plot timeline --trace out/run.json -o out/gantt.pdf",
)
@click.argument("arch", required=False)
@click.argument("workload", required=False)
@click.option("--algorithm", default="pdfa", show_default=True)
@click.option("--iterations", type=click.IntRange(min=1), default=2, show_default=True)
@click.option(
    "--trace",
    "trace_file",
    default=None,
    metavar="FILE",
    help="Plot this Chrome trace JSON instead of simulating.",
)
@_OUT
@_FORMAT
def timeline(
    arch: str | None,
    workload: str | None,
    algorithm: str,
    iterations: int,
    trace_file: str | None,
    out: str,
    formats: tuple[str, ...],
) -> None:
    from accelsim.plot.output import save_figure
    from accelsim.plot.timeline import timeline_figure

    if trace_file is not None:
        if arch or workload:
            raise click.UsageError("give either ARCH WORKLOAD or --trace FILE, not both")
        trace, label = _read_json(trace_file), trace_file
    else:
        if not (arch and workload):
            raise click.UsageError("missing ARCH WORKLOAD (or --trace FILE)")
        from accelsim.report.api import run

        _algorithms(algorithm, "--algorithm")
        trace, label = run(arch, workload, algorithm, iterations).trace(), "simulation"
    figure, table = timeline_figure(trace, label)
    _written(save_figure(figure, table, out, formats))


# -- from sweep stores -----------------------------------------------------------------------------


@plot.command(
    short_help="Metric vs swept value (lines) or two values (heatmap).",
    help="A metric along a swept value (lines, one per --hue value), or over two swept values "
    "(--heatmap, colour = --z), from the sweep store FILE.db. Swept values are named by their "
    "dotted paths, metrics by their `accelsim results` keys.\n\n\b\nExamples:\n"
    "  accelsim plot sweep out/sweep.db --x arch.clock_mhz --y latency_s --hue algorithm "
    "--where workload.dataset.batch_size=16 -o out/clock.png\n"
    "  accelsim plot sweep out/sweep.db --heatmap --x arch.clock_mhz "
    "--y arch.units.lc_fp.rows --z energy_pj --hue algorithm "
    "--where workload.dataset.batch_size=16 -o out/heat.pdf",
)
@click.argument("store_path", metavar="FILE.db")
@click.option("--x", "x", required=True, help="Swept value on the x axis.")
@click.option("--y", "y", required=True, help="Metric (lines) or swept value (--heatmap) on y.")
@click.option("--z", "z", default=None, help="Metric shown as colour (--heatmap).")
@click.option("--hue", default=None, help="Swept value that tells lines (or panels) apart.")
@click.option(
    "--where", multiple=True, metavar="KEY=VALUE", help="Keep only matching points (repeatable)."
)
@click.option("--heatmap", is_flag=True, help="A heatmap of --z over --x and --y.")
@click.option("--logx", is_flag=True, help="Logarithmic x axis (lines).")
@click.option("--logy", is_flag=True, help="Logarithmic y axis (lines).")
@_OUT
@_FORMAT
def sweep(
    store_path: str,
    x: str,
    y: str,
    z: str | None,
    hue: str | None,
    where: tuple[str, ...],
    heatmap: bool,
    logx: bool,
    logy: bool,
    out: str,
    formats: tuple[str, ...],
) -> None:
    from accelsim.plot.output import save_figure
    from accelsim.plot.sweep import sweep_heatmap_figure, sweep_line_figure

    rows, point_keys = _store_rows(store_path)
    filters = _where(where)
    if heatmap:
        if z is None:
            raise click.UsageError("--heatmap needs --z METRIC")
        figure, table = sweep_heatmap_figure(rows, point_keys, x, y, z, hue, filters)
    else:
        if z is not None:
            raise click.UsageError("--z goes with --heatmap")
        figure, table = sweep_line_figure(rows, point_keys, x, y, hue, filters, logx, logy)
    _written(save_figure(figure, table, out, formats))


@plot.command(
    short_help="Pareto front (cycles vs energy per iteration) of a sweep store.",
    help="Pareto front of the points in the sweep store FILE.db: cycles vs energy per training "
    "iteration by default (both minimised), markers by algorithm.\n\n\b\nExamples:\n"
    "  accelsim plot pareto out/sweep.db -o out/pareto.pdf\n"
    "  accelsim plot pareto out/sweep.db --x cycles --y dram_bytes --logy -o out/p.png",
)
@click.argument("store_path", metavar="FILE.db")
@click.option(
    "--x", "x", default="cycles_per_iteration", show_default=True, help="Metric on x (minimised)."
)
@click.option("--y", "y", default="energy_pj_per_iteration", show_default=True, help="Metric on y.")
@click.option("--hue", default="algorithm", show_default=True, help="Swept value for markers.")
@click.option("--maximize-y", is_flag=True, help="Higher y is better (e.g. accuracy).")
@click.option("--where", multiple=True, metavar="KEY=VALUE", help="Keep only matching points.")
@click.option("--logx", is_flag=True, help="Logarithmic x axis.")
@click.option("--logy", is_flag=True, help="Logarithmic y axis.")
@_OUT
@_FORMAT
def pareto(
    store_path: str,
    x: str,
    y: str,
    hue: str,
    maximize_y: bool,
    where: tuple[str, ...],
    logx: bool,
    logy: bool,
    out: str,
    formats: tuple[str, ...],
) -> None:
    from accelsim.plot.output import save_figure
    from accelsim.plot.pareto import pareto_figure
    from accelsim.plot.sweep import select

    rows, point_keys = _store_rows(store_path)
    rows = select(rows, _where(where))
    figure, table = pareto_figure(rows, point_keys, x, y, hue, maximize_y, logx, logy)
    _written(save_figure(figure, table, out, formats))


# -- helpers ---------------------------------------------------------------------------------------


def _store_rows(store_path: str) -> tuple[list[dict[str, Any]], list[str]]:
    """The ok points of a store as flat rows, and the keys that are swept values."""
    from accelsim.study.results import flatten, result_rows
    from accelsim.study.store import Store

    with Store(store_path, create=False) as store:
        rows = result_rows(store.rows(status="ok"))
    if not rows:
        raise ConfigError(store_path, None, "a store with at least one ok point", "none")
    point_keys = list(dict.fromkeys(k for row in rows for k in row["point"]))
    return [flatten(row) for row in rows], point_keys


def _where(items: tuple[str, ...]) -> dict[str, str]:
    filters = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise ConfigError(None, "--where", "KEY=VALUE", item)
        filters[key.strip()] = value.strip()
    return filters


def _read_json(path: str) -> Any:
    try:
        return json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(path, None, "an existing trace file", "no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ConfigError(path, None, "a Chrome trace JSON file", str(err)) from None


def _workload_name(path: str, result: dict[str, Any]) -> str:
    for data in result.get("results", {}).values():
        if data.get("workload"):
            return str(data["workload"])
    return Path(path).stem

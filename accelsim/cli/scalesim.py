"""``accelsim scalesim``: SCALE-Sim v3 inputs in, SCALE-Sim 3.0.0's compute report out.

Reads the same .cfg and topology CSV as ``python -m scalesim.scale`` and prints, per layer, the
figures SCALE-Sim writes to COMPUTE_REPORT.csv (CALC bandwidth mode, forward pass), without
generating per-cycle traces.
"""

from __future__ import annotations

import json

import click

from accelsim.config.errors import ConfigError
from accelsim.config.scalesim import load_scalesim_config, load_topology
from accelsim.hw.scalesim_calc import LayerReport, layer_report


@click.command(
    "scalesim",
    epilog="""\b
Example:
  accelsim scalesim --config examples/scalesim/scale.cfg \\
      --topology examples/scalesim/lenet.csv --layout examples/scalesim/layout.csv
  accelsim scalesim --config examples/scalesim/scale.cfg \\
      --topology examples/scalesim/gemm.csv --gemm --json""",
)
@click.option(
    "--config",
    "config_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="SCALE-Sim v3 .cfg file (array size, SRAM sizes, dataflow, bandwidth mode).",
)
@click.option(
    "--topology",
    "topology_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="Topology CSV: conv columns, or 'Layer, M, N, K' with --gemm.",
)
@click.option(
    "--layout",
    "layout_path",
    type=click.Path(dir_okay=False),
    default=None,
    help="SCALE-Sim layout CSV; accepted for compatibility and not used (only custom SRAM "
    "layouts in USER bandwidth mode read it).",
)
@click.option("--gemm", is_flag=True, help="Read the topology as GEMMs (SCALE-Sim's -i gemm).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def scalesim(
    config_path: str, topology_path: str, layout_path: str | None, gemm: bool, as_json: bool
) -> None:
    """Per-layer cycles and utilization of a SCALE-Sim v3 run, without running SCALE-Sim.

    Figures mean what SCALE-Sim 3.0.0 writes in COMPUTE_REPORT.csv in CALC bandwidth mode;
    utilizations are fractions 0-1.
    """
    config = load_scalesim_config(config_path)
    if config.interface_bandwidth != "CALC":
        raise ConfigError(
            config_path,
            "[run_presets] InterfaceBandwidth",
            "CALC (USER-bandwidth read stalls are not modelled)",
            config.interface_bandwidth,
        )
    topology = load_topology(topology_path, gemm=gemm)
    if layout_path is not None:
        _check_layout(layout_path)
    reports = [
        layer_report(
            layer.shape, config.rows, config.cols, config.dataflow, config.sram, layer.footprint
        )
        for layer in topology.layers
    ]
    names = [layer.name for layer in topology.layers]
    if as_json:
        click.echo(json.dumps(_as_json(names, reports), indent=2))
    else:
        title = (
            f"{config.run_name}: {config.rows}x{config.cols} array, "
            f"{config.dataflow} dataflow, {len(names)} layers"
        )
        click.echo(_table(title, names, reports))


def _check_layout(path: str) -> None:
    try:
        with open(path, encoding="utf-8") as handle:
            handle.read(1)
    except FileNotFoundError:
        raise ConfigError(path, None, "an existing layout CSV", "no such file") from None
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(path, None, "a readable layout CSV", str(err)) from None


def _as_json(names: list[str], reports: list[LayerReport]) -> dict:
    layers = [
        {
            "name": name,
            "total_cycles": report.total_cycles,
            "stall_cycles": report.stall_cycles,
            "cycles_incl_prefetch": report.cycles_incl_prefetch,
            "mapping_efficiency": report.mapping_efficiency,
            "compute_utilization": report.compute_utilization,
            "overall_utilization": report.overall_utilization,
            "folds": report.timing.folds,
            "macs": report.timing.macs,
        }
        for name, report in zip(names, reports, strict=True)
    ]
    return {"layers": layers, "total_cycles": sum(r.total_cycles for r in reports)}


def _table(title: str, names: list[str], reports: list[LayerReport]) -> str:
    header = ("layer", "total cycles", "stalls", "incl. prefetch", "mapping eff", "compute util")
    rows = [
        (
            name,
            f"{r.total_cycles:,}",
            f"{r.stall_cycles:,}",
            f"{r.cycles_incl_prefetch:,}",
            f"{100 * r.mapping_efficiency:.1f} %",
            f"{100 * r.compute_utilization:.1f} %",
        )
        for name, r in zip(names, reports, strict=True)
    ]
    total = sum(r.total_cycles for r in reports)
    rows.append(("total", f"{total:,}", "", "", "", ""))
    widths = [max(len(row[i]) for row in (header, *rows)) for i in range(len(header))]

    def fmt(row: tuple[str, ...]) -> str:
        first = row[0].ljust(widths[0])
        rest = (cell.rjust(width) for cell, width in zip(row[1:], widths[1:], strict=True))
        return "  ".join((first, *rest)).rstrip()

    rule = "  ".join("-" * width for width in widths)
    return "\n".join(
        [title, fmt(header), rule, *(fmt(row) for row in rows[:-1]), rule, fmt(rows[-1])]
    )

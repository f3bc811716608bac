"""``accelsim simulate`` and ``accelsim compare``: one training iteration (or N) on a chip."""

from __future__ import annotations

import json
from pathlib import Path

import click

from accelsim.cli.options import weight_delay_option
from accelsim.config.algorithms import ALGORITHMS, parse_algorithm_list
from accelsim.config.errors import ConfigError

_COMMON = [
    click.argument("arch", type=click.Path(path_type=Path)),
    click.argument("workload", type=click.Path(path_type=Path)),
    click.option(
        "--batch-size",
        type=click.IntRange(min=1),
        default=None,
        help="Override the workload's batch size (1 = online learning).",
    ),
    click.option(
        "--pipeline-depth",
        type=click.IntRange(min=1),
        default=None,
        help="Iterations in flight when pipelined: pdfa, or dfa/hybrid with weight delay 1 "
        "(default: the chip's pipeline_depth).",
    ),
    weight_delay_option(
        "the forward pass of iteration i reads the update of i-1-D; 1 pipelines pdfa, dfa and "
        "the hybrids (default: the workload's training.weight_delay, else 1 for pdfa and 0 "
        "otherwise)."
    ),
    click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
]


def _common(func):
    for decorator in reversed(_COMMON):
        func = decorator(func)
    return func


@click.command()
@_common
@click.option(
    "--algorithm",
    "-a",
    type=click.Choice(ALGORITHMS),
    default=None,
    help="Training algorithm (default: the workload's, else bp).",
)
@click.option(
    "--iterations",
    "-n",
    type=click.IntRange(min=1),
    default=None,
    help="Consecutive iterations (default: enough for a steady state: 1 without a pipeline, "
    "more when pipelined until the iteration spacing settles).",
)
@click.option(
    "--trace",
    "trace_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write a Chrome trace-event JSON of the schedule (Perfetto).",
)
def simulate(
    arch,
    workload,
    batch_size,
    pipeline_depth,
    weight_delay,
    as_json,
    algorithm,
    iterations,
    trace_file,
):
    """Simulate training iterations of WORKLOAD on the chip ARCH.

    \b
    Examples:
      accelsim simulate arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml
      accelsim simulate arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml \\
          --algorithm pdfa --iterations 4 --batch-size 1 --json
      accelsim simulate arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml --trace t.json
    """
    from accelsim.report.api import resolve_workload, run

    wl = resolve_workload(str(workload), batch_size=batch_size)
    algorithm = algorithm or getattr(wl.training, "algorithm", None) or "bp"
    result = run(
        str(arch),
        wl,
        algorithm,
        iterations,
        pipeline_depth=pipeline_depth,
        weight_delay=weight_delay,
    )
    if trace_file is not None:
        try:
            trace_file.write_text(json.dumps(result.trace()), encoding="utf-8")
        except OSError as err:
            raise ConfigError(
                str(trace_file), "--trace", "a writable file path", err.strerror
            ) from None
    if as_json:
        click.echo(json.dumps(result.report, indent=2))
        return
    click.echo(render_simulation(result.report))
    if trace_file is not None:
        click.echo(f"\ntrace written to {trace_file} (open in https://ui.perfetto.dev)")


@click.command()
@_common
@click.option(
    "--iterations",
    "-n",
    type=click.IntRange(min=1),
    default=None,
    help="Iterations per algorithm (default: enough for a steady state); ratios use the "
    "steady-state iteration.",
)
@click.option(
    "--algorithms",
    default=None,
    metavar="A,B,...",
    help="Algorithms to compare (default: bp,dfa,pdfa and the workload's own).",
)
@click.option(
    "--equal-area",
    "equal_area",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="BASELINE_ARCH",
    help="Also compare against BP on this chip with its PE arrays resized to ARCH's area "
    "(docs/area.md).",
)
def compare(
    arch,
    workload,
    batch_size,
    pipeline_depth,
    weight_delay,
    as_json,
    iterations,
    algorithms,
    equal_area,
):
    """Compare the BP-serialized baseline with DFA and pipelined DFA on the chip ARCH.

    \b
    Examples:
      accelsim compare arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml
      accelsim compare arch_configs/bp_baseline.yaml workloads/lenet_mnist.yaml --json
      accelsim compare arch_configs/dflnpu.yaml workloads/lenet_mnist.yaml \\
          --algorithms bp,dfa,pdfa,hybrid-dfa --batch-size 1
      accelsim compare arch_configs/dflnpu.yaml workloads/mdnet_online.yaml \\
          --equal-area arch_configs/bp_baseline.yaml
    """
    from accelsim.report.api import compare_point

    names = None if algorithms is None else parse_algorithm_list(algorithms)
    doc = compare_point(
        str(arch),
        str(workload),
        iterations,
        algorithms=names,
        batch_size=batch_size,
        pipeline_depth=pipeline_depth,
        weight_delay=weight_delay,
        equal_area=None if equal_area is None else str(equal_area),
    )
    if as_json:
        click.echo(json.dumps(doc, indent=2))
        return
    click.echo(render_comparison(doc))


def _si(value: float, unit: str) -> str:
    for scale, prefix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= scale:
            return f"{value / scale:.3g} {prefix}{unit}"
    return f"{value:.3g} {unit}"


def _joules(pj: float) -> str:
    for scale, unit in ((1e12, "J"), (1e9, "mJ"), (1e6, "uJ"), (1e3, "nJ")):
        if abs(pj) >= scale:
            return f"{pj / scale:.3g} {unit}"
    return f"{pj:.3g} pJ"


def _seconds(value: float) -> str:
    for scale, unit in ((1, "s"), (1e-3, "ms"), (1e-6, "us")):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value * 1e9:.3g} ns"


def render_simulation(doc: dict) -> str:
    steady = doc["steady_state"]
    lines = [
        f"{doc['workload']} on {doc['arch']}: {doc['algorithm']} ({doc['schedule']} schedule), "
        f"batch {doc['batch_size']}, {doc['iterations']} iteration(s)",
        f"  cycles        {doc['cycles']:,}   latency {_seconds(doc['latency_s'])} "
        f"at {doc['clock_mhz']:g} MHz",
        f"  energy        {_joules(doc['energy_pj'])}   "
        f"DRAM {_si(doc['dram_bytes'], 'B')}   stalls {doc['stall_cycles']:,.0f} cycles",
        f"  per iteration {steady['cycles_per_iteration']:,.0f} cycles, "
        f"{_seconds(steady['latency_s_per_iteration'])}, "
        f"{_joules(steady['energy_pj_per_iteration'])} {_steady_label(doc)}",
        f"  DRAM channel  busy {doc['dram']['busy_cycles']:,.0f} cycles, longest wait "
        f"{doc['dram']['longest_wait_cycles']:,.0f} cycles (fair sharing)",
        f"  area          {doc['area_mm2']:.3g} mm2 (PE arrays, vector lanes, SRAM, PRNG; "
        "docs/area.md)",
        "",
        "  energy breakdown:",
    ]
    total = doc["energy_pj"] or 1.0
    for part, value in doc["energy_breakdown_pj"].items():
        lines.append(f"    {part:<14}{_joules(value):>12}  {100 * value / total:5.1f} %")
    lines += [
        "",
        f"  units (cycles of the whole run)  {'busy':>14}{'memory wait':>14}{'idle':>14}"
        f"{'held %':>8}{'MAC util %':>11}",
    ]
    for unit, acct in doc["units"].items():
        lines.append(
            f"    {unit:<31}{acct['busy_cycles']:>14,.0f}{acct['memory_wait_cycles']:>14,.0f}"
            f"{acct['idle_cycles']:>14,.0f}{100 * doc['utilization'][unit]:>8.1f}"
            f"{100 * doc['compute_utilization'][unit]:>11.1f}"
        )
    header = (
        f"  {'layer':<12}{'cycles':>12}{'stall':>11}{'fp':>11}{'ep':>11}{'wg':>11}{'wu':>11}"
        f"{'MACs':>12}{'DRAM B':>11}{'energy':>11}"
    )
    lines += [
        "",
        "  first iteration by layer (cycles, stall: wall-clock; passes: task time):",
        header,
    ]
    for row in doc["layers"]:
        lines.append(
            f"  {row['layer']:<12}{row['cycles']:>12,.0f}{row['stall_cycles']:>11,.0f}"
            f"{row['fp_cycles']:>11,.0f}{row['ep_cycles']:>11,.0f}{row['wg_cycles']:>11,.0f}"
            f"{row['wu_cycles']:>11,.0f}{_si(row['macs'], ''):>12}"
            f"{_si(row['dram_bytes'], ''):>11}{_joules(row['energy_pj']):>11}"
        )
    return "\n".join(lines)


def _steady_label(doc: dict) -> str:
    steady = doc["steady_state"]
    if steady["reached"]:
        if doc["pipeline_depth"] > 1:  # pipelined: pdfa, or dfa/hybrid with delay 1
            return (
                f"(steady state over iterations {steady['warmup_iterations'] + 1}-"
                f"{doc['iterations']}, weight delay {doc['weight_delay']})"
            )
        return "(steady state)"
    return (
        f"(NO steady state reached in {doc['iterations']} iterations: "
        f"mean of {steady['measured_iterations']} after the pipeline filled; raise -n)"
    )


def render_comparison(doc: dict) -> str:
    first = next(iter(doc["results"].values()))
    lines = [
        f"{first['workload']} on {first['arch']}, batch {first['batch_size']} "
        "(ratios per steady-state iteration)",
        *(
            f"  note: {name} reached no steady state in {r['iterations']} iterations"
            for name, r in doc["results"].items()
            if not r["steady_state"]["reached"]
        ),
        f"  {'algorithm':<13}{'cycles/iter':>14}{'latency':>11}{'energy/iter':>13}"
        f"{'DRAM/iter':>12}{'speedup':>9}{'energy':>9}{'iters':>7}",
    ]
    for name, r in doc["results"].items():
        s = r["steady_state"]
        lines.append(
            f"  {name:<13}{s['cycles_per_iteration']:>14,.0f}"
            f"{_seconds(s['latency_s_per_iteration']):>11}"
            f"{_joules(s['energy_pj_per_iteration']):>13}"
            f"{_si(s['dram_bytes_per_iteration'], 'B'):>12}"
            f"{doc['speedup_vs_bp'][name]:>8.2f}x{doc['energy_ratio_vs_bp'][name]:>8.2f}x"
            f"{r['iterations']:>7}"
        )
    if "equal_area" in doc:
        lines += _render_equal_area(doc["equal_area"])
    return "\n".join(lines)


def _render_equal_area(eq: dict) -> list[str]:
    arrays = ", ".join(f"{n} {d['rows']}x{d['cols']}" for n, d in eq["scaled_pe_arrays"].items())
    lines = [
        f"  equal area: {eq['baseline']} resized to {arrays} (PEs x{eq['scale']:.3f}), "
        f"{eq['scaled_area_mm2']:.3f} mm2 for {eq['target_area_mm2']:.3f} mm2 "
        f"(unresized {eq['baseline_area_mm2']:.3f} mm2)",
        f"  BP on it: {eq['bp_cycles_per_iteration']:,.0f} cycles, "
        f"{_joules(eq['bp_energy_pj_per_iteration'])} per iteration",
        f"  {'algorithm':<13}{'speedup vs equal-area BP':>26}{'energy ratio':>14}",
    ]
    for name, speedup in eq["speedup_vs_equal_area_bp"].items():
        lines.append(
            f"  {name:<13}{speedup:>25.2f}x{eq['energy_ratio_vs_equal_area_bp'][name]:>13.2f}x"
        )
    return lines

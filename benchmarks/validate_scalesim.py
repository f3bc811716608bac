"""Validate accelsim's PE-array timing against SCALE-Sim 3.0.0 and write docs/validation.md.

Two jobs:

* ``--scalesim-python PATH`` (the python of a venv with ``scalesim==3.0.0``) reruns SCALE-Sim on
  every config x topology in tests/hw/golden/ and rewrites tests/hw/golden/scalesim_3.0.0.json
  (the golden values the tests check), timing each run.
* Always: compares ``accelsim scalesim``'s model with the golden values (per layer x dataflow x
  array: our cycles, theirs, error), times our model, and replaces the scalesim section of
  docs/validation.md (between its markers) with the table and the run-time comparison.

Usage (from the repository root)::

    python -m venv /tmp/scalesim-venv
    /tmp/scalesim-venv/bin/pip install scalesim==3.0.0 'numpy<2' 'pandas<2.3' 'numba<0.61'
    python benchmarks/validate_scalesim.py --scalesim-python /tmp/scalesim-venv/bin/python
    python benchmarks/validate_scalesim.py          # no venv: use the committed golden values
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import write_section

from accelsim.config.scalesim import load_scalesim_config, load_topology
from accelsim.hw.scalesim_calc import layer_report

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "hw" / "golden"
GOLDEN_JSON = GOLDEN / "scalesim_3.0.0.json"
DOC = ROOT / "docs" / "validation.md"
TOPOLOGIES = (("topologies/conv.csv", False), ("topologies/gemm.csv", True))
LAYOUT = "topologies/layout.csv"
REPORT_KEYS = {
    "Total Cycles (incl. prefetch)": "cycles_incl_prefetch",
    "Total Cycles": "total_cycles",
    "Stall Cycles": "stall_cycles",
    "Overall Util %": "overall_utilization",
    "Mapping Efficiency %": "mapping_efficiency",
    "Compute Util %": "compute_utilization",
}


def run_scalesim(python: str, config: Path, topology: Path, gemm: bool) -> tuple[list[dict], float]:
    """Run SCALE-Sim once; return its COMPUTE_REPORT rows (fractions, not %) and wall time."""
    with tempfile.TemporaryDirectory() as out:
        cmd = [
            python,
            "-m",
            "scalesim.scale",
            "-c",
            str(config),
            "-t",
            str(topology),
            "-l",
            str(GOLDEN / LAYOUT),
            "-p",
            out,
        ] + (["-i", "gemm"] if gemm else [])
        start = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=out)
        seconds = time.perf_counter() - start
        if proc.returncode != 0:
            raise SystemExit(f"SCALE-Sim failed: {' '.join(cmd)}\n{proc.stderr[-2000:]}")
        reports = list(Path(out).glob("*/COMPUTE_REPORT.csv"))
        with reports[0].open() as handle:
            table = [[cell.strip() for cell in row] for row in csv.reader(handle)]
    header, rows = table[0], table[1:]
    layers = []
    for row in rows:
        entry = {}
        for column, value in zip(header, row, strict=False):
            key = REPORT_KEYS.get(column)
            if key is None:
                continue
            number = float(value)
            entry[key] = number / 100 if column.endswith("%") else int(number)
        layers.append(entry)
    return layers, seconds


def scalesim_version(python: str) -> str:
    code = "import importlib.metadata as m; print(m.version('scalesim'), m.version('numpy'))"
    out = subprocess.run([python, "-c", code], capture_output=True, text=True, check=True)
    scalesim, numpy = out.stdout.split()
    return f"scalesim {scalesim}, numpy {numpy}"


def regenerate(python: str) -> dict:
    runs = []
    for config in sorted((GOLDEN / "configs").glob("*.cfg")):
        for topo, gemm in TOPOLOGIES:
            layers, seconds = run_scalesim(python, config, GOLDEN / topo, gemm)
            names = [layer.name for layer in load_topology(GOLDEN / topo, gemm=gemm).layers]
            for name, layer in zip(names, layers, strict=True):
                layer["name"] = name
            runs.append(
                {
                    "config": f"configs/{config.name}",
                    "topology": topo,
                    "gemm": gemm,
                    "seconds": round(seconds, 3),
                    "layers": layers,
                }
            )
            print(f"{config.name} {topo}: {len(layers)} layers in {seconds:.1f} s", flush=True)
    golden = {
        "produced_by": "benchmarks/validate_scalesim.py --scalesim-python PYTHON",
        "command": "PYTHON -m scalesim.scale -c CONFIG -t TOPOLOGY -l topologies/layout.csv "
        "-p OUTDIR [-i gemm]",
        "versions": f"{scalesim_version(python)}, Python {platform.python_version()}",
        "runs": runs,
    }
    GOLDEN_JSON.write_text(json.dumps(golden, indent=1) + "\n")
    return golden


def compare(golden: dict) -> tuple[list[dict], float, float]:
    """Our figures next to SCALE-Sim's for every golden layer, plus both run times per layer."""
    rows = []
    ours_seconds = 0.0
    theirs_seconds = 0.0
    for run in golden["runs"]:
        config = load_scalesim_config(GOLDEN / run["config"])
        start = time.perf_counter()
        topology = load_topology(GOLDEN / run["topology"], gemm=run["gemm"])
        reports = [
            layer_report(
                layer.shape, config.rows, config.cols, config.dataflow, config.sram, layer.footprint
            )
            for layer in topology.layers
        ]
        ours_seconds += time.perf_counter() - start
        theirs_seconds += run["seconds"]
        for layer, ours, theirs in zip(topology.layers, reports, run["layers"], strict=True):
            rows.append(
                {
                    "layer": layer.name,
                    "dataflow": config.dataflow,
                    "array": f"{config.rows}x{config.cols}",
                    "ours": ours.total_cycles,
                    "theirs": theirs["total_cycles"],
                    "ours_prefetch": ours.cycles_incl_prefetch,
                    "theirs_prefetch": theirs["cycles_incl_prefetch"],
                    "stall_match": ours.stall_cycles == theirs["stall_cycles"],
                    "util_match": abs(ours.mapping_efficiency - theirs["mapping_efficiency"]) < 1e-9
                    and abs(ours.compute_utilization - theirs["compute_utilization"]) < 1e-9,
                }
            )
    return rows, ours_seconds, theirs_seconds


def error_pct(ours: int, theirs: int) -> float:
    return 100.0 * (ours - theirs) / theirs


def render(rows: list[dict], ours_s: float, theirs_s: float, golden: dict, timed: bool) -> str:
    exact = sum(r["ours"] == r["theirs"] for r in rows)
    exact_pf = sum(r["ours_prefetch"] == r["theirs_prefetch"] for r in rows)
    lines = [
        "## SCALE-Sim 3.0.0 (forward layers, CALC bandwidth mode)",
        "",
        f"Reference: {golden['versions']}; golden values in `tests/hw/golden/` (inputs, "
        "command and output), regenerated by `python benchmarks/validate_scalesim.py "
        "--scalesim-python /tmp/scalesim-venv/bin/python`. Ours: `accelsim scalesim` "
        "(`accelsim.hw.scalesim_calc.layer_report`). Depth-wise `DP` layers are split per "
        "channel, as SCALE-Sim does.",
        "",
        f"Total cycles match exactly on {exact} of {len(rows)} layer x dataflow x array cases; "
        f"total cycles incl. prefetch on {exact_pf}; stall cycles on "
        f"{sum(r['stall_match'] for r in rows)}; mapping efficiency and compute utilization "
        f"(to 1e-9) on {sum(r['util_match'] for r in rows)}.",
        "",
    ]
    for dataflow in ("os", "ws", "is"):
        errs = [abs(error_pct(r["ours"], r["theirs"])) for r in rows if r["dataflow"] == dataflow]
        lines.append(f"- `{dataflow}`: max |error| in total cycles {max(errs):.3f} %")
    per_layer = len(rows)
    speed = (
        f"SCALE-Sim took {theirs_s:.1f} s for these {per_layer} layer runs "
        f"({theirs_s / per_layer:.1f} s per layer on average, dominated by the large layers; "
        "it always writes per-cycle traces); "
        f"accelsim's model took {1000 * ours_s:.1f} ms ({1e6 * ours_s / per_layer:.0f} us per "
        f"layer, topology parsing included), {theirs_s / ours_s:,.0f}x faster"
    )
    speed += (
        ", both measured in the same run."
        if timed
        else (
            " (SCALE-Sim's time from the committed golden run, ours measured now on this machine)."
        )
    )
    lines += [
        "",
        speed,
        "",
        "| layer | dataflow | array | ours | SCALE-Sim | error % | incl. prefetch ours / theirs |",
        "|---|---|---|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['layer']} | {r['dataflow']} | {r['array']} | {r['ours']} | {r['theirs']} | "
            f"{error_pct(r['ours'], r['theirs']):+.3f} | {r['ours_prefetch']} / "
            f"{r['theirs_prefetch']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scalesim-python", help="python of a venv with scalesim==3.0.0")
    parser.add_argument("--no-docs", action="store_true", help="print, do not edit the docs")
    args = parser.parse_args()
    if args.scalesim_python:
        golden = regenerate(args.scalesim_python)
    else:
        golden = json.loads(GOLDEN_JSON.read_text())
    rows, ours_s, theirs_s = compare(golden)
    text = render(rows, ours_s, theirs_s, golden, timed=bool(args.scalesim_python))
    if args.no_docs:
        print(text)
    else:
        write_section(DOC, "scalesim", text)
        print(text.splitlines()[4])
    worst = max(abs(error_pct(r["ours"], r["theirs"])) for r in rows)
    print(f"{len(rows)} cases, max |error| {worst:.3f} %", file=sys.stderr)


if __name__ == "__main__":
    main()

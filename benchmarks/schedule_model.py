"""What the compute/schedule model says DFA and PDFA save: stall-free bounds and every shipped pair.

    python benchmarks/schedule_model.py                 # print the tables
    python benchmarks/schedule_model.py --json out.json # also dump the figures (before/after diffs)
    python benchmarks/schedule_model.py --write         # also update docs/validation.md

Three measurements, in one run:

1. **Stall-free PDFA** (issue 9's acceptance): the chip as committed but with memories that
   never stall (a global buffer that holds everything, GB and DRAM bandwidth 1e12 B/cycle), so
   only the compute units and the schedule remain. For MDNet's fc layers on dflnpu, a 4-layer
   MLP and a strided CNN it prints BP and PDFA cycles per steady iteration, the per-unit busy
   cycles per iteration and the *resource bound*: the busiest unit's busy cycles per
   iteration, which no schedule can beat. PDFA's fraction of that bound says how well the
   schedule overlaps.
2. **compare on every shipped workload x chip**: BP, DFA and PDFA steady cycles per iteration
   and the speed-ups against BP, as `accelsim compare` computes them.
"""

from __future__ import annotations

import argparse
import copy
import json
from pathlib import Path

import yaml

from accelsim.config.workload import load_workload
from accelsim.report.api import compare_point, run

ROOT = Path(__file__).resolve().parent.parent
ITERATIONS = None  # enough for each run's steady state (accelsim.sim.steady)
STALL_FREE_BYTES_PER_CYCLE = 1e12

MLP4 = {
    "name": "mlp4-mnist",
    "dataset": {"name": "mnist", "batch_size": 100},
    "layers": [
        {"name": "fc1", "type": "linear", "out_features": 512, "activation": "relu"},
        {"name": "fc2", "type": "linear", "out_features": 512, "activation": "relu"},
        {"name": "fc3", "type": "linear", "out_features": 512, "activation": "relu"},
        {"name": "fc4", "type": "linear", "out_features": 10},
    ],
    "training": {"optimizer": {"type": "sgd", "lr": 0.01, "momentum": 0.9}},
}


def stall_free(arch_path: Path) -> dict:
    """The chip of ``arch_path`` with memories that never stall (compute and schedule only)."""
    doc = copy.deepcopy(yaml.safe_load(arch_path.read_text()))
    doc["name"] = doc["name"] + "-stall-free"
    doc["global_buffer"] = {
        "size_kb": 1e9,
        "bandwidth_bytes_per_cycle": STALL_FREE_BYTES_PER_CYCLE,
    }
    dram = {k: v for k, v in doc.get("dram", {}).items() if k.startswith("energy")}
    dram["bandwidth_bytes_per_cycle"] = STALL_FREE_BYTES_PER_CYCLE
    doc["dram"] = dram
    return doc


def bound_row(label: str, arch, workload) -> dict:
    runs = {a: run(arch, workload, a, ITERATIONS) for a in ("bp", "dfa", "pdfa")}
    per_iter = {a: r.report["steady_state"]["cycles_per_iteration"] for a, r in runs.items()}
    pdfa = runs["pdfa"]
    n = pdfa.report["iterations"]
    busy = {u.name: pdfa.result.busy_cycles[i] / n for i, u in enumerate(pdfa.arch.units)}
    bound = max(busy.values())
    return {
        "case": label,
        "bp": per_iter["bp"],
        "dfa": per_iter["dfa"],
        "pdfa": per_iter["pdfa"],
        "pdfa_speedup": per_iter["bp"] / per_iter["pdfa"],
        "busy_per_iteration": busy,
        "resource_bound": bound,
        "pdfa_fraction_of_bound": bound / per_iter["pdfa"],
    }


def bounds() -> list[dict]:
    dflnpu = stall_free(ROOT / "arch_configs" / "dflnpu.yaml")
    return [
        bound_row("MDNet fc, batch 128", dflnpu, ROOT / "workloads" / "mdnet_online.yaml"),
        bound_row("MLP 784-512-512-512-10, batch 100", dflnpu, MLP4),
        bound_row(
            "strided CNN (cnn_mnist1d), batch 100", dflnpu, ROOT / "workloads" / "cnn_mnist1d.yaml"
        ),
    ]


def compare_all() -> list[dict]:
    rows = []
    for arch in sorted((ROOT / "arch_configs").glob("*.yaml")):
        for workload in sorted((ROOT / "workloads").glob("*.yaml")):
            if load_workload(workload).is_graph:  # not simulated yet
                continue
            doc = compare_point(arch, workload, ITERATIONS, algorithms=("bp", "dfa", "pdfa"))
            cycles = {
                a: r["steady_state"]["cycles_per_iteration"] for a, r in doc["results"].items()
            }
            rows.append(
                {
                    "arch": arch.stem,
                    "workload": workload.stem,
                    **{f"{a}_cycles": c for a, c in cycles.items()},
                    "dfa_speedup": doc["speedup_vs_bp"]["dfa"],
                    "pdfa_speedup": doc["speedup_vs_bp"]["pdfa"],
                }
            )
    return rows


def ascii_timeline(result) -> list[str]:
    """One line per unit, one character per cycle: the iteration holding the unit, or '.'."""
    length = result.result.cycles
    lines = []
    for u, unit in enumerate(result.arch.units):
        row = ["."] * length
        for r in result.result.runs:
            if r.unit == u:
                for c in range(int(r.start), int(r.end)):
                    row[c] = str(r.iteration % 10)
        lines.append(f"  {unit.name:<6} {''.join(row)}")
    return lines


def timelines() -> str:
    """PDFA with weight delay 1 and 0 on the tiny chip of tests/sim/test_engine_exact.py."""
    import sys

    sys.path.insert(0, str(ROOT / "tests" / "sim"))
    from test_engine_exact import ARCH, MLP

    lines = ["```"]
    for delay, words in (
        (1, "iteration 1's forward pass needs no update of iteration 0"),
        (0, "each forward pass waits for the previous update of its layer"),
    ):
        r = run(ARCH, MLP, "pdfa", 2, weight_delay=delay)
        lines.append(f"weight delay {delay} ({words}): {r.result.cycles} cycles")
        lines += ascii_timeline(r)
    lines.append("```")
    return "\n".join(lines)


def render(bound_rows: list[dict], compare_rows: list[dict]) -> str:
    lines = [
        "| case (stall-free memories, dflnpu) | BP cycles/it | PDFA cycles/it | PDFA speed-up "
        "| resource bound | PDFA / bound |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in bound_rows:
        lines.append(
            f"| {r['case']} | {r['bp']:,.0f} | {r['pdfa']:,.0f} | {r['pdfa_speedup']:.2f}x "
            f"| {r['resource_bound']:,.0f} | {100 * r['pdfa_fraction_of_bound']:.0f} % |"
        )
    lines += [
        "",
        "| chip | workload | BP cycles/it | DFA cycles/it | PDFA cycles/it | DFA speed-up "
        "| PDFA speed-up |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in compare_rows:
        lines.append(
            f"| {r['arch']} | {r['workload']} | {r['bp_cycles']:,.0f} | {r['dfa_cycles']:,.0f} "
            f"| {r['pdfa_cycles']:,.0f} | {r['dfa_speedup']:.2f}x | {r['pdfa_speedup']:.2f}x |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, default=None, help="write the figures as JSON")
    parser.add_argument("--write", action="store_true", help="update docs/validation.md")
    args = parser.parse_args()
    bound_rows, compare_rows = bounds(), compare_all()
    text = render(bound_rows, compare_rows)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"bounds": bound_rows, "compare": compare_rows}, indent=1))
    if args.write:
        from _common import write_section

        write_section(ROOT / "docs" / "validation.md", "schedule-model", text)
        write_section(ROOT / "docs" / "hardware-model.md", "pdfa-timeline", timelines())


if __name__ == "__main__":
    main()

"""Simulator speed and memory: one VGG-16 (CIFAR-10) training iteration, sweep points per second.

    python benchmarks/simulator.py            # print the figures
    python benchmarks/simulator.py --write    # also update docs/performance.md (simulator)
    python benchmarks/simulator.py --baseline-rev a51d080   # also time that commit, same run

Measures, in-process on this machine: the wall time of one VGG-16 training iteration (all
passes, bp/dfa/pdfa) on the dflnpu model; peak Python memory (tracemalloc) for MLPs whose
widths grow 64x at fixed depth (memory must stay flat while cycles grow) and whose depth grows;
and LeNet-on-dflnpu points per second through ``simulate_point`` (from files and from parsed
dicts, as a sweep passes them). SCALE-Sim 3.0.0 took about 0.8 s per forward layer here
(design.md section 9), so its time for VGG-16's 16 forward layers is taken as 16 x 0.8 s.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import yaml
from _common import write_section

from accelsim.report.api import simulate_point

ROOT = Path(__file__).resolve().parent.parent
DFLNPU = ROOT / "arch_configs" / "dflnpu.yaml"
VGG = ROOT / "workloads" / "vgg16_cifar10.yaml"
LENET = ROOT / "workloads" / "lenet_mnist.yaml"
# SCALE-Sim 3.0.0 needs numpy < 2, so it is not installed beside accelsim; its time is the
# recorded golden run (benchmarks/validate_scalesim.py, committed with its date)
SCALESIM_GOLDEN = ROOT / "tests" / "hw" / "golden" / "scalesim_3.0.0.json"
VGG_FORWARD_LAYERS = 16


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def mlp(width: int, depth: int) -> dict:
    layers = [
        {"name": f"fc{i}", "type": "linear", "out_features": width, "activation": "relu"}
        for i in range(depth - 1)
    ]
    layers.append({"name": "out", "type": "linear", "out_features": 10})
    return {
        "name": f"mlp{width}x{depth}",
        "layers": layers,
        "dataset": {"input_shape": [width], "num_classes": 10, "batch_size": 64},
    }


def peak_memory(workload: dict) -> tuple[float, int]:
    simulate_point(DFLNPU, workload, "pdfa", 2)  # warm caches and imports
    tracemalloc.start()
    doc = simulate_point(DFLNPU, workload, "pdfa", 2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20, doc["cycles"]


VGG_TIMING = """
import json, sys, time
from accelsim.report.api import simulate_point
arch, vgg = sys.argv[1], sys.argv[2]
simulate_point(arch, vgg, "bp", 1)
out = {}
for a in ("bp", "dfa", "pdfa"):
    times = []
    for _ in range(5):
        t = time.perf_counter()
        simulate_point(arch, vgg, a, 1)
        times.append(time.perf_counter() - t)
    out[a] = min(times)
print(json.dumps(out))
"""


def vgg_times(source: Path) -> dict[str, float]:
    """Best-of-5 wall time of one VGG-16 iteration per schedule, with the code in ``source``."""
    done = subprocess.run(
        [sys.executable, "-c", VGG_TIMING, str(DFLNPU), str(VGG)],
        env={**os.environ, "PYTHONPATH": str(source)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


def baseline_times(rev: str) -> dict[str, float]:
    """VGG-16 iteration times of the code at git revision ``rev`` (a temporary worktree)."""
    with tempfile.TemporaryDirectory() as tmp:
        tree = Path(tmp) / "tree"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), rev],
            check=True,
            capture_output=True,
        )
        try:
            return vgg_times(tree)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                check=True,
                capture_output=True,
            )


def measure(baseline_rev: str | None = None) -> dict:
    out: dict = {}
    simulate_point(DFLNPU, VGG, "bp", 1)  # imports and caches
    for algorithm in ("bp", "dfa", "pdfa"):
        out[f"vgg_{algorithm}_s"] = best_of(
            lambda a=algorithm: simulate_point(DFLNPU, VGG, a, 1), 5
        )
    out["vgg_pdfa_steady_s"] = best_of(lambda: simulate_point(DFLNPU, VGG, "pdfa"), 3)
    out["vgg_pdfa_steady_iterations"] = simulate_point(DFLNPU, VGG, "pdfa")["iterations"]
    if baseline_rev:
        out["baseline_rev"] = baseline_rev
        out["baseline"] = baseline_times(baseline_rev)
        out["current"] = vgg_times(ROOT)
    golden = json.loads(SCALESIM_GOLDEN.read_text())
    seconds = sum(r["seconds"] for r in golden["runs"])
    layers = sum(len(r["layers"]) for r in golden["runs"])
    out["scalesim_s_per_layer"] = seconds / layers
    out["scalesim_recorded"] = (seconds, layers, golden["versions"])
    out["scalesim_vgg_forward_s"] = out["scalesim_s_per_layer"] * VGG_FORWARD_LAYERS
    out["width"] = [(w, *peak_memory(mlp(w, 8))) for w in (64, 512, 4096)]
    out["depth"] = [(d, *peak_memory(mlp(256, d))) for d in (8, 32, 128)]
    arch = yaml.safe_load(DFLNPU.read_text())
    lenet = yaml.safe_load(LENET.read_text())
    n = 200
    per_file = [best_of(lambda: simulate_point(DFLNPU, LENET, "dfa"), 1) for _ in range(n)]
    per_dict = [best_of(lambda: simulate_point(arch, lenet, "dfa"), 1) for _ in range(n)]
    out["lenet_points_per_s_files"] = 1 / statistics.median(per_file)
    out["lenet_points_per_s_dicts"] = 1 / statistics.median(per_dict)
    out["lenet_ms_dicts"] = 1000 * statistics.median(per_dict)
    return out


def report(m: dict) -> str:
    best = min(m["vgg_bp_s"], m["vgg_dfa_s"], m["vgg_pdfa_s"])
    worst = max(m["vgg_bp_s"], m["vgg_dfa_s"], m["vgg_pdfa_s"])
    lines = [
        "One VGG-16 (CIFAR-10, batch 64) training iteration on `arch_configs/dflnpu.yaml`, all "
        "passes, in-process (best of 5):",
        "",
        "| schedule | wall time |",
        "|---|---|",
        *(f"| {a} | {1000 * m[f'vgg_{a}_s']:.0f} ms |" for a in ("bp", "dfa", "pdfa")),
        "",
        f"`simulate -a pdfa` with the default iterations (enough for a steady state: "
        f"{m['vgg_pdfa_steady_iterations']} iterations) takes "
        f"{1000 * m['vgg_pdfa_steady_s']:.0f} ms.",
        "",
        *_baseline_lines(m),
        "SCALE-Sim 3.0.0 is not installed beside accelsim (it needs numpy < 2); its recorded "
        f"golden run ({m['scalesim_recorded'][2]}; `tests/hw/golden/scalesim_3.0.0.json`, "
        "committed 2026-11-28, this project's 2-core machine) took "
        f"{m['scalesim_recorded'][0]:.0f} s for {m['scalesim_recorded'][1]} layers, "
        f"{m['scalesim_s_per_layer']:.1f} s per layer on average. At that average VGG-16's "
        f"{VGG_FORWARD_LAYERS} forward layers would take about "
        f"{m['scalesim_vgg_forward_s']:.0f} s, which would make accelsim's whole iteration "
        f"{m['scalesim_vgg_forward_s'] / worst:.0f}-{m['scalesim_vgg_forward_s'] / best:.0f}x "
        "faster; this is an extrapolation, not a measurement (SCALE-Sim's time grows with a "
        "layer's cycles; measure it with `benchmarks/validate_scalesim.py --scalesim-python`).",
        "",
        "Peak Python memory (tracemalloc) of a 2-iteration pdfa simulation, MLP batch 64:",
        "",
        "| network | cycles simulated | peak memory |",
        "|---|---|---|",
        *(f"| width {w}, depth 8 | {c:,} | {mb:.2f} MiB |" for w, mb, c in m["width"]),
        *(f"| width 256, depth {d} | {c:,} | {mb:.2f} MiB |" for d, mb, c in m["depth"]),
        "",
        "Memory does not depend on layer sizes or cycle counts (events are tasks, not cycles); it "
        "grows linearly with the number of layers (tasks and trace records).",
        "",
        f"Sweep throughput, LeNet-5 on dflnpu through `simulate_point` (median of 200): "
        f"{m['lenet_points_per_s_files']:.0f} points/s from YAML files, "
        f"{m['lenet_points_per_s_dicts']:.0f} points/s from parsed dicts "
        f"({m['lenet_ms_dicts']:.1f} ms per point); a thousand-point sweep takes about "
        f"{1000 / m['lenet_points_per_s_dicts']:.0f} s on one core.",
    ]
    return "\n".join(lines)


def _baseline_lines(m: dict) -> list[str]:
    if "baseline" not in m:
        return []
    rows = [
        f"| {a} | {1000 * m['baseline'][a]:.1f} ms | {1000 * m['current'][a]:.1f} ms "
        f"| {m['current'][a] / m['baseline'][a]:.2f}x |"
        for a in ("bp", "dfa", "pdfa")
    ]
    return [
        f"Against commit `{m['baseline_rev']}` in the same run (fresh processes, best of 5, one "
        "iteration):",
        "",
        "| schedule | before | now | now / before |",
        "|---|---|---|---|",
        *rows,
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/performance.md")
    parser.add_argument("--baseline-rev", default=None, help="also time this git revision")
    args = parser.parse_args()
    text = report(measure(args.baseline_rev))
    print(text)
    if args.write:
        flag = f" --baseline-rev {args.baseline_rev}" if args.baseline_rev else ""
        body = f"Measured with `python benchmarks/simulator.py --write{flag}`.\n\n{text}"
        write_section(ROOT / "docs" / "performance.md", "simulator", body)


if __name__ == "__main__":
    main()

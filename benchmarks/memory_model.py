"""The memory model on every shipped chip and workload, and the properties issue 10 measures.

    python benchmarks/memory_model.py            # print the tables
    python benchmarks/memory_model.py --write    # also update docs/hardware-model.md

1. Per chip x workload (BP, steady state): DRAM bytes per iteration against the compulsory
   traffic, the chosen staging/resident split of the global buffer and each tensor class's
   residency.
2. LeNet-5 BP on dflnpu over global-buffer sizes 64..1024 KB (non-increasing traffic, never
   below compulsory).
3. LeNet-5 and MDNet BP on dflnpu at 100 and 200 MHz (DRAM in GB/s does not speed up with
   the core clock).
4. LeNet-5 BP on dflnpu with plain SGD, SGD with momentum and Adam.
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import yaml

from accelsim.config.workload import load_workload
from accelsim.report.api import simulate_point

ROOT = Path(__file__).resolve().parent.parent
CHIPS = sorted((ROOT / "arch_configs").glob("*.yaml"))
# graph workloads (batchnorm, add, ...) are not simulated yet
WORKLOADS = [
    path for path in sorted((ROOT / "workloads").glob("*.yaml")) if not load_workload(path).is_graph
]
DFLNPU = ROOT / "arch_configs" / "dflnpu.yaml"
LENET = ROOT / "workloads" / "lenet_mnist.yaml"
MDNET = ROOT / "workloads" / "mdnet_online.yaml"
SHORT = {"resident": "R", "partly": "P", "spilled": "S"}


def per_chip() -> list[str]:
    lines = [
        "| chip | workload | DRAM MB/it | compulsory MB/it | ratio | staging KB | residency "
        "(R resident, P partly, S spilled) |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for chip in CHIPS:
        for workload in WORKLOADS:
            doc = simulate_point(chip, workload, "bp")
            mem = doc["memory"]
            traffic = doc["steady_state"]["dram_bytes_per_iteration"]
            compulsory = mem["compulsory_dram_bytes_per_iteration"]
            classes = ", ".join(
                f"{cls} {SHORT[row['status']]}" for cls, row in sorted(mem["residency"].items())
            )
            lines.append(
                f"| {chip.stem} | {workload.stem} | {traffic / 1e6:.3f} | {compulsory / 1e6:.3f} "
                f"| {traffic / compulsory:.2f} | {mem['staging_kb']:.0f} | {classes} |"
            )
    return lines


def gb_sweep(arch: dict) -> list[str]:
    lines = ["| GB KB | DRAM MB/it | compulsory MB/it | staging KB |", "|---:|---:|---:|---:|"]
    for kb in (64, 128, 192, 256, 384, 512, 768, 1024):
        chip = copy.deepcopy(arch)
        chip["global_buffer"]["size_kb"] = kb
        doc = simulate_point(chip, LENET, "bp")
        mem = doc["memory"]
        lines.append(
            f"| {kb} | {doc['dram_bytes'] / 1e6:.3f} | "
            f"{mem['compulsory_dram_bytes_per_iteration'] / 1e6:.3f} | {mem['staging_kb']:.0f} |"
        )
    return lines


def clocks(arch: dict) -> list[str]:
    lines = [
        "| workload | latency at 100 MHz | at 200 MHz | ratio | stalled cycles at 200 MHz |",
        "|---|---:|---:|---:|---:|",
    ]
    for workload in (LENET, MDNET):
        docs = {}
        for mhz in (100, 200):
            docs[mhz] = simulate_point({**arch, "clock_mhz": mhz}, workload, "bp", 1)
        slow, fast = docs[100], docs[200]
        lines.append(
            f"| {workload.stem} | {1e3 * slow['latency_s']:.2f} ms | "
            f"{1e3 * fast['latency_s']:.2f} ms | {fast['latency_s'] / slow['latency_s']:.3f} | "
            f"{fast['stall_cycles']:,.0f} of {fast['cycles']:,} |"
        )
    return lines


def optimizers(arch: dict) -> list[str]:
    lines = ["| optimizer | DRAM MB/it | energy mJ/it |", "|---|---:|---:|"]
    base = yaml.safe_load(LENET.read_text())
    for label, spec in (
        ("SGD", {"type": "sgd", "lr": 0.01, "momentum": 0.0}),
        ("SGD + momentum", {"type": "sgd", "lr": 0.01, "momentum": 0.9}),
        ("Adam", {"type": "adam", "lr": 0.001}),
    ):
        workload = copy.deepcopy(base)
        workload["training"]["optimizer"] = spec
        doc = simulate_point(arch, workload, "bp")
        lines.append(f"| {label} | {doc['dram_bytes'] / 1e6:.3f} | {doc['energy_pj'] / 1e9:.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/hardware-model.md")
    args = parser.parse_args()
    arch = yaml.safe_load(DFLNPU.read_text())
    blocks = [
        "BP per steady iteration on every shipped chip and workload:",
        "",
        *per_chip(),
        "",
        "LeNet-5 (batch 64, Adam) BP on dflnpu over global-buffer sizes:",
        "",
        *gb_sweep(arch),
        "",
        "BP on dflnpu at two core clocks (DRAM 1.6 GB/s either way; ratio 0.5 = all compute):",
        "",
        *clocks(arch),
        "",
        "LeNet-5 BP on dflnpu by optimizer (state: none, one velocity, Adam's m and v):",
        "",
        *optimizers(arch),
    ]
    text = "\n".join(blocks)
    print(text)
    if args.write:
        from _common import write_section

        write_section(ROOT / "docs" / "hardware-model.md", "memory-model", text)


if __name__ == "__main__":
    main()

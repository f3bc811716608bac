"""Run DF-LNPU's published comparisons on our dflnpu model and report where each lands.

Published (Han, Lee, Yoo, JSSC 2021, abstract): pipelined DFA learns 1.75-3.05x faster than
earlier processors; inter- and intra-core pipelining cuts processing time by 42.8-68.4 %;
PRNG-generated B cuts external memory access by 42.8 %; the binarized adder-only error core
improves energy efficiency by 14.3 %. Nothing here is tuned to those numbers: the chips are
arch_configs/dflnpu.yaml and arch_configs/bp_baseline.yaml as committed.

    python benchmarks/validate_dflnpu.py            # print the table
    python benchmarks/validate_dflnpu.py --write    # also update docs/validation.md
"""

from __future__ import annotations

import argparse
import copy
from pathlib import Path

import yaml
from _common import write_section

from accelsim.hw.cost import COMPONENTS, task_cost
from accelsim.report.api import run, simulate_point

ROOT = Path(__file__).resolve().parent.parent
DFLNPU = ROOT / "arch_configs" / "dflnpu.yaml"
BASELINE = ROOT / "arch_configs" / "bp_baseline.yaml"
WORKLOADS = (
    ("LeNet-5 MNIST, batch 1 (online, SGD)", ROOT / "workloads" / "lenet_mnist_online.yaml", None),
    ("LeNet-5 MNIST, batch 32 (Adam)", ROOT / "workloads" / "lenet_mnist.yaml", None),
    ("VGG-16 CIFAR-10, batch 1 (SGD)", ROOT / "workloads" / "vgg16_cifar10.yaml", 1),
)
ITERATIONS = None  # enough for each run's steady state (accelsim.sim.steady)

EXPLANATION = """\
Regenerate with `python benchmarks/validate_dflnpu.py --write`. The chips are
`arch_configs/dflnpu.yaml` and `arch_configs/bp_baseline.yaml` as committed (nothing tuned to
the published numbers); figures per steady-state iteration (each run long enough to reach
it). Published numbers: Han, Lee, Yoo, JSSC 2021 (abstract).

{table}

Where and why the model lands where it does (the memory model v2 and the schedule model v2
moved every figure here; docs/hardware-model.md sections 2 and 5):

- **Memory no longer hides the pipeline.** With per-tensor residency, a tiling search per GEMM
  and fused gradient updates, LeNet-5's traffic fits the 1.6 GB/s port (assumed) with few
  stalls, so PDFA's overlap of the next forward pass with the current backward pass (weight
  delay 1) shows in the processing-time cut. VGG-16 at batch 1 stays DRAM-bound: its weights
  and optimizer state stream from DRAM every iteration whatever the schedule.
- **Dense DFA feedback onto conv outputs is expensive on a small error core.** With the default
  dense feedback, `B_l e` for LeNet's conv1 produces 4704 outputs per sample; on the 8x8
  output-stationary DEPC at batch 1 a GEMM with M = 1 uses one array row, so the
  non-pipelined DFA is slower than BP there; pipelining then hides the DEPC behind the next
  forward pass. DF-LNPU's tracking workload trains fully connected layers online, where DFA's
  projections are small; our LeNet/VGG runs train every conv layer.
- **The 1.75-3.05x is against earlier processors, not the same chip.** Our closest stand-in is
  the equal-area homogeneous BP array (bp_baseline.yaml). Intra-core pipelining (DF-LNPU's
  11-stage datapath) is below our task-level granularity.
- **External memory access.** PRNG-generated B removes B's DRAM traffic; how much that saves
  depends on what else crosses the DRAM port. At batch 1 LeNet-5's weights stay on chip and
  16-bit dense B would be most of the traffic; at batch 32 and on VGG-16 activations and
  weights dominate.
- **Adder-only error core.** Replacing a 16-bit MAC by a 32-bit add cuts the error core's
  compute energy by ~6-8x in the Horowitz table, far more than +14.3 %; but the error
  projection is a small part of the whole chip's energy, so the chip-level gain stays under
  1 %. The paper's +14.3 % is a chip-level figure with a different energy mix (on-chip memory
  and datapath overheads we do not model per core).
"""


def steady(doc: dict, key: str = "cycles_per_iteration") -> float:
    return doc["steady_state"][key]


def with_feedback(chip: dict, **feedback) -> dict:
    data = copy.deepcopy(chip)
    for unit in data["units"]:
        if "feedback" in unit:
            unit["feedback"] = {**unit["feedback"], **feedback}
    return data


def dfa_point(chip: dict, workload: Path, batch: int | None, **feedback) -> dict:
    """The DFA simulation of workload on chip with its feedback settings changed."""
    return simulate_point(
        with_feedback(chip, **feedback), workload, "dfa", ITERATIONS, batch_size=batch
    )


def depc_energy(chip: dict, workload: Path, batch: int | None) -> float:
    """Energy of the error projections alone (compute + feedback), first iteration."""
    r = run(chip, workload, "dfa", batch_size=batch)
    total = 0.0
    for done in r.result.runs:
        task = r.graph.tasks[done.task]
        if task.kind == "dfa_ep":
            cost = task_cost(task, r.arch.units[done.unit], r.model)
            total += cost.energy_pj[COMPONENTS.index("compute")]
            total += cost.energy_pj[COMPONENTS.index("feedback")]
    return total


def measure() -> list[dict]:
    chip = yaml.safe_load(DFLNPU.read_text())
    rows = []
    for label, workload, batch in WORKLOADS:
        point = {}
        for name, arch, algorithm in (
            ("pdfa", chip, "pdfa"),
            ("dfa", chip, "dfa"),
            ("bp_same_chip", chip, "bp"),
            ("bp_baseline", str(BASELINE), "bp"),
        ):
            point[name] = simulate_point(arch, workload, algorithm, ITERATIONS, batch_size=batch)
        prng = point["dfa"]
        stored16 = dfa_point(chip, workload, batch, source="dram", bits=16)
        stored1 = dfa_point(chip, workload, batch, source="dram", bits=1)
        mac16 = dfa_point(chip, workload, batch, bits=16)
        rows.append(
            {
                "workload": label,
                "speedup_vs_baseline": steady(point["bp_baseline"]) / steady(point["pdfa"]),
                "speedup_vs_same_chip_bp": steady(point["bp_same_chip"]) / steady(point["pdfa"]),
                "time_cut_vs_bp": 1 - steady(point["pdfa"]) / steady(point["bp_same_chip"]),
                "time_cut_vs_dfa": 1 - steady(point["pdfa"]) / steady(point["dfa"]),
                "ema_cut_vs_16b": 1
                - steady(prng, "dram_bytes_per_iteration")
                / steady(stored16, "dram_bytes_per_iteration"),
                "ema_cut_vs_1b": 1
                - steady(prng, "dram_bytes_per_iteration")
                / steady(stored1, "dram_bytes_per_iteration"),
                "chip_eff_gain": steady(mac16, "energy_pj_per_iteration")
                / steady(prng, "energy_pj_per_iteration")
                - 1,
                "depc_eff_gain": depc_energy(with_feedback(chip, bits=16), workload, batch)
                / depc_energy(chip, workload, batch)
                - 1,
                "dram_share_bp": point["bp_same_chip"]["energy_breakdown_pj"]["dram"]
                / point["bp_same_chip"]["energy_pj"],
                "stall_share_pdfa": point["pdfa"]["stall_cycles"]
                / (point["pdfa"]["cycles"] * len(point["pdfa"]["utilization"])),
            }
        )
    return rows


def table(rows: list[dict]) -> str:
    def pct(x):
        return f"{100 * x:.1f} %"

    def times(x):
        return f"{x:.2f}x"

    def gain(x):
        return "+" + pct(x)

    # (comparison, published figure, key in each row, how to show it)
    comparisons = [
        (
            "PDFA speedup vs homogeneous BP chip (bp_baseline.yaml, BP)",
            "1.75-3.05x",
            "speedup_vs_baseline",
            times,
        ),
        (
            "PDFA speedup vs BP on the same chip",
            "(not published)",
            "speedup_vs_same_chip_bp",
            times,
        ),
        ("processing-time cut, PDFA vs BP on the same chip", "42.8-68.4 %", "time_cut_vs_bp", pct),
        (
            "processing-time cut, PDFA vs non-pipelined DFA",
            "(part of the above)",
            "time_cut_vs_dfa",
            pct,
        ),
        ("external-memory-access cut, PRNG B vs B in DRAM (16 b)", "42.8 %", "ema_cut_vs_16b", pct),
        ("external-memory-access cut, PRNG B vs B in DRAM (1 b)", "42.8 %", "ema_cut_vs_1b", pct),
        (
            "energy-efficiency gain, binarized adder-only EP (whole chip)",
            "+14.3 %",
            "chip_eff_gain",
            gain,
        ),
        (
            "energy-efficiency gain, binarized adder-only EP (error core only)",
            "+14.3 %",
            "depc_eff_gain",
            gain,
        ),
    ]
    lines = [
        "| comparison | published | " + " | ".join(r["workload"] for r in rows) + " |",
        "|---|---|" + "---|" * len(rows),
    ]
    for label, published, key, show in comparisons:
        lines.append(f"| {label} | {published} | " + " | ".join(show(r[key]) for r in rows) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/validation.md")
    args = parser.parse_args()
    rows = measure()
    text = table(rows)
    print(text)
    if args.write:
        body = EXPLANATION.replace("{table}", text)
        write_section(ROOT / "docs" / "validation.md", "dflnpu", body.strip())


if __name__ == "__main__":
    main()

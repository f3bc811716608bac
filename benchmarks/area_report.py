"""The area model (accelsim/hw/area.py) on every shipped chip, and the DEPC's area efficiency.

    python benchmarks/area_report.py            # print the tables
    python benchmarks/area_report.py --write    # also update docs/area.md and docs/simulate.md

1. Per chip: area of each part at the chip's node and the total.
2. The node^2 rule for SRAM against CACTI's own area at 65, 32 and 22 nm.
3. DF-LNPU's direct error-propagation core (DEPC, 8x8, binarized B, adder-only) against the same
   core with 16-bit MAC PEs, at equal throughput: array, core (with its buffers) and chip.
4. The equal-area compare example of docs/simulate.md (dflnpu vs bp_baseline on MDNet's fc
   layers), run through the real CLI.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from _common import write_section

from accelsim.config.arch import load_arch
from accelsim.hw import area as A
from accelsim.hw.energy import SRAM_CACTI

ROOT = Path(__file__).resolve().parent.parent
CHIPS = sorted((ROOT / "arch_configs").glob("*.yaml"))
DFLNPU = ROOT / "arch_configs" / "dflnpu.yaml"
PREDECESSOR_MM2 = 3.52  # Han, Lee, Lee, Yoo, IEEE TCAS-I vol. 66, 2019: 65 nm, 3.52 mm^2
PAPER_GAIN = 0.35  # DF-LNPU (JSSC 2021): +35.0 % area efficiency from the adder-only DEPC
EXAMPLE = (
    "accelsim compare arch_configs/dflnpu.yaml workloads/mdnet_online.yaml "
    "--equal-area arch_configs/bp_baseline.yaml"
)


def chips_table() -> list[str]:
    lines = [
        "| chip | node | PEs + lanes | PE and lane datapaths mm2 | PE-array SRAM mm2 "
        "| global buffer mm2 | PRNG mm2 | total mm2 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for path in CHIPS:
        area = A.chip_area(load_arch(path))
        datapath = sum(u.datapath_mm2 for u in area.units)
        sram = sum(u.buffers_mm2 + u.feedback_sram_mm2 for u in area.units)
        prng = sum(u.prng_mm2 for u in area.units)
        pes = sum(u.pes for u in area.units)
        lines.append(
            f"| {path.stem} | {area.node_nm:g} nm | {pes:,} | {datapath:.3f} | {sram:.3f} "
            f"| {area.global_buffer_mm2:.3f} | {prng:.4f} | **{area.total_mm2:.3f}** |"
        )
    lines += ["", "Per part (`area_breakdown_mm2`), and one PE (or lane) at the chip's node:", ""]
    for path in CHIPS:
        area = A.chip_area(load_arch(path))
        parts = ", ".join(f"`{k}` {v:.4f}" for k, v in area.breakdown().items())
        pes = ", ".join(f"{u.name} {u.datapath} {u.pe_um2:,.0f} um2" for u in area.units)
        lines.append(f"- `{path.stem}`: {parts}. PEs: {pes}.")
    return lines


def sram_check() -> list[str]:
    """CACTI's median area per KB at each node against the 45 nm median scaled by node^2."""
    lines = [
        "| node | CACTI lstp mm2/MB (median, range over 8 KB-1 MB) | 45 nm x (node/45)^2 "
        "| rule / CACTI |",
        "|---:|---|---:|---:|",
    ]
    ref = A.SRAM_MM2_PER_KB["lstp"] * 1024
    for node in (65, 45, 32, 22):
        pts = sorted(
            r["area_mm2"] / r["size_kb"] * 1024
            for r in SRAM_CACTI["rows"]
            if r["node_nm"] == node and r["cells"] == "lstp"
        )
        median = (pts[(len(pts) - 1) // 2] + pts[len(pts) // 2]) / 2
        rule = ref * A.node_area_scale(node)
        lines.append(
            f"| {node} nm | {median:.2f} ({pts[0]:.2f}-{pts[-1]:.2f}) | {rule:.2f} "
            f"| {rule / median:.2f} |"
        )
    return lines


def depc() -> list[str]:
    arch = load_arch(DFLNPU)
    c = A.depc_comparison(arch, "depc")
    n = c.pes_for_chip_gain(PAPER_GAIN)
    b = arch.unit("depc").buffers
    kb = b.ifmap_kb + b.weight_kb + b.ofmap_kb
    side = n**0.5
    return [
        f"DEPC: {c.pes} PEs; one adder-only PE {c.adder_pe_um2:,.0f} um2, one 16-bit MAC PE "
        f"{c.mac_pe_um2:,.0f} um2 at 65 nm (ratio {c.mac_pe_um2 / c.adder_pe_um2:.2f}).",
        "",
        "| scope (equal throughput: same PEs, same cycles) | adder-only mm2 | with MAC PEs mm2 "
        "| area-efficiency gain |",
        "|---|---:|---:|---:|",
        f"| PE array | {c.adder_array_mm2:.4f} | {c.mac_array_mm2:.4f} | "
        f"+{100 * c.array_gain:.0f} % |",
        f"| DEPC with its {kb:g} KB of buffers and its PRNG "
        f"| {c.adder_array_mm2 + c.buffers_mm2:.4f} | "
        f"{c.mac_array_mm2 + c.buffers_mm2:.4f} | +{100 * c.unit_gain:.0f} % |",
        f"| whole chip | {c.chip_adder_mm2:.3f} | {c.chip_mac_mm2:.3f} | "
        f"+{100 * c.chip_gain:.1f} % |",
        "",
        f"The DEPC (array, buffers, PRNG) is {100 * c.unit_fraction_of_chip:.1f} % of the "
        f"chip's modelled area; its PE array alone is "
        f"{100 * c.adder_array_mm2 / c.chip_adder_mm2:.1f} %. A chip-level "
        f"+{100 * PAPER_GAIN:.0f} % would need, with every other part as modelled, an adder-only "
        f"array of about {n:,.0f} PEs ({side:.0f} x {side:.0f}) instead of {c.pes}.",
    ]


def predecessor() -> list[str]:
    area = A.chip_area(load_arch(DFLNPU))
    logic = sum(u.datapath_mm2 + u.prng_mm2 for u in area.units)
    sram = area.total_mm2 - logic
    return [
        f"`dflnpu` model: {area.total_mm2:.2f} mm2 = {logic:.2f} mm2 of PEs, lanes and PRNG + "
        f"{sram:.2f} mm2 of SRAM ({100 * sram / area.total_mm2:.0f} %); "
        f"the TCAS-I'19 predecessor: {PREDECESSOR_MM2:.2f} mm2 "
        f"(model / chip = {area.total_mm2 / PREDECESSOR_MM2:.2f}). With the same PEs, the model "
        f"matches 3.52 mm2 with {(area.total_mm2 - PREDECESSOR_MM2) / area.sram_mm2_per_kb:.0f} "
        f"KB less SRAM (of {sram / area.sram_mm2_per_kb:.0f} KB).",
    ]


def example() -> str:
    argv = EXAMPLE.split()[1:]
    done = subprocess.run(
        [sys.executable, "-m", "accelsim", *argv],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return f"```\n$ {EXAMPLE}\n{done.stdout.rstrip()}\n```"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/area.md, simulate.md")
    args = parser.parse_args()
    sections = {
        "Area per chip": chips_table(),
        "SRAM: the node^2 rule against CACTI": sram_check(),
        "DF-LNPU against its TCAS-I'19 predecessor": predecessor(),
        "Adder-only DEPC against a MAC DEPC": depc(),
    }
    body = "\n\n".join(f"**{title}**\n\n" + "\n".join(lines) for title, lines in sections.items())
    body = "Generated by `python benchmarks/area_report.py --write`.\n\n" + body
    shown = example()
    print(body)
    print()
    print(shown)
    if args.write:
        write_section(ROOT / "docs" / "area.md", "area", body)
        write_section(ROOT / "docs" / "simulate.md", "example-equal-area", shown)


if __name__ == "__main__":
    main()

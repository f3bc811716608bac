"""DF-LNPU validation: the chip's own workload, the published ratios, provenance and sensitivity.

Published (Han, Lee, Yoo, JSSC 2021, abstract): pipelined DFA (PDFA) learns 1.75-3.05x faster;
pipelining cuts learning time by 42.8-68.4 %; PRNG-generated binarized B cuts external memory
access (EMA) by 42.8 %; the adder-only binarized error core (DEPC) gives +14.3 % energy
efficiency. Nothing here is tuned to those numbers: the chips are arch_configs/dflnpu.yaml and
arch_configs/bp_baseline.yaml as committed.

    python benchmarks/validate_dflnpu.py            # print the report
    python benchmarks/validate_dflnpu.py --write    # also update docs/validation.md

The report has four parts, every figure computed here:

1. the headline ratios on MDNet's online-learning fc layers (workloads/mdnet_online.yaml, the
   workload DF-LNPU was built for) and on LeNet-5 online learning, against the published ones;
2. the reading of the 1.75-3.05x band (is it the same-chip pipelining ablation?);
3. the provenance of every chip parameter, read from the comments of dflnpu.yaml
   (paper / derived / assumed / a cited source);
4. a sensitivity table: each MDNet ratio with each assumed numeric parameter halved and doubled.
"""

from __future__ import annotations

import argparse
import copy
import re
from pathlib import Path

import yaml
from _common import write_section

from accelsim.config.errors import ConfigError
from accelsim.hw.cost import COMPONENTS, task_cost
from accelsim.report.api import run, simulate_point

ROOT = Path(__file__).resolve().parent.parent
DFLNPU = ROOT / "arch_configs" / "dflnpu.yaml"
BASELINE = ROOT / "arch_configs" / "bp_baseline.yaml"
MDNET = (
    "MDNet fc layers, batch 128 (online, SGD + momentum)",
    ROOT / "workloads" / "mdnet_online.yaml",
)
LENET = ("LeNet-5 MNIST, batch 1 (online, SGD)", ROOT / "workloads" / "lenet_mnist_online.yaml")
PUBLISHED = {
    "speedup": (1.75, 3.05),  # "1.75-3.05x faster learning"
    "time_cut": (0.428, 0.684),  # "pipelining cuts learning time by 42.8-68.4 %"
    "ema_cut": (0.428, 0.428),  # "PRNG ... reduces external memory access by 42.8 %"
    "energy_gain": (0.143, 0.143),  # "binarized DEPC ... 14.3 % higher energy efficiency"
}


def steady(doc: dict, key: str = "cycles_per_iteration") -> float:
    return doc["steady_state"][key]


def with_feedback(chip: dict, **feedback) -> dict:
    data = copy.deepcopy(chip)
    for unit in data["units"]:
        if "feedback" in unit:
            unit["feedback"] = {**unit["feedback"], **feedback}
    return data


def depc_energy(chip: dict, workload: Path) -> float:
    """Energy of the error projections alone (compute + feedback), first iteration."""
    r = run(chip, workload, "dfa", 1)
    total = 0.0
    for done in r.result.runs:
        task = r.graph.tasks[done.task]
        if task.kind == "dfa_ep":
            cost = task_cost(task, r.arch.units[done.unit], r.model)
            total += cost.energy_pj[COMPONENTS.index("compute")]
            total += cost.energy_pj[COMPONENTS.index("feedback")]
    return total


def ratios(chip: dict, workload: Path, baseline: dict | str | None = None) -> dict:
    """The published comparisons on one chip and workload (fractions and speed-ups)."""
    pdfa = simulate_point(chip, workload, "pdfa")
    dfa = simulate_point(chip, workload, "dfa")
    bp = simulate_point(chip, workload, "bp")
    stored16 = simulate_point(with_feedback(chip, source="dram", bits=16), workload, "dfa")
    mac16 = simulate_point(with_feedback(chip, bits=16), workload, "dfa")
    out = {
        "speedup_same_chip_bp": steady(bp) / steady(pdfa),
        "speedup_over_dfa": steady(dfa) / steady(pdfa),
        "time_cut_vs_bp": 1 - steady(pdfa) / steady(bp),
        "time_cut_vs_dfa": 1 - steady(pdfa) / steady(dfa),
        "ema_cut": 1
        - steady(dfa, "dram_bytes_per_iteration") / steady(stored16, "dram_bytes_per_iteration"),
        "chip_energy_gain": steady(mac16, "energy_pj_per_iteration")
        / steady(dfa, "energy_pj_per_iteration")
        - 1,
        "depc_energy_gain": depc_energy(with_feedback(chip, bits=16), workload)
        / depc_energy(chip, workload)
        - 1,
        "stall_share_bp": bp["stall_cycles"] / (bp["cycles"] * len(bp["utilization"])),
        "dram_share_bp": bp["energy_breakdown_pj"]["dram"] / bp["energy_pj"],
    }
    if baseline is not None:
        base = simulate_point(baseline, workload, "bp")
        out["speedup_vs_baseline"] = steady(base) / steady(pdfa)
    return out


HEADLINES = (
    # (label, published key, key, format)
    (
        "PDFA vs BP on a homogeneous BP chip (bp_baseline.yaml)",
        "speedup",
        "speedup_vs_baseline",
        "x",
    ),
    ("PDFA vs BP on the same chip", "speedup", "speedup_same_chip_bp", "x"),
    ("PDFA vs non-pipelined DFA on the same chip", "speedup", "speedup_over_dfa", "x"),
    ("learning-time cut, PDFA vs BP on the same chip", "time_cut", "time_cut_vs_bp", "%"),
    ("learning-time cut, PDFA vs non-pipelined DFA", "time_cut", "time_cut_vs_dfa", "%"),
    ("EMA cut, PRNG B vs 16-bit B in DRAM (DFA)", "ema_cut", "ema_cut", "%"),
    (
        "energy-efficiency gain, adder-only DEPC (whole chip)",
        "energy_gain",
        "chip_energy_gain",
        "%",
    ),
    (
        "energy-efficiency gain, adder-only DEPC (error core only)",
        "energy_gain",
        "depc_energy_gain",
        "%",
    ),
)


def show(value: float, unit: str) -> str:
    return f"{value:.2f}x" if unit == "x" else f"{100 * value:.1f} %"


def published(key: str, unit: str) -> str:
    lo, hi = PUBLISHED[key]
    if lo == hi:
        return show(lo, unit)
    return (
        f"{show(lo, unit)}-{show(hi, unit)}" if unit == "x" else f"{100 * lo:.1f}-{show(hi, unit)}"
    )


def inside(value: float, key: str) -> str:
    lo, hi = PUBLISHED[key]
    if lo == hi:
        return (
            "within 5 %" if abs(value - lo) <= 0.05 * lo else ("above" if value > lo else "below")
        )
    return "inside" if lo <= value <= hi else ("above" if value > hi else "below")


def headline_table(results: dict[str, dict]) -> str:
    names = list(results)
    lines = [
        "| comparison | published | " + " | ".join(names) + " |",
        "|---|---|" + "---|" * len(names),
    ]
    for label, pub, key, unit in HEADLINES:
        cells = [
            f"{show(r[key], unit)} ({inside(r[key], pub)})" if key in r else "-"
            for r in results.values()
        ]
        lines.append(f"| {label} | {published(pub, unit)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def band_reading() -> str:
    lo, hi = PUBLISHED["time_cut"]
    s_lo, s_hi = PUBLISHED["speedup"]
    return (
        f"**Reading of the speed-up band.** A learning-time cut of {100 * lo:.1f} % is a speed-up "
        f"of 1/(1 - {lo}) = {1 / (1 - lo):.3f}x, the low end of the published {s_lo}-{s_hi}x; "
        f"the high end of the cut, {100 * hi:.1f} %, gives {1 / (1 - hi):.2f}x, not {s_hi}x. "
        "We read the speed-up band as the same-chip pipelining ablation (PDFA against the same "
        "chip without pipelining, i.e. non-pipelined DFA, or against BP on it), which the "
        "low end matches exactly, and compare against all three candidates in the table: the "
        "homogeneous BP chip, BP on the same chip, and non-pipelined DFA on the same chip."
    )


# -- provenance of the chip parameters, from the comments of the chip file -----------------
KINDS = (("paper", "paper"), ("derived", "derived"), ("assumed", "assumed"), ("same as", "derived"))


def provenance(path: Path) -> list[dict]:
    """Every scalar (or one-line mapping) of a chip file with its key path and the provenance
    its line's comment gives (paper / derived / assumed / a cited source / none)."""
    text = path.read_text()
    lines = text.splitlines()
    rows: list[dict] = []

    def note_of(line: int) -> str:
        return lines[line].partition("#")[2].strip()

    def walk(node, key_path: str) -> None:
        if isinstance(node, yaml.MappingNode) and not node.flow_style:
            for key, value in node.value:
                walk(value, f"{key_path}.{key.value}" if key_path else key.value)
        elif isinstance(node, yaml.SequenceNode) and not node.flow_style:
            for index, item in enumerate(node.value):
                name = next(
                    (v.value for k, v in getattr(item, "value", []) if k.value == "name"), index
                )
                walk(item, f"{key_path}[{name}]")
        else:
            line = node.start_mark.line
            value = lines[line][node.start_mark.column : node.end_mark.column].strip()
            note = note_of(line)
            kind = next(
                (k for word, k in KINDS if note.lower().startswith(word)),
                "source" if note else "-",
            )
            rows.append({"key": key_path, "value": value, "kind": kind, "note": note})

    walk(yaml.compose(text), "")
    return [
        r
        for r in rows
        if not r["key"].endswith((".name", ".kind", ".tasks"))
        and r["key"] not in ("name", "description")
    ]


def provenance_table(rows: list[dict]) -> str:
    lines = ["| parameter | value | provenance | note |", "|---|---|---|---|"]
    for r in rows:
        lines.append(f"| `{r['key']}` | `{r['value']}` | {r['kind']} | {r['note']} |")
    return "\n".join(lines)


# -- sensitivity ---------------------------------------------------------------------------
SENSITIVE = ("speedup_same_chip_bp", "time_cut_vs_dfa", "ema_cut", "chip_energy_gain")


def assumed_numbers(rows: list[dict]) -> list[str]:
    """Key paths of the assumed numeric parameters of the chip file."""
    out = []
    for r in rows:
        if r["kind"] != "assumed":
            continue
        try:
            float(r["value"])
        except ValueError:
            continue
        out.append(r["key"])
    return out


def set_path(chip: dict, path: str, factor: float) -> dict:
    data = copy.deepcopy(chip)
    node = data
    parts = path.split(".")
    for part in parts[:-1]:
        match = re.fullmatch(r"units\[(.+)\]", part)
        node = (
            next(u for u in node["units"] if u["name"] == match.group(1)) if match else node[part]
        )
    old = node[parts[-1]]
    new = old * factor
    node[parts[-1]] = max(1, round(new)) if isinstance(old, int) else new
    return data


def sensitivity(chip: dict, workload: Path, rows: list[dict], base: dict) -> str:
    lines = [
        "| assumed parameter | value | " + " | ".join(f"{k} x0.5 / x2" for k in SENSITIVE) + " |",
        "|---|---|" + "---|" * len(SENSITIVE),
        "| (as committed) | | " + " | ".join(fmt(base[k], k) for k in SENSITIVE) + " |",
    ]
    values = {r["key"]: r["value"] for r in rows}
    for path in assumed_numbers(rows):
        cells = []
        moved = []
        for factor in (0.5, 2.0):
            try:
                moved.append(ratios(set_path(chip, path, factor), workload))
            except ConfigError as err:
                moved.append({"error": err})
        for k in SENSITIVE:
            cells.append(" / ".join("n/a" if "error" in m else fmt(m[k], k) for m in moved))
        lines.append(f"| `{path}` | {values[path]} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def fmt(value: float, key: str) -> str:
    return f"{value:.2f}x" if key.startswith("speedup") else f"{100 * value:.1f} %"


def mdnet_facts(chip: dict, workload: Path) -> dict:
    """Sizes the explanation quotes, read from the model rather than typed."""
    r = run(chip, workload, "dfa", 1)
    fc4 = next(t for t in r.graph.tasks if t.name == "fc4.wu")
    params = next(op.elements for op in fc4.operands if op.tensor == "weight")
    state = sum(op.elements for op in fc4.operands if op.role == "read" and op.tensor != "gradient")
    depc = depc_energy(chip, workload)
    return {
        "classes": r.graph.tasks[next(i for i, t in enumerate(r.graph.tasks) if t.kind == "loss")]
        .operands[0]
        .elements
        // r.graph.batch_size,
        "b_entries": r.graph.feedback_elements,
        "fc4_params": params,
        "fc4_state_mb": state * chip["precision"]["weight"] / 8 / 1e6,
        "dram_gb_s": chip["dram"]["bandwidth_gb_per_s"],
        "depc_share": depc / r.report["energy_pj"],
    }


def report() -> str:
    chip = yaml.safe_load(DFLNPU.read_text())
    results = {}
    for label, workload in (MDNET, LENET):
        results[label] = ratios(chip, workload, str(BASELINE))
    mdnet = results[MDNET[0]]
    rows = provenance(DFLNPU)
    counts = {
        k: sum(1 for r in rows if r["kind"] == k) for k in ("paper", "derived", "assumed", "source")
    }
    facts = mdnet_facts(chip, MDNET[1])
    gaps = [
        f"- **EMA.** PRNG B removes B's traffic: on MDNet, 16-bit B stored in DRAM would be "
        f"{100 * mdnet['ema_cut']:.2f} % of the DFA iteration's DRAM bytes. The dense B of a "
        f"{facts['classes']}-class output has {facts['b_entries']:,} entries for all layers, "
        f"next to {facts['fc4_params'] / 1e6:.2f} M parameters of fc4 whose weights and "
        "momentum stream from DRAM every iteration. The published 42.8 % implies B was a much "
        "larger share of the chip's external traffic (B for wider outputs, or weights kept on "
        "chip).",
        f"- **Adder-only DEPC.** The error core's own energy (compute and PRNG) is "
        f"{100 * mdnet['depc_energy_gain']:.0f} % higher as a 16-bit MAC array, but on MDNet "
        f"the error core is {100 * facts['depc_share']:.4f} % of the DFA iteration's energy, so "
        f"the whole-chip gain is {100 * mdnet['chip_energy_gain']:.3f} %. The published +14.3 % "
        "is a chip-level figure with a different energy mix (the real DEPC also drives its own "
        "memories and its error computation is a larger part of a tracking update).",
        f"- **Memory.** On MDNet BP spends {100 * mdnet['dram_share_bp']:.0f} % of its energy on "
        f"DRAM and its units hold {100 * mdnet['stall_share_bp']:.0f} % of their time waiting "
        f"for memory (averaged over the units): fc4's weights and momentum "
        f"({facts['fc4_state_mb']:.1f} MB) are read and written over the assumed "
        f"{facts['dram_gb_s']} GB/s port every iteration, which bounds every algorithm alike.",
    ]
    return "\n".join(
        [
            "Regenerate with `python benchmarks/validate_dflnpu.py --write`. The chips are "
            "`arch_configs/dflnpu.yaml` and `arch_configs/bp_baseline.yaml` as committed "
            "(nothing tuned to the published numbers); figures per steady-state iteration. "
            "Published numbers: Han, Lee, Yoo, JSSC 2021 (abstract); in brackets whether the "
            "model lands inside the published band.",
            "",
            headline_table(results),
            "",
            band_reading(),
            "",
            "Where the model lands away from the paper, with the model's numbers:",
            "",
            *gaps,
            "",
            f"**Provenance of every dflnpu.yaml parameter** ({counts['paper']} from the paper, "
            f"{counts['derived']} derived, {counts['source']} from a cited source, "
            f"{counts['assumed']} assumed), read from the file's comments:",
            "",
            provenance_table(rows),
            "",
            "**Sensitivity on MDNet**: each ratio with each assumed numeric parameter halved / "
            "doubled (integers rounded, at least 1; n/a where the halved or doubled chip is "
            "invalid, e.g. a pipeline too shallow for the weight delay):",
            "",
            sensitivity(chip, MDNET[1], rows, mdnet),
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="update docs/validation.md")
    args = parser.parse_args()
    text = report()
    print(text)
    if args.write:
        write_section(ROOT / "docs" / "validation.md", "dflnpu", text)


if __name__ == "__main__":
    main()

"""Pinned end-to-end results: every shipped chip x a set of workloads x BP, DFA and PDFA.

The regression test ``tests/regression/test_pinned.py`` re-simulates every point below with
``accelsim.report.api.simulate_point`` (default iterations: until the steady state) and checks
each figure against ``tests/regression/pinned.json`` (the way ZigZag's tests pin the energy and
latency of whole networks on its reference chips). A deliberate model change re-pins them all
in one command, and the diff of the JSON file (one line per figure) shows what moved:

    python benchmarks/pin_results.py             # print the table of the pinned figures
    python benchmarks/pin_results.py --check     # re-simulate; list the figures that moved
    python benchmarks/pin_results.py --update    # re-simulate and rewrite pinned.json
    python benchmarks/pin_results.py --write     # also put the table in docs/validation.md

The test imports this file (by path) for ``POINTS`` and ``figures``, so what is pinned and what
is checked cannot drift apart.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from accelsim.report.api import simulate_point

ROOT = Path(__file__).resolve().parent.parent
PINNED = ROOT / "tests" / "regression" / "pinned.json"
DOC = ROOT / "docs" / "validation.md"
SECTION = "pinned"
UPDATE_COMMAND = "python benchmarks/pin_results.py --update"

# Every chip in arch_configs/ (the test checks none is missing) x every shipped workload: all
# 99 points simulate in a few seconds, and each workload exercises something the others do not
# (LSTM/GRU cells, strided and deep convs, batch-1 online learning, VGG-16's DRAM-bound regime,
# pipelines that need 16 iterations to settle).
CHIPS = ("bp_baseline", "dflnpu", "tpu_like")
WORKLOADS = (
    "cnn_mnist1d",
    "deep_cnn_mnist1d",
    "gru2_mnist1d",
    "gru_mnist1d",
    "lenet_mnist",
    "lenet_mnist_online",
    "lstm_shakespeare",
    "mdnet_online",
    "mlp_mnist",
    "mlp_mnist1d",
    "vgg16_cifar10",
)
ALGORITHMS = ("bp", "dfa", "pdfa")
# A chip that sets only the required keys, so every default constant (e.g. the DRAM energy per
# byte, which every shipped chip overrides) is pinned too.
DEFAULTS_CHIP = ROOT / "tests" / "regression" / "defaults_chip.yaml"
DEFAULTS_WORKLOADS = ("lenet_mnist", "mdnet_online")
POINTS = tuple((c, w, a) for c in CHIPS for w in WORKLOADS for a in ALGORITHMS) + tuple(
    ("defaults", w, a) for w in DEFAULTS_WORKLOADS for a in ALGORITHMS
)

# Figures the brief requires at a minimum (the test checks they are pinned for every point).
REQUIRED = (
    "cycles",
    "steady_state.cycles_per_iteration",
    "dram_bytes",
    "energy_pj",
    "energy_breakdown_pj.compute",
    "macs",
    "memory.compulsory_dram_bytes_per_iteration",
)
TOP_LEVEL = (
    "iterations",
    "cycles",
    "stall_cycles",
    "macs",
    "prng_values",
    "dram_bytes",
    "global_buffer_bytes",
    "energy_pj",
)
STEADY = (
    "reached",
    "warmup_iterations",
    "measured_iterations",
    "cycles_per_iteration",
    "energy_pj_per_iteration",
    "dram_bytes_per_iteration",
)
MEMORY = ("compulsory_dram_bytes_per_iteration", "resident_kb", "staging_kb")
REL_TOL = 1e-9  # floats; ints and bools must be equal


def key(chip: str, workload: str, algorithm: str, figure: str) -> str:
    return f"{chip}/{workload}/{algorithm}/{figure}"


def simulate(chip: str, workload: str, algorithm: str) -> dict:
    arch = DEFAULTS_CHIP if chip == "defaults" else ROOT / "arch_configs" / f"{chip}.yaml"
    return simulate_point(arch, ROOT / "workloads" / f"{workload}.yaml", algorithm)


def figures(doc: dict) -> dict[str, int | float | bool]:
    """The pinned figures of one ``simulate_point`` document, by dotted name."""
    out: dict[str, int | float | bool] = {name: doc[name] for name in TOP_LEVEL}
    for part, value in doc["energy_breakdown_pj"].items():
        out[f"energy_breakdown_pj.{part}"] = value
    for name in STEADY:
        out[f"steady_state.{name}"] = doc["steady_state"][name]
    for name in MEMORY:
        out[f"memory.{name}"] = doc["memory"][name]
    out["dram.busy_cycles"] = doc["dram"]["busy_cycles"]
    out["area_mm2"] = doc["area_mm2"]
    for unit, counts in doc["units"].items():
        out[f"units.{unit}.busy_cycles"] = counts["busy_cycles"]
    # The mapping choice of the first iteration's GEMMs, summarised: on equal cycles the two
    # orientations cost the same, so only these see a change of the tie rule (hw/mapping.py).
    gemms = [m for task in doc["mappings"].values() for m in task]
    out["mappings.gemms"] = len(gemms)
    out["mappings.transposed"] = sum(m["orientation"] != "mkn" for m in gemms)
    out["mappings.folds"] = sum(m["folds"] for m in gemms)
    return out


def point_figures(chip: str, workload: str, algorithm: str) -> dict[str, int | float | bool]:
    return figures(simulate(chip, workload, algorithm))


def compute_all() -> dict[str, int | float | bool]:
    flat: dict[str, int | float | bool] = {}
    for chip, workload, algorithm in POINTS:
        for figure, value in point_figures(chip, workload, algorithm).items():
            flat[key(chip, workload, algorithm, figure)] = value
    return flat


def load_pinned(path: Path = PINNED) -> dict[str, int | float | bool]:
    if not path.exists():
        raise SystemExit(f"{path} does not exist: run `{UPDATE_COMMAND}`")
    return json.loads(path.read_text(encoding="utf-8"))["figures"]


def pinned_point(pinned: dict, chip: str, workload: str, algorithm: str) -> dict:
    """The pinned figures of one point, by dotted figure name."""
    prefix = key(chip, workload, algorithm, "")
    return {k[len(prefix) :]: v for k, v in pinned.items() if k.startswith(prefix)}


def save_pinned(flat: dict, path: Path = PINNED) -> None:
    """One line per figure, sorted keys: a re-pin's diff lists exactly the figures that moved."""
    document = {
        "about": (
            "End-to-end figures of accelsim.report.api.simulate_point (default iterations) per "
            "chip/workload/algorithm/figure, checked by tests/regression/test_pinned.py "
            f"(floats to rel {REL_TOL:g}, the rest exactly). Written by `{UPDATE_COMMAND}`; "
            "do not edit by hand."
        ),
        "figures": flat,
    }
    path.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def same(pinned: object, now: object) -> bool:
    """Bools and ints exactly, anything involving a float to ``REL_TOL`` (relative only)."""
    if isinstance(pinned, bool) or isinstance(now, bool):
        return type(pinned) is type(now) and pinned == now
    if isinstance(pinned, int) and isinstance(now, int):
        return pinned == now
    if isinstance(pinned, (int, float)) and isinstance(now, (int, float)):
        return math.isclose(now, pinned, rel_tol=REL_TOL, abs_tol=0.0)
    return pinned == now


def describe_move(pinned: object, now: object) -> str:
    """'pinned X, now Y (+d, +p %)' for numbers, else the two values."""
    numbers = (int, float)
    if (
        isinstance(pinned, numbers)
        and isinstance(now, numbers)
        and not isinstance(pinned, bool)
        and not isinstance(now, bool)
    ):
        delta = now - pinned
        rel = f"{delta / pinned:+.3e} relative" if pinned else "pinned value 0"
        return f"pinned {pinned!r}, now {now!r} ({delta:+.6g}, {rel})"
    return f"pinned {pinned!r}, now {now!r}"


def differences(pinned: dict, now: dict) -> list[str]:
    """One line per figure that moved, appeared or disappeared (both dicts by figure name)."""
    lines = []
    for figure in sorted(set(pinned) | set(now)):
        if figure not in now:
            lines.append(f"{figure}: pinned {pinned[figure]!r}, no longer reported")
        elif figure not in pinned:
            lines.append(f"{figure}: new figure {now[figure]!r}, not pinned")
        elif not same(pinned[figure], now[figure]):
            lines.append(f"{figure}: {describe_move(pinned[figure], now[figure])}")
    return lines


def table(pinned: dict) -> str:
    rows = [
        "| chip | workload | algorithm | cycles/iteration | energy/iteration (uJ) "
        "| DRAM bytes/iteration |",
        "|---|---|---|---:|---:|---:|",
    ]
    for chip, workload, algorithm in POINTS:
        fig = pinned_point(pinned, chip, workload, algorithm)
        if not fig:
            rows.append(f"| {chip} | {workload} | {algorithm} | not pinned | | |")
            continue
        cycles = fig["steady_state.cycles_per_iteration"]
        energy_uj = fig["steady_state.energy_pj_per_iteration"] / 1e6
        dram = fig["steady_state.dram_bytes_per_iteration"]
        rows.append(
            f"| {chip} | {workload} | {algorithm} | {cycles:,.1f} | {energy_uj:,.3f} "
            f"| {dram:,.0f} |"
        )
    return "\n".join(rows)


def section(pinned: dict) -> str:
    return (
        f"Pinned in `tests/regression/pinned.json`; re-pin with `{UPDATE_COMMAND}`, regenerate "
        "this table with `python benchmarks/pin_results.py --write`. Steady-state figures per "
        "iteration (`steady_state.*` of `simulate_point`, default iterations).\n\n" + table(pinned)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--update", action="store_true", help="re-simulate and rewrite the pins")
    mode.add_argument("--check", action="store_true", help="re-simulate and list what moved")
    parser.add_argument("--write", action="store_true", help="put the table in " + str(DOC))
    args = parser.parse_args(argv)

    if args.update:
        save_pinned(compute_all())
        print(f"wrote {PINNED.relative_to(ROOT)} ({len(POINTS)} points)")
    pinned = load_pinned()
    if args.check:
        moved = differences(pinned, compute_all())
        print("\n".join(moved) if moved else f"all {len(pinned)} pinned figures unchanged")
        if moved:
            print(f"{len(moved)} figures moved; if deliberate, re-pin with `{UPDATE_COMMAND}`")
            return 1
        return 0
    print(table(pinned))
    if args.write:
        from _common import write_section  # benchmarks/ is on sys.path when run as a script

        write_section(DOC, SECTION, section(pinned))
        print(f"updated {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

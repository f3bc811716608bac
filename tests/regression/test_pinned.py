"""Pinned end-to-end results: (cycles, energy, DRAM traffic, ...) of whole networks on every
shipped chip, the way ZigZag's tests pin the energy and latency of networks on its reference
chips.

Each test re-simulates one chip x workload x algorithm point with
``accelsim.report.api.simulate_point`` (default iterations: until the steady state) and
compares every figure with ``tests/regression/pinned.json``. The performance model is
deterministic pure Python (no random numbers, no clocks, no numba or BLAS; the figures are
bit-identical under any PYTHONHASHSEED), so ints and bools must be equal and floats agree to a
relative 1e-9, which only leaves room for last-digit differences of libm across platforms. Any
change to an energy constant, a mapping or memory rule or the scheduler therefore fails here;
if the change is deliberate, re-pin every point with

    python benchmarks/pin_results.py --update

and commit the diff of pinned.json (one line per figure) with the change. The point list and
the figure extraction live in benchmarks/pin_results.py, imported here, so the pinned set and
the checked set cannot drift apart.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_pin_results():
    spec = importlib.util.spec_from_file_location(
        "pin_results", ROOT / "benchmarks" / "pin_results.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pins = _load_pin_results()
PINNED = pins.load_pinned()
HOW_TO_UPDATE = (
    f"If the model change is deliberate, re-pin every point with `{pins.UPDATE_COMMAND}` "
    "and commit the diff of tests/regression/pinned.json with it."
)


def _point_id(point: tuple[str, str, str]) -> str:
    return "-".join(point)  # e.g. dflnpu-lenet_mnist-pdfa


@pytest.mark.parametrize(
    ("chip", "workload", "algorithm"), pins.POINTS, ids=[_point_id(p) for p in pins.POINTS]
)
def test_end_to_end_figures_match_pinned(chip, workload, algorithm):
    pinned = pins.pinned_point(PINNED, chip, workload, algorithm)
    if not pinned:
        pytest.fail(f"{chip}/{workload}/{algorithm} is not pinned. {HOW_TO_UPDATE}", pytrace=False)
    now = pins.point_figures(chip, workload, algorithm)
    moved = pins.differences(pinned, now)
    if moved:
        lines = "\n".join(f"  {line}" for line in moved)
        pytest.fail(
            f"chip {chip}, workload {workload}, algorithm {algorithm}: {len(moved)} of "
            f"{len(pinned)} pinned figures moved (floats compared to rel {pins.REL_TOL:g}):\n"
            f"{lines}\n{HOW_TO_UPDATE}",
            pytrace=False,
        )


def test_every_shipped_chip_is_pinned():
    shipped = {path.stem for path in (ROOT / "arch_configs").glob("*.yaml")}
    assert shipped == set(pins.CHIPS), HOW_TO_UPDATE


def test_pinned_file_holds_exactly_the_points_and_required_figures():
    points = {tuple(k.split("/")[:3]) for k in PINNED}
    stale = sorted("/".join(p) for p in points - set(pins.POINTS))
    assert not stale, f"pinned.json holds points no longer simulated: {stale}. {HOW_TO_UPDATE}"
    for point in pins.POINTS:
        figures = pins.pinned_point(PINNED, *point)
        missing = [f for f in pins.REQUIRED if f not in figures]
        assert not missing, f"{'/'.join(point)} lacks {missing}. {HOW_TO_UPDATE}"
        parts = {f for f in figures if f.startswith("energy_breakdown_pj.")}
        assert len(parts) == 8, f"{'/'.join(point)}: energy breakdown {sorted(parts)}"
        total = sum(figures[f] for f in parts)
        assert figures["energy_pj"] == pytest.approx(total, rel=1e-12)


def test_a_moved_figure_fails_with_where_how_much_and_the_update_command():
    pinned = {"cycles": 1000, "energy_pj": 2.0e9, "steady_state.reached": True}
    now = {"cycles": 1001, "energy_pj": 2.000002e9, "steady_state.reached": True}
    lines = pins.differences(pinned, now)
    assert lines[0] == "cycles: pinned 1000, now 1001 (+1, +1.000e-03 relative)"
    assert (
        lines[1] == "energy_pj: pinned 2000000000.0, now 2000002000.0 (+2000, +1.000e-06 relative)"
    )
    assert len(lines) == 2
    # Within the float tolerance nothing moves; ints never get a tolerance.
    assert pins.differences({"e": 1.0}, {"e": 1.0 + 1e-12}) == []
    assert pins.differences({"c": 10**12}, {"c": 10**12 + 1}) != []
    assert "--update" in HOW_TO_UPDATE

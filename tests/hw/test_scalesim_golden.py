"""Our COMPUTE_REPORT figures against SCALE-Sim 3.0.0's, recorded in tests/hw/golden/.

The golden file holds SCALE-Sim's own output for every config x topology there (see the README
next to it for the exact commands and versions); nothing in it comes from accelsim.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from accelsim.config.scalesim import load_scalesim_config, load_topology
from accelsim.hw.scalesim_calc import layer_report

GOLDEN = Path(__file__).resolve().parent / "golden"
RUNS = json.loads((GOLDEN / "scalesim_3.0.0.json").read_text())["runs"]


def cases():
    for run in RUNS:
        config = load_scalesim_config(GOLDEN / run["config"])
        topology = load_topology(GOLDEN / run["topology"], gemm=run["gemm"])
        assert len(topology.layers) == len(run["layers"])
        for layer, theirs in zip(topology.layers, run["layers"], strict=True):
            assert layer.name == theirs["name"]
            case_id = f"{config.rows}x{config.cols}-{config.dataflow}-{layer.name}"
            yield pytest.param(config, layer, theirs, id=case_id)


CASES = list(cases())


def ours(config, layer):
    return layer_report(
        layer.shape, config.rows, config.cols, config.dataflow, config.sram, layer.footprint
    )


def test_golden_set_covers_both_arrays_all_dataflows_and_both_formats():
    assert len(CASES) >= 10 * 3 * 2
    shapes = {(c.values[0].rows, c.values[0].cols) for c in CASES}
    assert any(r == c for r, c in shapes) and any(r != c for r, c in shapes)
    assert {c.values[0].dataflow for c in CASES} == {"os", "ws", "is"}
    assert {run["gemm"] for run in RUNS} == {True, False}


@pytest.mark.parametrize(("config", "layer", "theirs"), CASES)
def test_total_cycles_within_one_percent(config, layer, theirs):
    report = ours(config, layer)
    assert report.total_cycles == pytest.approx(theirs["total_cycles"], rel=0.01)


@pytest.mark.parametrize(("config", "layer", "theirs"), CASES)
def test_every_report_figure_matches_exactly(config, layer, theirs):
    report = ours(config, layer)
    assert report.total_cycles == theirs["total_cycles"]
    assert report.stall_cycles == theirs["stall_cycles"]
    assert report.cycles_incl_prefetch == theirs["cycles_incl_prefetch"]
    assert report.mapping_efficiency == pytest.approx(theirs["mapping_efficiency"], abs=1e-9)
    assert report.compute_utilization == pytest.approx(theirs["compute_utilization"], abs=1e-9)
    assert report.overall_utilization == pytest.approx(theirs["overall_utilization"], abs=1e-9)

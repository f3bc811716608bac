"""Fixtures for sweep tests: a folder with a small chip file, the LeNet workload and a spec."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

ARCH_YAML = """\
name: test-chip
clock_mhz: 200
technology_nm: 65
precision: {activation: 16, weight: 16, error: 16, accumulator: 32}
units:
  - {name: fp_core, kind: pe_array, rows: 16, cols: 16, dataflow: ws, tasks: [fp]}
  - {name: wg_core, kind: pe_array, rows: 16, cols: 16, dataflow: os, tasks: [ep, wg]}
  - {name: depc, kind: pe_array, rows: 8, cols: 8, dataflow: os, tasks: [dfa_ep],
     feedback: {source: prng, bits: 1, density: 1.0}}
  - {name: vector, kind: vector, lanes: 16, tasks: [wu, loss]}
global_buffer: {size_kb: 512, bandwidth_bytes_per_cycle: 64}
dram: {bandwidth_bytes_per_cycle: 16, energy_pj_per_byte: 20}
"""


@pytest.fixture
def sweep_dir(tmp_path: Path) -> Path:
    """tmp/configs/{chip.yaml, lenet.yaml}; specs go in tmp/specs/ and name them relatively."""
    configs = tmp_path / "configs"
    configs.mkdir()
    (configs / "chip.yaml").write_text(ARCH_YAML)
    shutil.copy(ROOT / "workloads" / "lenet_mnist.yaml", configs / "lenet.yaml")
    (tmp_path / "specs").mkdir()
    return tmp_path


@pytest.fixture
def make_spec(sweep_dir: Path):
    """``make_spec(body)`` writes specs/spec.yaml naming the chip and workload relatively."""

    def write(body: str, name: str = "spec.yaml") -> Path:
        head = "arch: ../configs/chip.yaml\nworkload: ../configs/lenet.yaml\n"
        path = sweep_dir / "specs" / name
        path.write_text(head + body)
        return path

    return write

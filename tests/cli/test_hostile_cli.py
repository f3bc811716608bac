"""Hostile files through the real CLI (issue 14 item 1): exit 2 and exactly one stderr line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

ROOT = Path(__file__).resolve().parents[2]
ARCH = ROOT / "arch_configs" / "dflnpu.yaml"
WORKLOAD = ROOT / "workloads" / "mlp_mnist1d.yaml"
ARCH_TEXT = ARCH.read_text(encoding="utf-8")

LAUGHS = "\n".join(
    ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
)

# (defect, hostile arch text, a fragment the one stderr line must hold)
CASES = {
    "5000-digit integer": ("name: x\nclock_mhz: " + "9" * 5000 + "\n", "line 2, column 12"),
    "list nested 5000 deep": ("name: x\nunits: " + "[" * 5000 + "]" * 5000 + "\n", "nesting"),
    "NUL byte": ("name: x\nclock_mhz: 1\x00\n", "#x0000 at line 2, column 13"),
    "billion laughs": (LAUGHS + "\n", "aliases that expand"),
    "self-referencing alias": ("name: x\nunits: &u [*u]\n", "refers to itself"),
    "voltage 1e200 (OverflowError)": (
        ARCH_TEXT.replace("voltage_v: 0.9", "voltage_v: 1e200"),
        "energy.voltage_v",
    ),
    "dram energy 1e308 (energy inf)": (
        ARCH_TEXT.replace("energy_pj_per_byte: 243.75", "energy_pj_per_byte: 1e308"),
        "dram.energy_pj_per_byte",
    ),
    "mac_pj 1e308 (energy inf)": (
        ARCH_TEXT.replace("sram_cells: lstp", "sram_cells: lstp\n  mac_pj: 1e308"),
        "energy.mac_pj",
    ),
    "clock 1e308 (latency 0)": (
        ARCH_TEXT.replace("clock_mhz: 200 ", "clock_mhz: 1e308 "),
        "clock_mhz",
    ),
    "a non-UTF-8 byte": ("name: \xff\n", "UTF-8"),
}


@pytest.mark.parametrize("defect", sorted(CASES))
def test_hostile_arch_file_exits_2_with_one_line(defect, tmp_path):
    text, fragment = CASES[defect]
    path = tmp_path / "hostile.yaml"
    if defect == "a non-UTF-8 byte":
        path.write_bytes(b"name: \xff\n")
    else:
        path.write_text(text, encoding="utf-8")
    proc = run_cli("simulate", path, WORKLOAD, "--iterations", "1", timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert str(path) in proc.stderr and fragment in proc.stderr, proc.stderr


def test_synthetic_train_size_zero_exits_2_with_one_line(tmp_path):
    path = tmp_path / "wl.yaml"
    path.write_text(
        "dataset: {name: synthetic, input_shape: [4], num_classes: 2, train_size: 0}\n"
        "layers:\n  - {type: linear, out_features: 2}\n"
        "training: {epochs: 1}\n",
        encoding="utf-8",
    )
    proc = run_cli("train", path, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "dataset.train_size" in proc.stderr

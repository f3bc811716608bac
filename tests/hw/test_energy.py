"""Energy table: the published 45 nm points, the interpolation, node scaling and overrides."""

from __future__ import annotations

import math
from itertools import pairwise

import pytest

from accelsim.config.arch import load_arch
from accelsim.hw import energy
from accelsim.report.api import simulate_point

LENET = "workloads/lenet_mnist.yaml"


def test_published_points_are_reproduced():
    assert energy.int_add_pj(8) == pytest.approx(0.03)
    assert energy.int_add_pj(32) == pytest.approx(0.1)
    assert energy.int_mult_pj(8) == pytest.approx(0.2)
    assert energy.int_mult_pj(32) == pytest.approx(3.1, rel=0.05)
    for size_kb, pj in ((8, 10.0), (32, 20.0), (1024, 100.0)):
        assert energy.sram_pj_per_byte_45(size_kb) * 8 == pytest.approx(pj)


def test_sram_energy_grows_with_size():
    sizes = [0.5, 2, 8, 16, 32, 256, 1024, 8192]
    values = [energy.sram_pj_per_byte_45(s) for s in sizes]
    assert all(a <= b for a, b in pairwise(values))
    assert all(v > 0 for v in values)


def test_node_scaling_is_linear_in_node_and_quadratic_in_voltage():
    assert energy.node_scale(45) == 1.0
    assert energy.node_scale(90) == pytest.approx(2.0)
    assert energy.node_scale(45, 0.45) == pytest.approx(0.25)


def test_chip_table_scales_and_overrides(root):
    arch = load_arch(root / "arch_configs" / "dflnpu.yaml")
    table = energy.energy_table(arch)
    mac45 = energy.int_mult_pj(16) + energy.int_add_pj(32)
    assert table.mac_pj == pytest.approx(mac45 * 65 / 45)
    import yaml

    data = yaml.safe_load((root / "arch_configs" / "dflnpu.yaml").read_text())
    data["energy"]["mac_pj"] = 7.5
    assert energy.energy_table(load_arch(data)).mac_pj == 7.5


def test_energy_breakdown_sums_to_the_total(root):
    doc = simulate_point(root / "arch_configs" / "dflnpu.yaml", LENET, "pdfa", iterations=3)
    assert sum(doc["energy_breakdown_pj"].values()) == doc["energy_pj"]
    assert all(v >= 0 and math.isfinite(v) for v in doc["energy_breakdown_pj"].values())


def test_mac_energy_override_changes_only_compute(root):
    import yaml

    data = yaml.safe_load((root / "arch_configs" / "dflnpu.yaml").read_text())
    base = simulate_point(data, LENET, "bp")
    data["energy"]["mac_pj"] = 100.0
    bumped = simulate_point(data, LENET, "bp")
    assert bumped["energy_breakdown_pj"]["compute"] > base["energy_breakdown_pj"]["compute"]
    assert bumped["energy_breakdown_pj"]["dram"] == base["energy_breakdown_pj"]["dram"]

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


# -- SRAM leakage (CACTI 7 table, accelsim/hw/data/sram_cacti.json) ------------------------------

LSTP_MW_PER_KB = 0.00016116243866219005  # CACTI 7, 45 nm LSTP, median over sizes, at 0.9 V
HP_MW_PER_KB = 0.8739526640625  # CACTI 7, 45 nm HP, median over sizes, at 0.9 V


def test_sram_leakage_figures_are_the_cacti_table():
    table = energy.SRAM_CACTI
    assert "CACTI 7" in table["provenance"]["tool"]
    assert energy.SRAM_LEAKAGE_MW_PER_KB == {"lstp": LSTP_MW_PER_KB, "hp": HP_MW_PER_KB}
    for cells, ref in table["reference"]["cells"].items():
        rows = [r for r in table["rows"] if r["node_nm"] == 45 and r["cells"] == cells]
        per_kb = sorted(r["leakage_mw"] / r["size_kb"] for r in rows)
        median = (per_kb[(len(per_kb) - 1) // 2] + per_kb[len(per_kb) // 2]) / 2
        assert ref["leakage_mw_per_kb_at_vdd"] == pytest.approx(median)
        # brought from CACTI's supply (1.1 V LSTP, 1.0 V HP at 45 nm) to 0.9 V by (V / Vdd)^2
        assert ref["leakage_mw_per_kb"] == pytest.approx(median * (0.9 / ref["vdd_v"]) ** 2)


def test_sram_leakage_of_one_buffer_by_hand():
    # 64 KB of HP SRAM at 65 nm, 0.9 V, 200 MHz:
    #   P = 64 KB x 0.8739527 mW/KB x (65 / 45) = 80.79207 mW
    #   E = P x 1e-3 J/s / (200e6 cycles/s) = 80.79207 x 1e3 / 200 pJ = 403.96 pJ per cycle
    scale = energy.node_scale(65, 0.9)
    assert scale == pytest.approx(65 / 45)
    pj = energy.sram_leakage_pj_per_cycle(64, 200, scale, "hp")
    assert pj == pytest.approx(64 * HP_MW_PER_KB * (65 / 45) * 1e3 / 200)
    assert pj == pytest.approx(403.96, rel=1e-4)
    # units: 1 mW for one cycle of 1 MHz (1 us) is 1 nJ = 1000 pJ
    assert energy.sram_leakage_pj_per_cycle(1 / HP_MW_PER_KB, 1.0, 1.0, "hp") == pytest.approx(1e3)
    # voltage: half the voltage, a quarter of the leakage; double the clock, half per cycle
    assert energy.sram_leakage_pj_per_cycle(64, 200, energy.node_scale(65, 0.45), "hp") == (
        pytest.approx(pj / 4)
    )
    assert energy.sram_leakage_pj_per_cycle(64, 400, scale, "hp") == pytest.approx(pj / 2)


def test_bigger_buffers_leak_more_and_hp_leaks_more_than_lstp():
    for cells in ("lstp", "hp"):
        values = [energy.sram_leakage_pj_per_cycle(kb, 200, 1.0, cells) for kb in (1, 8, 64, 512)]
        assert all(a < b for a, b in pairwise(values))
    assert energy.sram_leakage_pj_per_cycle(64, 200, 1.0, "hp") > (
        1000 * energy.sram_leakage_pj_per_cycle(64, 200, 1.0, "lstp")
    )


def test_chip_sram_leakage_is_the_sum_over_its_buffers(root):
    arch = load_arch(root / "arch_configs" / "dflnpu.yaml")
    buffers = dict(energy.sram_buffers_kb(arch))
    # lc_fp and lc_bw: 32 + 32 + 16 KB each; depc: 8 + 8 + 8 KB; global buffer 256 KB; the
    # vector unit has no buffers and the PRNG feedback source no SRAM
    assert buffers == {
        "lc_fp.ifmap": 32, "lc_fp.weight": 32, "lc_fp.ofmap": 16,
        "lc_bw.ifmap": 32, "lc_bw.weight": 32, "lc_bw.ofmap": 16,
        "depc.ifmap": 8, "depc.weight": 8, "depc.ofmap": 8,
        "global_buffer": 256,
    }  # fmt: skip
    # 440 KB of LSTP SRAM at 65 nm, 0.9 V, 200 MHz:
    #   440 x 0.00016116 mW/KB x 65/45 = 0.10243 mW -> 0.10243 x 1e3 / 200 = 0.5121 pJ/cycle
    table = energy.energy_table(arch)
    assert table.sram_cells == "lstp"
    assert table.sram_leakage_pj_per_cycle == pytest.approx(
        440 * LSTP_MW_PER_KB * (65 / 45) * 1e3 / 200
    )
    assert table.sram_leakage_pj_per_cycle == pytest.approx(0.5121, rel=1e-3)
    assert table.sram_leakage_pj_per_cycle == pytest.approx(
        sum(energy.sram_leakage_breakdown(arch).values())
    )
    assert table.total_leakage_pj_per_cycle == pytest.approx(
        table.leakage_pj_per_cycle + table.sram_leakage_pj_per_cycle
    )


def test_sram_feedback_store_and_bigger_buffers_add_leakage(root):
    import yaml

    data = yaml.safe_load((root / "arch_configs" / "dflnpu.yaml").read_text())
    data["energy"]["sram_cells"] = "hp"
    base = energy.energy_table(load_arch(data))
    data["units"][2]["feedback"] = {"source": "sram", "bits": 1, "size_kb": 100}
    with_store = load_arch(data)
    assert dict(energy.sram_buffers_kb(with_store))["depc.feedback"] == 100
    # + 100 KB x 0.8739527 mW/KB x 65/45 x 1e3 / 200 MHz = + 631.19 pJ/cycle
    added = energy.energy_table(with_store).sram_leakage_pj_per_cycle - (
        base.sram_leakage_pj_per_cycle
    )
    assert added == pytest.approx(100 * HP_MW_PER_KB * (65 / 45) * 1e3 / 200)
    data["global_buffer"]["size_kb"] = 512
    assert energy.energy_table(load_arch(data)).sram_leakage_pj_per_cycle > (
        energy.energy_table(with_store).sram_leakage_pj_per_cycle
    )
    # logic leakage does not depend on the SRAM
    assert energy.energy_table(load_arch(data)).leakage_pj_per_cycle == base.leakage_pj_per_cycle


def test_sram_leakage_override_replaces_the_total(root):
    import yaml

    data = yaml.safe_load((root / "arch_configs" / "dflnpu.yaml").read_text())
    base = energy.energy_table(load_arch(data))
    data["energy"]["sram_leakage_pj_per_cycle"] = 3.0
    table = energy.energy_table(load_arch(data))
    assert table.sram_leakage_pj_per_cycle == 3.0
    assert table.leakage_pj_per_cycle == base.leakage_pj_per_cycle


def test_cacti_read_energy_cross_checks_horowitz():
    # CACTI 7 at 45 nm (HP, 128-bit port) against Horowitz's 45 nm SRAM points: the same order of
    # magnitude (CACTI 1.7-3.1x lower over 8 KB-1 MB; docs/energy.md)
    rows = {
        r["size_kb"]: r["read_pj_per_byte"]
        for r in energy.SRAM_CACTI["rows"]
        if r["node_nm"] == 45 and r["cells"] == "hp"
    }
    for size_kb in (8, 32, 1024):
        ratio = energy.sram_pj_per_byte_45(size_kb) / rows[size_kb]
        assert 1 < ratio < 4


def test_the_mult_scaling_rule_lands_near_horowitz_32_bit_figure():
    # int mult energy grows with bits^2 from the 8-bit figure: 0.2 pJ x (32/8)^2 = 3.2 pJ, within
    # 5 % of Horowitz's published 3.1 pJ for a 32-bit multiply (the rule's only cross-check)
    from accelsim.hw.energy import INT_MULT_32, int_mult_pj

    assert int_mult_pj(32) == pytest.approx(0.2 * 16)
    assert abs(int_mult_pj(32) - INT_MULT_32) / INT_MULT_32 < 0.05

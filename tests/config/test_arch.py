"""Chip descriptions: the shipped chips load, bad ones fail with file + key + expectation."""

from __future__ import annotations

import copy

import pytest
import yaml

from accelsim.config.arch import load_arch
from accelsim.config.errors import ConfigError
from accelsim.report.api import simulate_point

CHIPS = ("dflnpu", "bp_baseline", "tpu_like")
LENET = "workloads/lenet_mnist.yaml"


def chip(root, name="dflnpu") -> dict:
    return yaml.safe_load((root / "arch_configs" / f"{name}.yaml").read_text())


@pytest.mark.parametrize("name", CHIPS)
def test_shipped_chips_load_with_contract_keys(root, name):
    arch = load_arch(root / "arch_configs" / f"{name}.yaml")
    assert arch.clock_mhz > 0
    assert all(u.tasks for u in arch.units)
    assert all(u.dataflow in ("os", "ws", "is") for u in arch.units if u.kind == "pe_array")


@pytest.mark.parametrize("name", CHIPS)
def test_every_parameter_of_a_shipped_chip_has_a_comment(root, name):
    lines = (root / "arch_configs" / f"{name}.yaml").read_text().splitlines()
    for line in lines:
        text = line.strip()
        if not text or text.startswith("#") or text.endswith(":") or text.startswith("- name"):
            continue
        if text.startswith(("name:", "description:", "kind:", "tasks:")):
            continue
        assert "#" in line, f"{name}.yaml: no source comment on {text!r}"


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d["units"][0].update(rows=0), "units[0].rows"),
        (lambda d: d["units"][0].update(cols=-4), "units[0].cols"),
        (lambda d: d["units"][0].update(dataflow="rs"), "units[0].dataflow"),
        (lambda d: d["units"][0].update(tasks=["fp", "backprop"]), "units[0].tasks"),
        (lambda d: d["units"][1].update(name=d["units"][0]["name"]), "units[1].name"),
        (lambda d: d["dram"].update(bandwidth_gb_per_s=0), "dram.bandwidth_gb_per_s"),
        (
            lambda d: d.update(dram={"bandwidth_bytes_per_cycle": 0}),
            "dram.bandwidth_bytes_per_cycle",
        ),
        (lambda d: d["dram"].update(latency_ns=-1), "dram.latency_ns"),
        (lambda d: d["dram"].update(latency_cycles=5), "dram.latency_cycles"),
        (lambda d: d["energy"].update(sram_cells="ulp"), "energy.sram_cells"),
        (
            lambda d: d["energy"].update(sram_leakage_pj_per_cycle=-1),
            "energy.sram_leakage_pj_per_cycle",
        ),
        (lambda d: d["global_buffer"].update(size_kb=0), "global_buffer.size_kb"),
        (lambda d: d.update(clock_mhz=-200), "clock_mhz"),
        (lambda d: d["units"][0]["buffers_kb"].update(ifmap=0), "units[0].buffers_kb.ifmap"),
        (lambda d: d["units"][2]["feedback"].update(source="flash"), "units[2].feedback.source"),
        (lambda d: d.update(energy={"table": "made_up"}), "energy.table"),
        (lambda d: d["units"][3].update(lanes=0), "units[3].lanes"),
    ],
)
def test_bad_chip_names_the_key(root, edit, key):
    data = copy.deepcopy(chip(root))
    edit(data)
    with pytest.raises(ConfigError) as err:
        load_arch(data, label="bad.yaml")
    assert err.value.file == "bad.yaml"
    assert err.value.key == key


def test_missing_file_and_yaml_syntax_errors(tmp_path):
    with pytest.raises(ConfigError, match="existing file"):
        load_arch(tmp_path / "absent.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("units: [\n")
    with pytest.raises(ConfigError, match="valid YAML"):
        load_arch(broken)


def test_algorithm_needing_a_missing_task_kind_is_rejected(root):
    data = chip(root)
    data["units"] = [u for u in data["units"] if "dfa_ep" not in u["tasks"]]
    simulate_point(data, LENET, "bp")  # BP needs no DFA unit
    with pytest.raises(ConfigError) as err:
        simulate_point(data, LENET, "dfa", arch_label="nodfa.yaml")
    assert err.value.file == "nodfa.yaml"
    assert "dfa_ep" in err.value.expected and "dfa" in err.value.expected


def test_feedback_sram_too_small_without_fallback_is_rejected(root):
    data = chip(root)
    data["units"][2]["feedback"] = {"source": "sram", "bits": 16, "size_kb": 1}
    with pytest.raises(ConfigError) as err:
        simulate_point(data, LENET, "dfa", arch_label="small.yaml")
    assert err.value.key == "units[2].feedback.size_kb"
    assert "fallback: dram" in err.value.expected


def test_feedback_fallback_to_dram_spills_the_overflow(root):
    data = chip(root)
    data["units"][2]["feedback"] = {"source": "sram", "bits": 16, "size_kb": 1, "fallback": "dram"}
    spilled = simulate_point(data, LENET, "dfa")
    data["units"][2]["feedback"] = {"source": "sram", "bits": 16, "size_kb": 4096}
    held = simulate_point(data, LENET, "dfa")
    assert spilled["dram_bytes"] > held["dram_bytes"]


# -- DRAM in physical units ----------------------------------------------------------------------


def _dram_chip(root, clock_mhz: float, dram: dict) -> dict:
    data = chip(root)
    data["clock_mhz"] = clock_mhz
    data["dram"] = dram
    return data


def test_dram_bandwidth_in_both_units_is_rejected(root):
    data = _dram_chip(root, 200, {"bandwidth_gb_per_s": 1.6, "bandwidth_bytes_per_cycle": 8})
    with pytest.raises(ConfigError) as err:
        load_arch(data, label="both.yaml")
    assert err.value.file == "both.yaml"
    assert err.value.key == "dram.bandwidth_bytes_per_cycle"
    message = str(err.value)
    assert "dram.bandwidth_gb_per_s" in message and "not both" in message


def test_dram_gb_per_s_becomes_bytes_per_core_cycle(root):
    # 1.6 GB/s = 1.6e9 B/s; at 200 MHz (2e8 cycles/s): 1.6e9 / 2e8 = 8 B/cycle
    slow = load_arch(_dram_chip(root, 200, {"bandwidth_gb_per_s": 1.6})).dram
    assert slow.bandwidth_gb_per_s == 1.6
    assert slow.bandwidth_bytes_per_cycle == pytest.approx(8.0)
    # the same DRAM behind a 400 MHz core: 1.6e9 / 4e8 = 4 B per (shorter) cycle
    fast = load_arch(_dram_chip(root, 400, {"bandwidth_gb_per_s": 1.6})).dram
    assert fast.bandwidth_bytes_per_cycle == pytest.approx(4.0)
    # 300 GB/s at 700 MHz: 3e11 / 7e8 = 428.571... B/cycle
    hbm = load_arch(_dram_chip(root, 700, {"bandwidth_gb_per_s": 300})).dram
    assert hbm.bandwidth_bytes_per_cycle == pytest.approx(3e11 / 7e8)


def test_dram_bytes_per_cycle_stays_the_alternative(root):
    dram = load_arch(_dram_chip(root, 400, {"bandwidth_bytes_per_cycle": 8})).dram
    assert dram.bandwidth_bytes_per_cycle == 8.0  # per core cycle, whatever the clock
    assert dram.bandwidth_gb_per_s is None
    default = load_arch(_dram_chip(root, 200, {})).dram
    assert default.bandwidth_bytes_per_cycle == 16.0
    assert default.latency_ns == 0.0 and default.latency_cycles == 0.0  # default: no latency


def test_dram_latency_in_core_cycles(root):
    # 27.5 ns at 200 MHz (5 ns per cycle): 27.5 / 5 = 5.5 cycles
    dram = load_arch(_dram_chip(root, 200, {"bandwidth_gb_per_s": 1.6, "latency_ns": 27.5})).dram
    assert dram.latency_ns == 27.5
    assert dram.latency_cycles == pytest.approx(5.5)
    # 28 ns at 700 MHz: 28 * 700 / 1000 = 19.6 cycles; 30 ns at 400 MHz: 30 * 0.4 = 12 cycles
    hbm = load_arch(_dram_chip(root, 700, {"latency_ns": 28})).dram
    assert hbm.latency_cycles == pytest.approx(19.6)
    assert load_arch(_dram_chip(root, 400, {"latency_ns": 30})).dram.latency_cycles == (
        pytest.approx(12.0)
    )


@pytest.mark.parametrize(
    ("name", "gb_per_s", "per_cycle", "latency_cycles"),
    [
        ("dflnpu", 1.6, 8.0, 5.5),  # 1.6e9 / 2e8 = 8; 27.5 ns x 0.2 GHz = 5.5
        ("bp_baseline", 1.6, 8.0, 5.5),  # same DRAM as dflnpu
        ("tpu_like", 299.6, 428.0, 19.6),  # 2.996e11 / 7e8 = 428; 28 ns x 0.7 GHz = 19.6
    ],
)
def test_shipped_chips_keep_their_dram_bandwidth(root, name, gb_per_s, per_cycle, latency_cycles):
    dram = load_arch(root / "arch_configs" / f"{name}.yaml").dram
    assert dram.bandwidth_gb_per_s == gb_per_s
    assert dram.bandwidth_bytes_per_cycle == per_cycle  # exactly the value used before
    assert dram.latency_cycles == pytest.approx(latency_cycles)


def test_sram_cells_default_and_choice(root):
    data = chip(root)
    assert load_arch(data).energy.sram_cells == "lstp"
    data["energy"].pop("sram_cells")
    assert load_arch(data).energy.sram_cells == "lstp"  # default
    data["energy"]["sram_cells"] = "hp"
    assert load_arch(data).energy.sram_cells == "hp"

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
        (lambda d: d["dram"].update(bandwidth_bytes_per_cycle=0), "dram.bandwidth_bytes_per_cycle"),
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

"""``accelsim simulate`` and ``accelsim compare`` through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import run_cli, run_cli_json

DFLNPU = "arch_configs/dflnpu.yaml"
LENET = "workloads/lenet_mnist.yaml"
KEYS = {
    "algorithm",
    "cycles",
    "latency_s",
    "energy_pj",
    "energy_breakdown_pj",
    "utilization",
    "dram_bytes",
    "layers",
    "steady_state",
}


def test_simulate_json_has_the_contract_keys():
    doc = run_cli_json(
        "simulate", DFLNPU, LENET, "--algorithm", "pdfa", "--iterations", "3", "--json"
    )
    assert set(doc) >= KEYS
    assert doc["algorithm"] == "pdfa"
    assert sum(doc["energy_breakdown_pj"].values()) == doc["energy_pj"]
    assert set(doc["utilization"]) == {"lc_fp", "lc_bw", "depc", "vector"}
    assert [row["layer"] for row in doc["layers"]][:5] == ["conv1", "conv2", "fc1", "fc2", "fc3"]
    assert doc["latency_s"] == pytest.approx(doc["cycles"] / (doc["clock_mhz"] * 1e6))


def test_simulate_table_and_batch_one():
    proc = run_cli("simulate", DFLNPU, LENET, "--batch-size", "1")
    assert proc.returncode == 0, proc.stderr
    assert "energy breakdown" in proc.stdout and "conv1" in proc.stdout


def test_trace_is_chrome_trace_json(tmp_path):
    out = tmp_path / "trace.json"
    doc = run_cli_json("simulate", DFLNPU, LENET, "-a", "dfa", "--trace", str(out), "--json")
    trace = json.loads(out.read_text())
    slices = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    names = {e["args"]["name"] for e in trace["traceEvents"] if e["name"] == "thread_name"}
    assert names == set(doc["utilization"])
    assert all({"name", "ts", "dur", "pid", "tid"} <= set(e) for e in slices)
    assert max(e["ts"] + e["dur"] for e in slices) == pytest.approx(doc["latency_s"] * 1e6)


def test_compare_json():
    doc = run_cli_json("compare", DFLNPU, LENET, "--json")
    assert set(doc["results"]) >= {"bp", "dfa", "pdfa"}
    assert doc["speedup_vs_bp"]["bp"] == 1.0 and doc["energy_ratio_vs_bp"]["bp"] == 1.0
    assert doc["speedup_vs_bp"]["pdfa"] >= doc["speedup_vs_bp"]["dfa"]


def test_compare_table_lists_each_algorithm():
    proc = run_cli("compare", DFLNPU, LENET, "--algorithms", "bp,dfa,hybrid-dfa")
    assert proc.returncode == 0, proc.stderr
    assert all(name in proc.stdout for name in ("bp", "dfa", "hybrid-dfa"))


def _bad_chip(tmp_path, edit) -> str:
    data = yaml.safe_load(Path(DFLNPU).read_text())
    edit(data)
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


@pytest.mark.parametrize(
    ("edit", "key"),
    [
        (lambda d: d["units"][0].update(rows=0), "units[0].rows"),
        (lambda d: d["dram"].update(bandwidth_bytes_per_cycle=0), "dram.bandwidth_bytes_per_cycle"),
        (lambda d: d["units"][2].update(tasks=["ep", "wg"]), "units[].tasks"),
    ],
)
def test_bad_chip_is_one_line_exit_2(tmp_path, edit, key):
    path = _bad_chip(tmp_path, edit)
    proc = run_cli("simulate", path, LENET, "--algorithm", "dfa")
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert path in proc.stderr and key in proc.stderr


def test_missing_and_malformed_files_exit_2(tmp_path):
    proc = run_cli("simulate", str(tmp_path / "none.yaml"), LENET)
    assert proc.returncode == 2 and "none.yaml" in proc.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_text("units: [ {name: x\n")
    proc = run_cli("compare", str(broken), LENET)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1


TPU = "arch_configs/tpu_like.yaml"
ONLINE = "workloads/lenet_mnist_online.yaml"


def test_chosen_mapping_is_in_the_json_and_the_trace(tmp_path):
    # batch 1 on a 128x128 ws array: conv1's DFA projection (m = 1, k = 10, n = 4704) maps
    # transposed (1 fold of 2*128 + 128 + 4704 - 2 = 5086 cycles, not 37 of 383)
    trace = tmp_path / "t.json"
    doc = run_cli_json("simulate", TPU, ONLINE, "-a", "dfa", "--json", "--trace", str(trace))
    (projection,) = doc["mappings"]["conv1.dfa_ep"]
    assert (projection["unit"], projection["orientation"]) == ("mxu", "nkm")
    assert (projection["sr"], projection["sc"], projection["t"]) == (10, 1, 4704)
    assert projection["cycles"] == 5086 - 1
    slices = [e for e in json.loads(trace.read_text())["traceEvents"] if e.get("ph") == "X"]
    mapped = next(e for e in slices if e["name"] == "conv1.dfa_ep")
    assert mapped["args"]["mapping"][0]["orientation"] == "nkm"


def test_simulate_pdfa_defaults_to_a_steady_state_and_says_so():
    doc = run_cli_json("simulate", DFLNPU, LENET, "-a", "pdfa", "--json")
    assert doc["iterations"] > 1 and doc["steady_state"]["reached"]
    assert doc["weight_delay"] == 1  # pdfa's default, as on DF-LNPU
    short = run_cli("simulate", DFLNPU, LENET, "-a", "pdfa", "-n", "1")
    assert "NO steady state reached in 1 iterations" in short.stdout


def test_weight_delay_option_changes_the_pdfa_schedule():
    delayed = run_cli_json("simulate", DFLNPU, LENET, "-a", "pdfa", "--json")
    gated = run_cli_json("simulate", DFLNPU, LENET, "-a", "pdfa", "--weight-delay", "0", "--json")
    assert gated["weight_delay"] == 0
    per = "cycles_per_iteration"
    assert delayed["steady_state"][per] < gated["steady_state"][per]
    bad = run_cli("simulate", DFLNPU, LENET, "-a", "pdfa", "--weight-delay", "2")
    assert bad.returncode == 2


MDNET = "workloads/mdnet_online.yaml"
BP_BASELINE = "arch_configs/bp_baseline.yaml"


def test_simulate_json_carries_the_chip_area():
    doc = run_cli_json("simulate", DFLNPU, LENET, "-a", "dfa", "--json")
    assert doc["area_mm2"] > 0
    assert sum(doc["area_breakdown_mm2"].values()) == doc["area_mm2"]
    assert {"lc_fp.datapath", "depc.datapath", "depc.prng", "global_buffer"} <= set(
        doc["area_breakdown_mm2"]
    )


def test_compare_equal_area_resizes_the_baseline(tmp_path):
    # a 12x12 bp_baseline is resized to dflnpu's area: 23x23 (the size the file picks by hand)
    data = yaml.safe_load(Path(BP_BASELINE).read_text())
    data["units"][0].update(rows=12, cols=12)
    small = tmp_path / "small.yaml"
    small.write_text(yaml.safe_dump(data))
    doc = run_cli_json(
        "compare", DFLNPU, MDNET, "--algorithms", "bp,dfa", "--equal-area", str(small), "--json"
    )
    eq = doc["equal_area"]
    assert eq["baseline"] == "bp_baseline"
    assert eq["scaled_pe_arrays"] == {"core": {"rows": 23, "cols": 23}}
    assert eq["target_area_mm2"] == doc["results"]["bp"]["area_mm2"]
    assert eq["baseline_area_mm2"] < eq["scaled_area_mm2"]
    # within one step: a row and a column more or less (2*23 + 1 MAC PEs of 3257 um2) is further
    assert abs(eq["scaled_area_mm2"] - eq["target_area_mm2"]) < 47 * 3257e-6 / 2
    assert eq["scale"] == pytest.approx(529 / 144)
    assert set(eq["speedup_vs_equal_area_bp"]) == {"bp", "dfa"}
    assert set(eq["energy_ratio_vs_equal_area_bp"]) == {"bp", "dfa"}
    own = doc["results"]["bp"]["steady_state"]["cycles_per_iteration"]
    assert eq["speedup_vs_equal_area_bp"]["bp"] == pytest.approx(
        eq["bp_cycles_per_iteration"] / own
    )
    table = run_cli("compare", DFLNPU, MDNET, "--algorithms", "bp,dfa", "--equal-area", str(small))
    assert table.returncode == 0, table.stderr
    assert "equal area: bp_baseline resized to core 23x23" in table.stdout


def test_compare_equal_area_bad_baseline_exits_2(tmp_path):
    missing = tmp_path / "none.yaml"
    proc = run_cli("compare", DFLNPU, LENET, "--equal-area", str(missing))
    assert proc.returncode == 2 and "none.yaml" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    bad = _bad_chip(tmp_path, lambda d: d["units"][0].update(cols=0))
    proc = run_cli("compare", DFLNPU, LENET, "--equal-area", bad)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1
    assert bad in proc.stderr and "units[0].cols" in proc.stderr


def test_an_empty_algorithm_list_is_an_error_not_the_defaults():
    proc = run_cli("compare", DFLNPU, LENET, "--algorithms", ",,,")
    assert proc.returncode == 2 and "--algorithms" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1

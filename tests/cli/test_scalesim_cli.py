"""``accelsim scalesim``: JSON shape, readable table, and one-line errors for bad inputs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import ROOT, run_cli, run_cli_json

EXAMPLES = ROOT / "examples" / "scalesim"
CFG = EXAMPLES / "scale.cfg"
LENET = EXAMPLES / "lenet.csv"


def scalesim(*args: str):
    return run_cli("scalesim", *map(str, args))


def assert_one_line_error(proc, *needles: str) -> None:
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    for needle in needles:
        assert needle in proc.stderr, proc.stderr


def test_json_has_the_contract_keys_and_totals_add_up():
    data = run_cli_json(
        "scalesim",
        "--config",
        CFG,
        "--topology",
        LENET,
        "--layout",
        EXAMPLES / "layout.csv",
        "--json",
    )
    assert [layer["name"] for layer in data["layers"]] == ["conv1", "conv2", "conv3"]
    keys = {
        "name",
        "total_cycles",
        "stall_cycles",
        "cycles_incl_prefetch",
        "mapping_efficiency",
        "compute_utilization",
    }
    for layer in data["layers"]:
        assert keys <= set(layer)
        assert 0 < layer["compute_utilization"] <= layer["mapping_efficiency"] <= 1
        assert layer["cycles_incl_prefetch"] > layer["total_cycles"]
    assert data["total_cycles"] == sum(layer["total_cycles"] for layer in data["layers"])


def test_gemm_mode_reads_m_n_k(tmp_path):
    topo = tmp_path / "g.csv"
    topo.write_text("Layer, M, N, K,\nfc, 64, 64, 64,\n")
    data = run_cli_json("scalesim", "--config", CFG, "--topology", topo, "--gemm", "--json")
    # 32x32 ws array, M=N=K=64: SCALE-Sim 3.0.0 reports 631 cycles
    assert data["layers"][0]["total_cycles"] == 631


def test_table_names_every_layer_and_the_total():
    proc = scalesim("--config", CFG, "--topology", LENET)
    assert proc.returncode == 0, proc.stderr
    for word in ("conv1", "conv2", "conv3", "total", "incl. prefetch"):
        assert word in proc.stdout


def test_help_shows_an_example():
    proc = scalesim("--help")
    assert proc.returncode == 0
    assert "Example" in proc.stdout and "--topology" in proc.stdout


def test_rows_with_and_without_trailing_commas_read_the_same(tmp_path):
    with_commas = LENET.read_text()
    without = "\n".join(line.rstrip().rstrip(",") for line in with_commas.splitlines()) + "\n"
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(with_commas)
    b.write_text(without)
    out_a = run_cli_json("scalesim", "--config", CFG, "--topology", a, "--json")
    out_b = run_cli_json("scalesim", "--config", CFG, "--topology", b, "--json")
    assert out_a == out_b


@pytest.mark.parametrize(
    ("row", "needles"),
    [
        ("conv1, 32, 32, 5, 5, 1, six, 1,", ["row 2, column 7 (Num Filter)", "positive integer"]),
        ("conv1, 32, 32, 5, 5, 1, 6,", ["row 2", "8 columns"]),
        ("conv1, 4, 32, 5, 5, 1, 6, 1,", ["row 2, column 4 (Filter Height)", "at most"]),
        ("conv1, 32, 32, 5, 5, 1, 6, 0,", ["row 2, column 8 (Strides)"]),
        ("conv1, 32, 32, 5, 5, 1, 6, 1, 3,", ["row 2, column 9 (Sparsity)", "N:M"]),
    ],
)
def test_bad_topology_rows_name_file_row_and_column(tmp_path, row, needles):
    topo = tmp_path / "bad.csv"
    topo.write_text(LENET.read_text().splitlines()[0] + "\n" + row + "\n")
    assert_one_line_error(scalesim("--config", CFG, "--topology", topo), str(topo), *needles)


def test_topology_without_a_header_is_rejected(tmp_path):
    topo = tmp_path / "noheader.csv"
    topo.write_text("fc, 1, 2, 3,\n")
    proc = scalesim("--config", CFG, "--topology", topo, "--gemm")
    assert_one_line_error(proc, "row 1", "header")


def edit_cfg(tmp_path: Path, old: str, new: str) -> Path:
    text = CFG.read_text()
    assert old in text
    path = tmp_path / "bad.cfg"
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "needles"),
    [
        ("ArrayHeight : 32", "ArrayHeight : 0", ["[architecture_presets] ArrayHeight"]),
        ("ArrayWidth : 32", "ArrayWidth : wide", ["ArrayWidth", "'wide'"]),
        ("Dataflow : ws", "Dataflow : rs", ["Dataflow", "os, ws, is"]),
        ("OfmapSramSzkB : 128\n", "", ["OfmapSramSzkB", "required"]),
        ("InterfaceBandwidth : CALC", "InterfaceBandwidth : FAST", ["InterfaceBandwidth"]),
        ("InterfaceBandwidth : CALC", "InterfaceBandwidth : USER", ["USER", "CALC"]),
        ("SparsitySupport : false", "SparsitySupport : true", ["SparsitySupport"]),
        ("[general]", "general", ["section headers"]),
    ],
)
def test_bad_config_names_file_and_key(tmp_path, old, new, needles):
    cfg = edit_cfg(tmp_path, old, new)
    assert_one_line_error(scalesim("--config", cfg, "--topology", LENET), str(cfg), *needles)


@pytest.mark.parametrize("which", ["--config", "--topology", "--layout"])
def test_missing_files_are_one_line_errors(tmp_path, which):
    args = {"--config": CFG, "--topology": LENET, "--layout": EXAMPLES / "layout.csv"}
    args[which] = tmp_path / "missing.file"
    flat = [str(item) for pair in args.items() for item in pair]
    assert_one_line_error(scalesim(*flat), "missing.file", "no such file")


def test_json_is_deterministic():
    first = scalesim("--config", CFG, "--topology", LENET, "--json").stdout
    second = scalesim("--config", CFG, "--topology", LENET, "--json").stdout
    assert json.loads(first) == json.loads(second)


@pytest.mark.parametrize(
    ("cell", "column"),
    [("3²", "column 2 (M)"), ("٣٢", "column 2 (M)"), ("1_000", "column 2 (M)")],
)
def test_non_ascii_digits_in_topology_are_one_line_errors(tmp_path, cell, column):
    topo = tmp_path / "g.csv"
    topo.write_text(f"Layer, M, N, K,\nfc, {cell}, 64, 64,\n", encoding="utf-8")
    proc = scalesim("--config", CFG, "--topology", topo, "--gemm")
    assert_one_line_error(proc, str(topo), f"row 2, {column}", "positive integer")


@pytest.mark.parametrize("value", [str(2**31), "9" * 5000])
def test_topology_and_cfg_share_the_integer_bound(tmp_path, value):
    topo = tmp_path / "g.csv"
    topo.write_text(f"Layer, M, N, K,\nfc, 64, {value}, 64,\n")
    proc = scalesim("--config", CFG, "--topology", topo, "--gemm")
    assert_one_line_error(proc, "row 2, column 3 (N)", "<= 2147483647")
    cfg = edit_cfg(tmp_path, "ArrayHeight : 32", f"ArrayHeight : {value}")
    proc = scalesim("--config", cfg, "--topology", LENET)
    assert_one_line_error(proc, "[architecture_presets] ArrayHeight", "<= 2147483647")


def test_largest_allowed_integer_is_accepted_in_both_files(tmp_path):
    topo = tmp_path / "g.csv"
    topo.write_text(f"Layer, M, N, K,\nfc, 1, {2**31 - 1}, 1,\n")
    cfg = edit_cfg(tmp_path, "OfmapOffset : 20000000", f"OfmapOffset : {2**31 - 1}")
    data = run_cli_json("scalesim", "--config", cfg, "--topology", topo, "--gemm", "--json")
    assert data["layers"][0]["stall_cycles"] == 0


def test_unicode_digits_in_cfg_are_rejected(tmp_path):
    cfg = edit_cfg(tmp_path, "ArrayHeight : 32", "ArrayHeight : ٣٢")
    assert_one_line_error(scalesim("--config", cfg, "--topology", LENET), "ArrayHeight")


def test_ini_errors_are_kept_whole_on_one_line(tmp_path):
    cfg = edit_cfg(tmp_path, "ArrayWidth : 32", "ArrayWidth : 32\nArrayHeight : 16")
    proc = scalesim("--config", cfg, "--topology", LENET)
    # configparser's message: "While reading from '<path>' [line N]: option 'arrayheight' in
    # section 'architecture_presets' already exists" - well past 80 characters
    assert_one_line_error(proc, "option 'arrayheight'", "already exists", "[line 7]")

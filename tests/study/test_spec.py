"""Sweep specs: paths resolve relative to the spec, dotted paths are checked, types too."""

from __future__ import annotations

import pytest

from accelsim.config.errors import ConfigError
from accelsim.study.spec import load_spec

GRID = """algorithms: [bp, dfa]
grid:
  arch.clock_mhz: [100, 200]
  arch.units.fp_core.rows: [8, 32]
  workload.layers.conv1.out_channels: [4, 6]
"""


def test_files_are_resolved_against_the_spec_folder(make_spec, sweep_dir, monkeypatch):
    spec_path = make_spec(GRID)
    monkeypatch.chdir(sweep_dir / "configs")  # the working directory must not matter
    spec = load_spec(spec_path)
    assert spec.arch_file == (sweep_dir / "configs" / "chip.yaml").resolve()
    assert spec.workload_file == (sweep_dir / "configs" / "lenet.yaml").resolve()
    assert spec.arch["name"] == "test-chip"


def test_grid_axes_keep_spec_order_and_address_list_entries_by_name(make_spec):
    spec = load_spec(make_spec(GRID))
    assert [axis.path for axis in spec.grid] == [
        "arch.clock_mhz",
        "arch.units.fp_core.rows",
        "workload.layers.conv1.out_channels",
    ]
    assert spec.grid[1].parts == ("units", "fp_core", "rows")
    assert spec.grid[2].root == "workload"
    assert spec.algorithms == ("bp", "dfa")


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        (
            "algorithms: [bp]\ngrid: {arch.clock_mhz_typo: [1]}\n",
            "grid.arch.clock_mhz_typo",
            "clock_mhz",
        ),
        (
            "algorithms: [bp]\ngrid: {arch.units.no_core.rows: [1]}\n",
            "grid.arch.units.no_core",
            "fp_core",
        ),
        ("algorithms: [bp]\ngrid: {workload.layers.conv9.kernel: [3]}\n", "conv9", "conv1"),
        ("algorithms: [bp]\ngrid: {chip.clock_mhz: [1]}\n", "grid.chip.clock_mhz", "arch."),
        ("algorithms: [bp]\ngrid: {}\n", "grid", "non-empty"),
        ("algorithms: [bp]\ngrid: {arch.clock_mhz: []}\n", "grid.arch.clock_mhz", "non-empty"),
        ("algorithms: [bp]\ngrid: {arch.clock_mhz: 100}\n", "grid.arch.clock_mhz", "list"),
        ("algorithms: [bp]\ngrid: {arch.clock_mhz: [fast]}\n", "grid.arch.clock_mhz", "number"),
        ("algorithms: [bp]\ngrid: {arch.units.fp_core.dataflow: [1]}\n", "dataflow", "string"),
        ("algorithms: [bp]\ngrid: {arch.clock_mhz: [1, 1]}\n", "grid.arch.clock_mhz", "distinct"),
        ("algorithms: [bogus]\n", "algorithms[0]", "dfa"),
        ("algorithms: []\n", "algorithms", "non-empty"),
        ("algorithms: [bp]\nsurprise: 1\n", "surprise", "keys"),
        (
            "algorithms: [bp]\nrandom: {samples: 0, ranges: {arch.clock_mhz: [1]}}\n",
            "random.samples",
            "[1, 1000000]",
        ),
        (
            "algorithms: [bp]\nrandom: {samples: 2000000, ranges: {arch.clock_mhz: [1]}}\n",
            "random.samples",
            "[1, 1000000]",
        ),
        (
            "algorithms: [bp]\nrandom: {samples: 2, ranges: {arch.clock_mhz: {low: 5, high: 1}}}\n",
            "high",
            "> low",
        ),
        (
            "algorithms: [bp]\nrandom: {samples: 2, ranges: {arch.clock_mhz: {low: 0, high: 9, "
            "log: true}}}\n",
            "low",
            "> 0",
        ),
        (
            "algorithms: [bp]\nrandom: {samples: 2, ranges: {arch.units.fp_core.dataflow: "
            "{low: 0, high: 9}}}\n",
            "dataflow",
            "not a number",
        ),
        ("algorithms: [bp]\nrandom: {samples: 2, ranges: {}}\n", "random.ranges", "non-empty"),
        (
            "algorithms: [bp]\ngrid: {arch.clock_mhz: [1]}\nrandom: {samples: 2, ranges: "
            "{arch.clock_mhz: [5, 6]}}\n",
            "random.ranges.arch.clock_mhz",
            "not also swept",
        ),
    ],
)
def test_bad_specs_name_file_key_and_expectation(make_spec, body, key, words):
    path = make_spec(body)
    with pytest.raises(ConfigError) as info:
        load_spec(path)
    message = info.value.message
    assert str(path) in message
    assert key in message
    assert words in message
    assert "\n" not in message


def test_missing_arch_file_is_named(make_spec, sweep_dir):
    (sweep_dir / "configs" / "chip.yaml").unlink()
    path = make_spec(GRID)
    with pytest.raises(ConfigError) as info:
        load_spec(path)
    assert info.value.key == "arch"
    assert "chip.yaml" in info.value.message


def test_missing_spec_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_spec(tmp_path / "absent.yaml")


def test_integer_ranges_default_to_the_type_in_the_file(make_spec):
    spec = load_spec(
        make_spec(
            "algorithms: [bp]\nrandom:\n  samples: 3\n  ranges:\n"
            "    arch.global_buffer.size_kb: {low: 64, high: 1024, log: true}\n"
            "    arch.dram.energy_pj_per_byte: {low: 5, high: 40, integer: false}\n"
        )
    )
    size, energy = spec.random.axes
    assert size.range.integer and size.range.log  # 512 in the file is an integer
    assert not energy.range.integer and not energy.range.log

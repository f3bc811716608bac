"""Raw YAML that json.dumps cannot sort or encode is validated and hashed without a traceback."""

from __future__ import annotations

import datetime
import json

import pytest
from conftest import ROOT, run_cli

from accelsim.config.errors import ConfigError
from accelsim.study.expand import config_hash
from accelsim.study.run import load_points
from accelsim.study.spec import canonical_json

ARCH = ROOT / "arch_configs" / "dflnpu.yaml"
WORKLOAD = ROOT / "workloads" / "lenet_mnist.yaml"


@pytest.mark.parametrize(
    ("grid", "words"),
    [
        ("workload.dataset: [{1: a, b: c}]", ["workload.dataset", "dataset.1"]),
        ("workload.dataset: [{when: 2024-01-01, name: m}]", ["workload.dataset", "when"]),
    ],
)
def test_grid_mappings_with_mixed_keys_or_dates_are_config_errors(tmp_path, grid, words):
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"arch: {ARCH}\nworkload: {WORKLOAD}\nalgorithms: [bp]\ngrid:\n  {grid}\n")
    with pytest.raises(ConfigError) as err:
        load_points(spec)
    for word in (str(spec), *words):
        assert word in str(err.value)
    proc = run_cli("sweep", spec, "--store", tmp_path / "s.db", "--dry-run")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr


def test_an_arch_file_with_an_integer_key_is_a_config_error(tmp_path):
    arch = tmp_path / "chip.yaml"
    arch.write_text(ARCH.read_text().replace("clock_mhz:", "7: seven\nclock_mhz:", 1))
    spec = tmp_path / "spec.yaml"
    spec.write_text(f"arch: {arch}\nworkload: {WORKLOAD}\nalgorithms: [bp]\n")
    with pytest.raises(ConfigError) as err:
        load_points(spec)
    assert str(spec) in str(err.value) and "7" in str(err.value)
    proc = run_cli("sweep", spec, "--store", tmp_path / "s.db")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert not (tmp_path / "s.db").exists()


def test_a_self_referencing_alias_in_the_spec_is_a_config_error(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        f"arch: {ARCH}\nworkload: {WORKLOAD}\nalgorithms: [bp]\n"
        "grid:\n  workload.dataset: &a [*a]\n"
    )
    with pytest.raises(ConfigError, match="alias"):
        load_points(spec)


def test_canonical_json_never_fails_and_keeps_the_old_hash_of_plain_data():
    plain = {"b": [1, 2.5, None, True], "a": {"y": "z", "x": 1}}
    old = json.dumps(plain, sort_keys=True, separators=(",", ":"), default=str)
    assert canonical_json(plain) == old  # stores written before keep their hashes
    loop: list = []
    loop.append(loop)
    odd = {1: "a", "b": loop, "d": datetime.date(2024, 1, 1), (1, 2): {None: 1.0}}
    assert json.loads(canonical_json(odd)) == {
        "1": "a",
        "b": ["<recursive>"],
        "d": "2024-01-01",
        "(1, 2)": {"null": 1.0},
    }
    assert len(config_hash(odd, {2: "x", "y": 3}, "bp", None)) == 64

"""``sweep --dry-run`` streams: a huge random sweep lists its first points at once, with the
count computed, instead of building every point first; an absurd ``samples`` is an input error."""

from __future__ import annotations

import json
import time

from conftest import ROOT, run_cli

HEAD = (
    f"arch: {ROOT / 'arch_configs' / 'dflnpu.yaml'}\n"
    f"workload: {ROOT / 'workloads' / 'lenet_mnist.yaml'}\nalgorithms: [bp, dfa]\n"
    "grid: {arch.clock_mhz: [100, 200]}\n"
)


def test_a_million_samples_dry_run_lists_the_first_points_quickly(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        HEAD + "random:\n  samples: 1000000\n  ranges:\n"
        "    arch.dram.energy_pj_per_byte: {low: 10, high: 100, integer: false}\n"
    )
    start = time.perf_counter()
    proc = run_cli("sweep", spec, "--store", tmp_path / "s.db", "--dry-run", "--limit", "3")
    assert time.perf_counter() - start < 60  # building 4e6 points first takes far longer
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(lines) == 3 and all(line["state"] == "todo" for line in lines)
    assert "4000000 points" in proc.stderr and "--limit" in proc.stderr
    assert not (tmp_path / "s.db").exists()


def test_samples_beyond_the_bound_are_an_input_error(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(
        HEAD + "random: {samples: 1000000000, ranges: {arch.dram.energy_pj_per_byte: [1, 2]}}\n"
    )
    proc = run_cli("sweep", spec, "--store", tmp_path / "s.db", "--dry-run")
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "random.samples" in proc.stderr and "1000000" in proc.stderr


def test_small_dry_runs_list_every_point_and_the_count(tmp_path):
    spec = tmp_path / "spec.yaml"
    spec.write_text(HEAD)
    proc = run_cli("sweep", spec, "--store", tmp_path / "s.db", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert len(proc.stdout.splitlines()) == 4
    assert proc.stderr.strip() == "dry run: 4 points"

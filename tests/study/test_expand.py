"""Expansion: cartesian grids, seeded random samples, stable order, hashes of resolved configs."""

from __future__ import annotations

import itertools

import pytest

from accelsim.config.errors import ConfigError
from accelsim.study.expand import expand
from accelsim.study.run import validate_points
from accelsim.study.spec import load_spec

RANDOM = """algorithms: [dfa]
random:
  samples: 12
  seed: {seed}
  ranges:
    arch.global_buffer.size_kb: {{low: 64, high: 1024, log: true}}
    arch.dram.energy_pj_per_byte: {{low: 5, high: 40, integer: false}}
    workload.dataset.batch_size: [1, 8, 32, 64]
"""


def test_grid_is_the_cartesian_product_times_algorithms(make_spec):
    spec = load_spec(
        make_spec(
            "algorithms: [bp, pdfa]\ngrid:\n  arch.clock_mhz: [100, 200, 300]\n"
            "  arch.units.fp_core.rows: [8, 32]\n"
        )
    )
    points = expand(spec)
    expected = [
        {"arch.clock_mhz": c, "arch.units.fp_core.rows": r, "algorithm": a}
        for c, r, a in itertools.product([100, 200, 300], [8, 32], ["bp", "pdfa"])
    ]
    assert [p.as_dict() for p in points] == expected
    assert [p.index for p in points] == list(range(len(expected)))
    assert len({p.key for p in points}) == len(points)


def test_values_land_in_the_resolved_dicts_and_the_originals_stay(make_spec):
    spec = load_spec(
        make_spec(
            "algorithms: [bp]\ngrid:\n  arch.units.depc.rows: [4]\n"
            "  workload.layers.fc1.out_features: [64]\n"
        )
    )
    (point,) = expand(spec)
    depc = next(u for u in point.arch["units"] if u["name"] == "depc")
    fc1 = next(layer for layer in point.workload["layers"] if layer["name"] == "fc1")
    assert depc["rows"] == 4 and fc1["out_features"] == 64
    assert next(u for u in spec.arch["units"] if u["name"] == "depc")["rows"] == 8
    other = next(u for u in point.arch["units"] if u["name"] == "fp_core")
    assert other["rows"] == 16


def test_random_samples_are_reproducible_with_the_seed(make_spec):
    first = [p.as_dict() for p in expand(load_spec(make_spec(RANDOM.format(seed=7))))]
    again = [p.as_dict() for p in expand(load_spec(make_spec(RANDOM.format(seed=7))))]
    other = [p.as_dict() for p in expand(load_spec(make_spec(RANDOM.format(seed=8))))]
    assert first == again
    assert first != other


def test_random_samples_stay_in_their_ranges_with_their_types(make_spec):
    points = expand(load_spec(make_spec(RANDOM.format(seed=3))))
    assert 1 < len(points) <= 12
    for point in points:
        values = point.as_dict()
        size = values["arch.global_buffer.size_kb"]
        assert isinstance(size, int) and 64 <= size <= 1024
        energy = values["arch.dram.energy_pj_per_byte"]
        assert isinstance(energy, float) and 5 <= energy <= 40
        assert values["workload.dataset.batch_size"] in (1, 8, 32, 64)
    sizes = {p.as_dict()["arch.global_buffer.size_kb"] for p in points}
    assert len(sizes) > 3  # a log-uniform draw, not a constant


def test_random_is_crossed_with_the_grid(make_spec):
    body = (
        "algorithms: [bp, dfa]\ngrid: {arch.clock_mhz: [100, 200]}\n"
        "random: {samples: 3, seed: 0, ranges: {workload.dataset.batch_size: [1, 2, 4, 8, 16]}}\n"
    )
    points = expand(load_spec(make_spec(body)))
    draws = {p.as_dict()["workload.dataset.batch_size"] for p in points}
    assert len(points) == 2 * 2 * len(draws)
    for p in points:
        assert p.as_dict()["arch.clock_mhz"] in (100, 200)


def test_repeated_random_draws_are_kept_once(make_spec):
    body = "algorithms: [bp]\nrandom: {samples: 20, ranges: {arch.clock_mhz: [100, 200]}}\n"
    points = expand(load_spec(make_spec(body)))
    assert sorted(p.as_dict()["arch.clock_mhz"] for p in points) == [100, 200]


def test_the_hash_covers_the_resolved_configuration(make_spec):
    body = "algorithms: [bp, dfa]\ngrid: {arch.clock_mhz: [100, 200]}\n"
    a = expand(load_spec(make_spec(body)))
    b = expand(load_spec(make_spec(body.replace("[100, 200]", "[200, 100]"), name="b.yaml")))
    by_point = {tuple(p.as_dict().items()): p.key for p in a}
    for p in b:
        assert by_point[tuple(p.as_dict().items())] == p.key


def test_a_value_the_loader_rejects_is_a_config_error_naming_the_point(make_spec):
    spec = load_spec(make_spec("algorithms: [bp]\ngrid: {arch.units.fp_core.rows: [16, 0]}\n"))
    with pytest.raises(ConfigError) as info:
        validate_points(spec, expand(spec))
    message = info.value.message
    assert "arch.units.fp_core.rows=0" in message and spec.file in message
    assert "rows" in message and "\n" not in message

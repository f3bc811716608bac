"""Zero skipping in the cost model: measured zero fractions shrink the work of skipping units."""

from __future__ import annotations

import copy
import math

import pytest

from accelsim.config.arch import load_arch
from accelsim.config.errors import ConfigError
from accelsim.config.workload import load_workload
from accelsim.hw.cost import cost_model, task_cost
from accelsim.hw.sparsity import task_densities
from accelsim.lowering.lower import lower
from accelsim.report.api import simulate_point

ARCH = {
    "name": "zs",
    "clock_mhz": 100,
    "units": [
        {"name": "fwd", "rows": 8, "cols": 8, "dataflow": "ws", "tasks": ["fp"]},
        {"name": "bwd", "rows": 8, "cols": 8, "dataflow": "os", "tasks": ["ep", "wg"]},
        {"name": "dep", "rows": 4, "cols": 4, "dataflow": "os", "tasks": ["dfa_ep"]},
        {"name": "vec", "kind": "vector", "lanes": 8, "tasks": ["wu", "loss"]},
    ],
    # generous memories: no stalls, so cycles are compute cycles
    "global_buffer": {"size_kb": 4096, "bandwidth_bytes_per_cycle": 4096},
    "dram": {"bandwidth_bytes_per_cycle": 4096},
}
WORKLOAD = {
    "name": "zs-mlp",
    "dataset": {"input_shape": [64], "num_classes": 10, "batch_size": 16},
    "layers": [
        {"name": "fc1", "type": "linear", "out_features": 48, "activation": "relu"},
        {"name": "fc2", "type": "linear", "out_features": 32, "activation": "relu"},
        {"name": "fc3", "type": "linear", "out_features": 10},
    ],
}
ZEROS = {
    "fc1": {"input": 0.25, "error": 0.5},
    "fc2": {"input": 0.5, "error": 0.6},
    "fc3": {"input": 0.6, "error": 0.1},
}


def _arch(skipping: bool):
    data = copy.deepcopy(ARCH)
    for unit in data["units"][:3]:
        unit["zero_skipping"] = skipping
    return load_arch(data)


def _graph(algorithm: str):
    return lower(load_workload(WORKLOAD), algorithm)


@pytest.mark.parametrize("algorithm", ["bp", "dfa"])
def test_skipping_unit_scales_gemm_cycles_and_macs_by_the_measured_density(algorithm):
    arch, graph = _arch(True), _graph(algorithm)
    dense_model = cost_model(arch, graph)
    sparse_model = cost_model(arch, graph, ZEROS)
    rho = task_densities(graph, ZEROS)
    checked = 0
    for task in graph.tasks:
        (unit,) = arch.units_for(task.kind)
        dense = task_cost(task, unit, dense_model)
        sparse = task_cost(task, unit, sparse_model)
        if unit.kind == "vector":
            assert sparse == dense
            continue
        elementwise = math.ceil(task.vector_ops / unit.cols)
        gemm = dense.compute_cycles - elementwise
        assert sparse.compute_cycles == math.ceil(gemm * rho[task.index]) + elementwise
        assert sparse.macs == math.ceil(task.macs * rho[task.index])
        assert sparse.dram_bytes == dense.dram_bytes  # operands stay stored dense
        if rho[task.index] < 1:
            assert sparse.compute_cycles < dense.compute_cycles
            checked += 1
    assert checked >= 3


def test_densities_follow_the_operands_of_each_task():
    bp, dfa = _graph("bp"), _graph("dfa")
    rho_bp, rho_dfa = task_densities(bp, ZEROS), task_densities(dfa, ZEROS)
    assert rho_bp[bp.task("fc2.fp").index] == pytest.approx(1 - 0.5)
    assert rho_bp[bp.task("fc2.wg").index] == pytest.approx((1 - 0.5) * (1 - 0.6))
    # BP's EP through W_3 multiplies d_3
    assert rho_bp[bp.task("fc3.ep").index] == pytest.approx(1 - 0.1)
    # DFA's error projection multiplies the output error e = d_3
    assert rho_dfa[dfa.task("fc1.dfa_ep").index] == pytest.approx(1 - 0.1)
    assert all(bp.tasks[i].kind not in ("wu", "loss") for i in rho_bp)


def test_unit_without_skipping_ignores_the_zero_fractions():
    arch, graph = _arch(False), _graph("bp")
    dense_model, sparse_model = cost_model(arch, graph), cost_model(arch, graph, ZEROS)
    for task in graph.tasks:
        (unit,) = arch.units_for(task.kind)
        assert task_cost(task, unit, sparse_model) == task_cost(task, unit, dense_model)
    plain = simulate_point(_arch(False), WORKLOAD, "bp", 2)
    with_zeros = simulate_point(_arch(False), WORKLOAD, "bp", 2, zero_fractions=ZEROS)
    assert with_zeros == plain


def test_simulation_of_a_skipping_chip_is_faster_and_cheaper():
    dense = simulate_point(_arch(True), WORKLOAD, "bp", 2)
    sparse = simulate_point(_arch(True), WORKLOAD, "bp", 2, zero_fractions=ZEROS)
    assert sparse["cycles"] < dense["cycles"]
    assert sparse["macs"] < dense["macs"]
    assert sparse["energy_breakdown_pj"]["compute"] < dense["energy_breakdown_pj"]["compute"]
    assert dense == simulate_point(_arch(True), WORKLOAD, "bp", 2)  # no zeros: dense


def test_zero_skipping_key_is_validated():
    bad = copy.deepcopy(ARCH)
    bad["units"][0]["zero_skipping"] = "yes"
    with pytest.raises(ConfigError, match=r"units\[0\]\.zero_skipping"):
        load_arch(bad)
    vector = copy.deepcopy(ARCH)
    vector["units"][3]["zero_skipping"] = True
    with pytest.raises(ConfigError, match=r"units\[3\]\.zero_skipping"):
        load_arch(vector)
    assert not load_arch(ARCH).units[0].zero_skipping


@pytest.mark.parametrize(
    "zeros",
    [
        {"fc9": {"input": 0.1}},
        {"fc1": {"input": 1.5}},
        {"fc1": {"input": -0.1}},
        {"fc1": {"weights": 0.1}},
        {"fc1": 0.3},
    ],
)
def test_bad_zero_fractions_are_config_errors(zeros):
    with pytest.raises(ConfigError, match="zero_fractions"):
        simulate_point(_arch(True), WORKLOAD, "bp", 1, zero_fractions=zeros)

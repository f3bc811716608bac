"""The simulator costs exactly the feedback the functional engine trains with.

For small workloads x algorithms, the lowering's routes equal the engine plan's error sources,
and each DFA-EP task's stored B entries and multiply-adds equal those of the operator that
``accelsim.nn.Network`` actually draws (counted from its arrays); the geometry's byte and density
figures equal the engine's ``operator_bytes``/``operator_density`` and ``layer_stats``.
"""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from accelsim.config.feedback_geometry import direct_feedback
from accelsim.config.workload import load_workload
from accelsim.lowering import lower
from accelsim.lowering.presets import settings_for
from accelsim.nn import Network
from accelsim.nn.algorithms.feedback import ConvFeedback, DenseFeedback
from accelsim.nn.algorithms.feedback_ops import (
    CSRFeedback,
    DilatedConvFeedback,
    PooledSignal,
    SequenceFeedback,
    operator_bytes,
    operator_density,
)
from accelsim.nn.algorithms.plan import OUTPUT, Direct, FromAbove
from accelsim.nn.algorithms.stats import _form, layer_stats


def synthetic(shape, classes):
    return {
        "name": "synthetic",
        "input_shape": list(shape),
        "num_classes": classes,
        "batch_size": 4,
    }


def mlp():
    return {
        "name": "mlp",
        "dataset": synthetic([3, 4], 4),
        "layers": [
            {"name": "fc1", "type": "linear", "out_features": 9, "activation": "tanh"},
            {"name": "fc2", "type": "linear", "out_features": 7, "activation": "tanh"},
            {"name": "fc3", "type": "linear", "out_features": 5, "activation": "tanh"},
            {"name": "fc4", "type": "linear", "out_features": 4},
        ],
    }


def cnn2d():
    return {
        "name": "cnn2d",
        "dataset": synthetic([2, 12, 11], 3),
        "layers": [
            {"name": "conv1", "type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1,
             "activation": "relu"},
            {"name": "pool1", "type": "maxpool2d", "kernel": 2},
            {"name": "conv2", "type": "conv2d", "out_channels": 6, "kernel": 3, "groups": 2,
             "activation": "relu"},
            {"name": "conv3", "type": "conv2d", "out_channels": 4, "kernel": 2,
             "activation": "relu"},
            {"name": "pool2", "type": "avgpool2d", "kernel": 2},
            {"name": "fc1", "type": "linear", "out_features": 3},
        ],
    }  # fmt: skip


def cnn1d():
    return {
        "name": "cnn1d",
        "dataset": synthetic([2, 17], 3),
        "layers": [
            {"name": "conv1", "type": "conv1d", "out_channels": 4, "kernel": 5, "stride": 2,
             "padding": 1, "activation": "tanh"},
            {"name": "conv2", "type": "conv1d", "out_channels": 4, "kernel": 3, "groups": 2,
             "activation": "tanh"},
            {"name": "pool1", "type": "avgpool1d", "kernel": 2},
            {"name": "fc1", "type": "linear", "out_features": 6, "activation": "tanh"},
            {"name": "fc2", "type": "linear", "out_features": 3},
        ],
    }  # fmt: skip


def gru_last():
    return {
        "name": "gru-last",
        "dataset": synthetic([6, 3], 4),
        "layers": [
            {"name": "rnn1", "type": "gru", "hidden_size": 8, "output": "sequence"},
            {"name": "rnn2", "type": "lstm", "hidden_size": 7},
            {"name": "fc1", "type": "linear", "out_features": 5, "activation": "tanh"},
            {"name": "fc2", "type": "linear", "out_features": 4},
        ],
    }


def rnn_per_step():
    return {
        "name": "rnn-steps",
        "dataset": synthetic([5, 3], 4),
        "layers": [
            {"name": "rnn1", "type": "rnn", "hidden_size": 6, "output": "sequence"},
            {"name": "fc1", "type": "linear", "out_features": 5, "activation": "relu"},
            {"name": "fc2", "type": "linear", "out_features": 4},
        ],
    }


WORKLOADS = {"mlp": mlp, "cnn2d": cnn2d, "cnn1d": cnn1d, "gru": gru_last, "rnn": rnn_per_step}

# (label, algorithm, training.feedback.conv_mode, training.extensions)
CASES = [
    ("dfa", "dfa", "dense", None),
    ("dfa-conv", "dfa", "conv", None),
    ("sparse-1", "sparse-dfa", "dense", {"density": 1.0}),
    ("sparse-0.1", "sparse-dfa", "dense", {"density": 0.1}),
    ("sparse-0.01", "sparse-dfa", "dense", {"density": 0.01}),
    ("sparse-groups", "sparse-dfa", "dense", {"density": 0.1, "groups": 2}),
    ("dense-groups", "sparse-dfa", "conv", {"density": 1.0, "groups": 2}),
    ("modular", "modular-dfa", "dense", None),
    ("modular-sparse", "modular-dfa", "conv", {"density": 0.1}),
    ("hybrid", "hybrid-dfa", "dense", None),
    ("hybrid-sparse", "hybrid-dfa", "dense", {"density": 0.1}),
    ("fa", "fa", "dense", None),
]


def spec_for(workload: str, algorithm: str, conv_mode: str, extensions: dict | None) -> dict:
    spec = copy.deepcopy(WORKLOADS[workload]())
    spec["training"] = {"algorithm": algorithm, "feedback": {"conv_mode": conv_mode}}
    if extensions:
        spec["training"]["extensions"] = extensions
    return spec


def stored_nonzeros(op) -> int:
    """Non-zero B values the engine's operator holds, counted from its arrays."""
    inner = op.inner if isinstance(op, PooledSignal) else op
    if isinstance(inner, DilatedConvFeedback):
        return int(np.count_nonzero(inner.kernel[inner.class_mask()]))
    if isinstance(inner, (CSRFeedback, SequenceFeedback)):
        return int(np.count_nonzero(inner.dense_matrix()))
    assert isinstance(inner, (DenseFeedback, ConvFeedback)), type(inner)
    return int(np.count_nonzero(inner.matrix))


def signal_of(network, signal: str) -> tuple[tuple[int, ...], str]:
    if signal == OUTPUT:
        return network.output_shape, "output"
    layer = next(layer for layer in network.layers if layer.name == signal)
    return layer.output_shape, layer.spec.kind


def applications(op, signal_shape: tuple[int, ...], signal_kind: str) -> int:
    """Times the engine applies B per sample: per step for a per-step error into a sequence."""
    if isinstance(op, SequenceFeedback):
        steps = op.target_shape[0]
        if len(signal_shape) == 2 and signal_shape[0] == steps and signal_kind != "conv":
            return steps
    return 1


def build(workload: str, case: tuple):
    _, algorithm, conv_mode, extensions = case
    spec = spec_for(workload, algorithm, conv_mode, extensions)
    network = Network.from_spec(copy.deepcopy(spec), seed=1)
    graph = lower(load_workload(copy.deepcopy(spec)), algorithm)
    return network, graph, network.plan(algorithm)


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_lowering_routes_and_feedback_equal_the_engines_operators(workload, case):
    network, graph, plan = build(workload, case)
    names = list(graph.layers)
    assert names == [layer.name for layer in network.layers if layer.has_params]
    routes = {name: (route, src) for name, route, src in graph.routes}
    n = graph.batch_size
    total = 0
    for position, name in enumerate(names):
        source = plan.source(name)
        if isinstance(source, FromAbove):
            want = ("loss", "") if name == names[-1] else ("bp", names[position + 1])
            assert routes[name] == want, name
            continue
        assert isinstance(source, Direct)
        signal = names[-1] if source.signal == OUTPUT else source.signal
        assert routes[name] == ("dfa", signal), name
        task = graph.task(f"{name}.dfa_ep")
        nnz = stored_nonzeros(source.operator)
        assert task.elements("filter") == nnz, name
        shape, kind = signal_of(network, source.signal)
        assert task.macs == n * nnz * applications(source.operator, shape, kind), name
        total += nnz
    for name, arrays in plan.down.items():  # FA: B replaces the weights carrying error down
        nnz = sum(int(np.count_nonzero(a)) for a in arrays.values())
        assert graph.task(f"{name}.ep").elements("filter") == nnz, name
        total += nnz
    assert graph.feedback_elements == total


@pytest.mark.parametrize("case", [c for c in CASES if c[1] != "fa"], ids=lambda c: c[0])
@pytest.mark.parametrize("workload", list(WORKLOADS))
def test_geometry_bytes_and_density_equal_the_engines(workload, case):
    network, _, plan = build(workload, case)
    spec = spec_for(workload, *case[1:])
    wl = load_workload(spec)
    settings = settings_for(wl, case[1])
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, *network.layers[0].input_shape)).astype(np.float32)
    out = network.output_shape
    y = rng.integers(0, out[-1], size=(3, out[0]) if len(out) == 2 else 3)
    stats = layer_stats(network, x, y, case[1])
    for layer in wl.param_layers:
        source = plan.source(layer.name)
        if not isinstance(source, Direct):
            assert stats[layer.name]["error_source"] == "bp"
            continue
        shape, kind = signal_of(network, source.signal)
        geo = direct_feedback(layer, shape, settings, kind)
        op = source.operator
        assert geo.form == _form(op), layer.name
        assert geo.engine_bytes == operator_bytes(op), layer.name
        assert geo.density == pytest.approx(operator_density(op, geo.error_width)), layer.name
        assert stats[layer.name]["feedback_bytes"] == geo.engine_bytes
        assert stats[layer.name]["feedback_dense_bytes"] == 4 * geo.dense_entries
        assert stats[layer.name]["feedback_density"] == pytest.approx(geo.density)
        inner = op.inner if isinstance(op, PooledSignal) else op
        if hasattr(inner, "dense_matrix"):
            assert inner.dense_matrix().shape == (geo.rows, geo.error_width)
        else:
            assert math.prod(op.target_shape) * geo.error_width == geo.dense_entries

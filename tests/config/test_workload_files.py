"""The shipped workload files load, and their shapes are inferred as the papers define them."""

from __future__ import annotations

from pathlib import Path

import pytest

from accelsim.config import load_workload

WORKLOADS = Path(__file__).resolve().parents[2] / "workloads"


def test_mnist1d_cnn_is_the_reference_cnn():
    w = load_workload(WORKLOADS / "cnn_mnist1d.yaml")
    assert [layer.output_shape for layer in w.layers] == [(25, 19), (25, 10), (25, 5), (10,)]
    assert w.layers[-1].in_features == 125
    assert [layer.kernel for layer in w.layers[:3]] == [(5,), (3,), (3,)]


def test_mlps_and_lenet_shapes():
    mlp1d = load_workload(WORKLOADS / "mlp_mnist1d.yaml")
    assert [(l.in_features, l.out_features) for l in mlp1d.layers] == [
        (40, 100),
        (100, 100),
        (100, 10),
    ]
    mlp = load_workload(WORKLOADS / "mlp_mnist.yaml")
    assert [(l.in_features, l.out_features) for l in mlp.layers] == [
        (784, 500),
        (500, 500),
        (500, 10),
    ]
    lenet = load_workload(WORKLOADS / "lenet_mnist.yaml")
    assert lenet.layer("pool2").output_shape == (16, 5, 5)
    assert lenet.layer("fc1").in_features == 400


@pytest.mark.parametrize(
    "name", ["mlp_mnist1d.yaml", "cnn_mnist1d.yaml", "mlp_mnist.yaml", "lenet_mnist.yaml"]
)
def test_training_workloads_validate_with_training_settings(name):
    workload = load_workload(WORKLOADS / name, require_training=True)
    assert workload.training.epochs >= 1 and workload.layers[-1].has_params

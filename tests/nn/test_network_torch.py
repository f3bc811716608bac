"""Whole-network BP gradients equal torch autograd (skipped when torch is not installed)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from nets import cnn1d, cnn2d

from accelsim.nn import Network

torch = pytest.importorskip("torch")
F = torch.nn.functional

ROOT = Path(__file__).resolve().parents[2]
ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "none": lambda t: t}


def torch_forward(net: Network, params: dict, x: torch.Tensor) -> torch.Tensor:
    """The same network written with torch.nn.functional, from the layer specs."""
    h = x
    for layer in net.layers:
        s = layer.spec
        w, b = params.get(f"{s.name}.weight"), params.get(f"{s.name}.bias")
        if s.kind == "linear":
            h = F.linear(h.flatten(1), w, b)
        elif s.kind == "conv":
            conv = F.conv1d if s.spatial_rank == 1 else F.conv2d
            h = conv(
                h, w, b, stride=s.stride, padding=s.padding, dilation=s.dilation, groups=s.groups
            )
        elif s.kind == "pool":
            name = f"{s.pool_mode}_pool{s.spatial_rank}d"
            h = getattr(F, name)(h, s.kernel, s.stride, s.padding)
        elif s.kind == "flatten":
            h = h.flatten(1)
        h = ACT[s.activation](h)
    return h


def assert_matches_torch(net: Network, n: int = 8) -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, *net.layers[0].input_shape)).astype(np.float32)
    y = rng.integers(0, net.output_shape[-1], size=n)
    loss, grads = net.loss_and_grads(x, y, "bp")
    params = {
        k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in net.params.items()
    }
    reference = F.cross_entropy(
        torch_forward(net, params, torch.tensor(x, dtype=torch.float64)), torch.tensor(y)
    )
    reference.backward()
    assert loss == pytest.approx(reference.item(), rel=1e-5)
    for name, param in params.items():
        expected = param.grad.numpy()
        scale = np.abs(expected).max()
        assert np.abs(grads[name] - expected).max() <= 1e-4 * scale, name


@pytest.mark.parametrize(
    "workload", ["lenet_mnist.yaml", "cnn_mnist1d.yaml", "mlp_mnist1d.yaml", "mlp_mnist.yaml"]
)
def test_workload_bp_gradients_equal_torch_autograd(workload):
    net = Network.from_spec(ROOT / "workloads" / workload, seed=0)
    assert_matches_torch(net)


@pytest.mark.parametrize(
    "spec",
    [cnn2d("maxpool2d", "relu"), cnn1d("maxpool1d", "sigmoid"), cnn2d("avgpool2d", "tanh")],
    ids=["2d-max", "1d-max", "2d-avg"],
)
def test_strided_grouped_dilated_network_gradients_equal_torch(spec):
    assert_matches_torch(Network.from_spec(spec, seed=2))

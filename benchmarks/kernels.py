"""Benchmark of the convolution kernels, LeNet and VGG-16 training steps: ours vs torch CPU.

Part 1 (small CNNs): for each layer shape, times forward + backward-data + backward-weight
(median of several repeats after warm-up) of the numba kernels in accelsim.nn.kernels, torch
CPU at the same thread count, and a plain numpy im2col implementation written below; then a
whole LeNet training step (forward, backward, SGD update).

Part 2 (VGG-16, ``workloads/vgg16_cifar10.yaml``, batch 16 and 64): a per-layer profile of each
distinct conv shape, forward, backward-data and backward-weight timed separately against
torch's ``conv2d`` and ``aten.convolution_backward`` (with the kernel variant our dispatcher
picked); the whole BP step (``Network.loss_and_grads(x, y, "bp")``) and DFA step against
torch's BP step (forward + cross-entropy + backward, same weights); and the DFA feedback
projections B_l e of every layer (dense, CSR at density 0.1, grouped dilated conv). Ours and
torch's runs alternate and the fastest of the repeats is kept. ResNet-20 is not profiled: graph
(residual) workloads do not exist yet.

Prints markdown tables; --write-docs puts them into the ``kernels`` and ``kernels-vgg``
sections of docs/performance.md.

    python benchmarks/kernels.py [--threads 2] [--repeats 15] [--write-docs]
    python benchmarks/kernels.py --part vgg --batches 16 64 --threads 1 --cpu-time
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from functools import partial
from pathlib import Path

import numba
import numpy as np
from _common import write_section
from numpy.lib.stride_tricks import sliding_window_view

try:  # imported before accelsim so torch's OpenMP runtime keeps its own default wait policy
    import torch
except ImportError:
    torch = None

from accelsim.nn.kernels import (  # noqa: E402
    activation_backward,
    activation_forward,
    conv2d_backward_data,
    conv2d_backward_weight,
    conv2d_forward,
    linear_backward_data,
    linear_backward_weight,
    linear_forward,
    pool2d_backward,
    pool2d_forward,
    softmax_cross_entropy,
)

ROOT = Path(__file__).resolve().parent.parent

# name, batch, C, H, W, Co, k, stride, padding  (1-D layers have H = 1 and kernel (1, k))
LAYERS = [
    ("cifar 3->32 @32x32", 64, 3, 32, 32, 32, (3, 3), (1, 1), (1, 1)),
    ("32->32 @16x16", 64, 32, 16, 16, 32, (3, 3), (1, 1), (1, 1)),
    ("32->64 @8x8", 64, 32, 8, 8, 64, (3, 3), (1, 1), (1, 1)),
    ("LeNet conv1 1->6 @28x28 b32", 32, 1, 28, 28, 6, (5, 5), (1, 1), (2, 2)),
    ("LeNet conv2 6->16 @14x14 b32", 32, 6, 14, 14, 16, (5, 5), (1, 1), (0, 0)),
    ("LeNet conv1 1->6 @28x28 b64", 64, 1, 28, 28, 6, (5, 5), (1, 1), (2, 2)),
    ("LeNet conv2 6->16 @14x14 b64", 64, 6, 14, 14, 16, (5, 5), (1, 1), (0, 0)),
    # MNIST-1D CNN (Greydanus 2020): 1->25 k5 s2 p1, then 25->25 k3 s2 p1 twice; L = 40.
    ("MNIST-1D conv1 1->25 L40 b100", 100, 1, 1, 40, 25, (1, 5), (1, 2), (0, 1)),
    ("MNIST-1D conv2 25->25 L19 b100", 100, 25, 1, 19, 25, (1, 3), (1, 2), (0, 1)),
    ("MNIST-1D conv3 25->25 L10 b100", 100, 25, 1, 10, 25, (1, 3), (1, 2), (0, 1)),
]


def median_ms(fn, repeats: int, clock=time.perf_counter, warmup: int = 3) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = clock()
        fn()
        times.append(clock() - t0)
    return 1e3 * statistics.median(times)


# ---- plain numpy im2col reference implementation -------------------------------------------


def np_im2col(x, k, s, p):
    xp = np.pad(x, ((0, 0), (0, 0), (p[0], p[0]), (p[1], p[1])))
    win = sliding_window_view(xp, k, axis=(2, 3))[:, :, :: s[0], :: s[1]]  # N C Ho Wo kh kw
    n, c, ho, wo = win.shape[:4]
    cols = win.transpose(0, 2, 3, 1, 4, 5).reshape(n * ho * wo, c * k[0] * k[1])
    return cols, ho, wo


def np_conv_step(x, w, b, dy_seed, k, s, p):
    n, c, h, wid = x.shape
    co = w.shape[0]
    cols, ho, wo = np_im2col(x, k, s, p)
    w2 = w.reshape(co, -1)
    y = (cols @ w2.T + b).reshape(n, ho, wo, co).transpose(0, 3, 1, 2)
    dy2 = dy_seed.transpose(0, 2, 3, 1).reshape(-1, co)
    dw = (dy2.T @ cols).reshape(w.shape)
    db = dy2.sum(axis=0)
    dcols = (dy2 @ w2).reshape(n, ho, wo, c, k[0], k[1])
    dxp = np.zeros((n, c, h + 2 * p[0], wid + 2 * p[1]), np.float32)
    for i in range(k[0]):
        for j in range(k[1]):
            dxp[:, :, i : i + s[0] * ho : s[0], j : j + s[1] * wo : s[1]] += dcols[
                :, :, :, :, i, j
            ].transpose(0, 3, 1, 2)
    dx = dxp[:, :, p[0] : p[0] + h, p[1] : p[1] + wid]
    return y, dx, dw, db


# ---- per-layer timings -----------------------------------------------------------------------


def layer_cases(layer, torch) -> dict:
    """Callables doing forward, backward-data and backward-weight of a layer, per implementation."""
    name, n, c, h, wid, co, k, s, p = layer
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, c, h, wid)).astype(np.float32)
    w = (rng.standard_normal((co, c, *k)) * 0.1).astype(np.float32)
    b = rng.standard_normal(co).astype(np.float32)
    y = conv2d_forward(x, w, b, s, p, (1, 1), 1)
    dy = rng.standard_normal(y.shape).astype(np.float32)

    def ours():
        conv2d_forward(x, w, b, s, p, (1, 1), 1)
        conv2d_backward_data(dy, w, x.shape, s, p, (1, 1), 1)
        conv2d_backward_weight(x, dy, w.shape, s, p, (1, 1), 1)

    cases = {"ours": ours, "numpy": lambda: np_conv_step(x, w, b, dy, k, s, p)}
    if torch is not None:
        xt = torch.tensor(x, requires_grad=True)
        wt = torch.tensor(w, requires_grad=True)
        bt = torch.tensor(b, requires_grad=True)
        dyt = torch.tensor(dy)

        def torch_step():
            xt.grad = wt.grad = bt.grad = None
            torch.nn.functional.conv2d(xt, wt, bt, s, p).backward(dyt)

        cases["torch"] = torch_step
    return cases


# ---- whole LeNet training step ---------------------------------------------------------------

LENET_SPEC = {
    "name": "lenet-bench",
    "dataset": {"input_shape": [1, 28, 28], "num_classes": 10, "batch_size": 64},
    "layers": [
        {"name": "conv1", "type": "conv2d", "out_channels": 6, "kernel": 5, "padding": 2,
         "activation": "relu"},
        {"name": "pool1", "type": "maxpool2d", "kernel": 2},
        {"name": "conv2", "type": "conv2d", "out_channels": 16, "kernel": 5, "activation": "relu"},
        {"name": "pool2", "type": "maxpool2d", "kernel": 2},
        {"name": "fc1", "type": "linear", "out_features": 120, "activation": "relu"},
        {"name": "fc2", "type": "linear", "out_features": 84, "activation": "relu"},
        {"name": "fc3", "type": "linear", "out_features": 10},
    ],
}  # fmt: skip


def lenet_params(rng):
    shapes = {"conv1": (6, 1, 5, 5), "conv2": (16, 6, 5, 5), "fc1": (120, 400), "fc2": (84, 120),
              "fc3": (10, 84)}  # fmt: skip
    params = {}
    for name, shape in shapes.items():
        fan_in = int(np.prod(shape[1:]))
        params[f"{name}.weight"] = (rng.standard_normal(shape) / np.sqrt(fan_in)).astype(np.float32)
        params[f"{name}.bias"] = np.zeros(shape[0], np.float32)
    return params


def kernel_lenet_step(params, x, labels, lr=0.01):
    """LeNet forward, backward and SGD update composed directly from the kernels."""
    one, z, pool = (1, 1), (0, 0), ((2, 2), (2, 2), (0, 0))
    a1 = conv2d_forward(x, params["conv1.weight"], params["conv1.bias"], one, (2, 2), one, 1)
    h1 = activation_forward(a1, "relu")
    p1, i1 = pool2d_forward(h1, *pool, "max")
    a2 = conv2d_forward(p1, params["conv2.weight"], params["conv2.bias"], one, z, one, 1)
    h2 = activation_forward(a2, "relu")
    p2, i2 = pool2d_forward(h2, *pool, "max")
    f = p2.reshape(len(x), -1)
    a3 = linear_forward(f, params["fc1.weight"], params["fc1.bias"])
    h3 = activation_forward(a3, "relu")
    a4 = linear_forward(h3, params["fc2.weight"], params["fc2.bias"])
    h4 = activation_forward(a4, "relu")
    a5 = linear_forward(h4, params["fc3.weight"], params["fc3.bias"])
    loss, d5 = softmax_cross_entropy(a5, labels)
    grads = {}
    grads["fc3.weight"], grads["fc3.bias"] = linear_backward_weight(h4, d5)
    d4 = activation_backward(linear_backward_data(d5, params["fc3.weight"]), a4, h4, "relu")
    grads["fc2.weight"], grads["fc2.bias"] = linear_backward_weight(h3, d4)
    d3 = activation_backward(linear_backward_data(d4, params["fc2.weight"]), a3, h3, "relu")
    grads["fc1.weight"], grads["fc1.bias"] = linear_backward_weight(f, d3)
    dp2 = linear_backward_data(d3, params["fc1.weight"]).reshape(p2.shape)
    dh2 = pool2d_backward(dp2, i2, h2.shape, *pool, "max")
    d2 = activation_backward(dh2, a2, h2, "relu")
    grads["conv2.weight"], grads["conv2.bias"] = conv2d_backward_weight(
        p1, d2, params["conv2.weight"].shape, one, z, one, 1
    )
    dp1 = conv2d_backward_data(d2, params["conv2.weight"], p1.shape, one, z, one, 1)
    dh1 = pool2d_backward(dp1, i1, h1.shape, *pool, "max")
    d1 = activation_backward(dh1, a1, h1, "relu")
    grads["conv1.weight"], grads["conv1.bias"] = conv2d_backward_weight(
        x, d1, params["conv1.weight"].shape, one, (2, 2), one, 1
    )
    for key, g in grads.items():
        params[key] -= lr * g
    return loss


def torch_lenet(torch, params):
    nn = torch.nn
    model = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip
    with torch.no_grad():
        for name, index in [("conv1", 0), ("conv2", 3), ("fc1", 7), ("fc2", 9), ("fc3", 11)]:
            mod = model[index]
            mod.weight.copy_(torch.tensor(params[f"{name}.weight"]))
            mod.bias.copy_(torch.tensor(params[f"{name}.bias"]))
    return model


def lenet_cases(batch: int, torch) -> dict:
    """Callables doing one LeNet SGD step: kernels composed here, the Network, and torch."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, batch)
    params = lenet_params(rng)
    cases = {"ours": lambda: kernel_lenet_step(params, x, labels)}
    try:
        from accelsim.nn import Network

        spec = dict(LENET_SPEC, dataset=dict(LENET_SPEC["dataset"], batch_size=batch))
        net = Network.from_spec(spec, input_shape=(1, 28, 28), seed=0)

        def network_step():
            _, grads = net.loss_and_grads(x, labels, algorithm="bp")
            for key, value in net.params.items():
                value -= 0.01 * grads[key]

        network_step()
        cases["network"] = network_step
    except Exception as exc:  # the Network is another module's work; report, do not fail
        cases["network_error"] = f"{type(exc).__name__}: {exc}"
    if torch is not None:
        model = torch_lenet(torch, params)
        opt = torch.optim.SGD(model.parameters(), lr=0.01)
        xt, yt = torch.tensor(x), torch.tensor(labels)

        def torch_step():
            opt.zero_grad()
            torch.nn.functional.cross_entropy(model(xt), yt).backward()
            opt.step()

        cases["torch"] = torch_step
    return cases


def measure(cases: dict, threads: int, repeats: int, cpu_time: bool, torch) -> dict:
    """Median ms of each callable with numba, torch and every BLAS set to ``threads`` threads;
    with ``cpu_time`` the clock is the process CPU time (robust to other processes' load)."""
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    clock = time.process_time if cpu_time else time.perf_counter
    out = {}
    for key, fn in cases.items():
        if not callable(fn):
            continue
        # numpy im2col gets its BLAS at the same thread count; our kernels set their own.
        with threadpool_limits(threads, user_api="blas") if key == "numpy" else _nothing():
            out[key] = median_ms(fn, max(3, repeats // 3) if key == "numpy" else repeats, clock)
    return out


class _nothing:
    def __enter__(self):
        return None

    def __exit__(self, *exc):
        return False


# ---- report ----------------------------------------------------------------------------------


def ratio(a, b) -> str:
    return f"{a / b:.2f}" if a and b else "-"


def ms(v) -> str:
    return f"{v:.2f}" if v else "-"


def table(rows, threads: int) -> str:
    lines = [
        "| case | ours ms | torch ms | numpy ms | ours/torch | numpy/torch "
        "| ours 1T cpu ms | torch 1T cpu ms | ours/torch 1T |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    for name, par, one in rows:
        t, t1 = par.get("torch"), one.get("torch")
        lines.append(
            f"| {name} | {ms(par.get('ours'))} | {ms(t)} | {ms(par.get('numpy'))} | "
            f"{ratio(par.get('ours'), t)} | {ratio(par.get('numpy'), t)} | "
            f"{ms(one.get('ours'))} | {ms(t1)} | {ratio(one.get('ours'), t1)} |"
        )
        if "network" in par:
            lines.append(
                f"| ... same step via accelsim.nn.Network | {ms(par['network'])} | {ms(t)} | - | "
                f"{ratio(par['network'], t)} | - | {ms(one.get('network'))} | {ms(t1)} | "
                f"{ratio(one.get('network'), t1)} |"
            )
    return "\n".join(lines)


# ---- VGG-16 per-layer profile and whole steps -----------------------------------------------

VGG16_WORKLOAD = ROOT / "workloads" / "vgg16_cifar10.yaml"
# distinct conv shapes of VGG-16 on 32x32 inputs: (C, Co, H=W, how many layers have it)
VGG16_CONVS = [
    (3, 64, 32, 1), (64, 64, 32, 1), (64, 128, 16, 1), (128, 128, 16, 1), (128, 256, 8, 1),
    (256, 256, 8, 2), (256, 512, 4, 1), (512, 512, 4, 2), (512, 512, 2, 3),
]  # fmt: skip
OPS = ("forward", "data", "weight")


def fastest_alternating(cases: dict, repeats: int, clock) -> dict:
    """Fastest time (ms) of each callable over ``repeats`` rounds that run every callable once,
    so ours and torch's runs see the same machine load; one warm-up round first."""
    for fn in cases.values():
        fn()
    best = dict.fromkeys(cases, float("inf"))
    for _ in range(repeats):
        for key, fn in cases.items():
            t0 = clock()
            fn()
            best[key] = min(best[key], clock() - t0)
    return {key: 1e3 * v for key, v in best.items()}


def vgg_layer_cases(c: int, co: int, hw: int, batch: int, torch) -> tuple[dict, dict]:
    """Callables per (implementation, op) for one 3x3 padding-1 conv, and our chosen variants."""
    from accelsim.nn.kernels.conv import choose_variant

    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, c, hw, hw)).astype(np.float32)
    w = (rng.standard_normal((co, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = np.zeros(co, np.float32)
    dy = rng.standard_normal((batch, co, hw, hw)).astype(np.float32)
    geo = ((1, 1), (1, 1), (1, 1), 1)
    variants = {op: choose_variant(op, x.shape, w.shape, *geo) for op in OPS}
    cases = {
        ("ours", "forward"): lambda: conv2d_forward(x, w, b, *geo),
        ("ours", "data"): lambda: conv2d_backward_data(dy, w, x.shape, *geo),
        ("ours", "weight"): lambda: conv2d_backward_weight(x, dy, w.shape, *geo),
    }
    if torch is not None:
        xt, wt, bt, dyt = (torch.tensor(a) for a in (x, w, b, dy))

        def backward(mask):
            return lambda: torch.ops.aten.convolution_backward(
                dyt, xt, wt, [co], [1, 1], [1, 1], [1, 1], False, [0, 0], 1, mask
            )

        cases[("torch", "forward")] = lambda: torch.nn.functional.conv2d(xt, wt, bt, 1, 1)
        cases[("torch", "data")] = backward([True, False, False])
        cases[("torch", "weight")] = backward([False, True, True])
    return cases, variants


def torch_vgg16(torch, net):
    """torch.nn.Sequential VGG-16 with our Network's weights (same conv/linear order)."""
    nn = torch.nn
    modules = []
    for layer in net.layers:
        spec = layer.spec
        if spec.kind == "conv":
            modules.append(nn.Conv2d(spec.in_channels, spec.out_channels, 3, padding=1))
        elif spec.kind == "linear":
            if not any(isinstance(m, nn.Flatten) for m in modules):
                modules.append(nn.Flatten())
            modules.append(nn.Linear(spec.in_features, spec.out_features))
        else:
            modules.append(nn.MaxPool2d(2))
            continue
        with torch.no_grad():
            modules[-1].weight.copy_(torch.tensor(layer.params["weight"]))
            modules[-1].bias.copy_(torch.tensor(layer.params["bias"]))
        if spec.activation == "relu":
            modules.append(nn.ReLU())
    return nn.Sequential(*modules)


def vgg_step_cases(batch: int, torch) -> dict:
    """One VGG-16 BP step and one DFA step (ours) and torch's BP step, gradients only."""
    from accelsim.nn import Network

    net = Network.from_spec(VGG16_WORKLOAD, seed=0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 3, 32, 32)).astype(np.float32)
    labels = rng.integers(0, 10, batch)
    cases = {
        "bp": lambda: net.loss_and_grads(x, labels, algorithm="bp"),
        "dfa": lambda: net.loss_and_grads(x, labels, algorithm="dfa"),
    }
    if torch is not None:
        model = torch_vgg16(torch, net)
        xt, yt = torch.tensor(x), torch.tensor(labels)

        def torch_step():
            model.zero_grad(set_to_none=True)
            torch.nn.functional.cross_entropy(model(xt), yt).backward()

        cases["torch"] = torch_step
    return cases


def feedback_cases(batch: int, torch) -> dict:
    """B_l e for every VGG-16 layer's output (K = 10 classes): dense, CSR at density 0.1 and
    grouped dilated conv (dilation 2, 2 groups) operators, and torch's dense e @ B^T."""
    from accelsim.nn import Network
    from accelsim.nn.algorithms.feedback import DenseFeedback
    from accelsim.nn.algorithms.feedback_ops import CSRFeedback, DilatedConvFeedback
    from accelsim.nn.kernels.sparse import random_csr

    net = Network.from_spec(VGG16_WORKLOAD, seed=0)
    rng = np.random.default_rng(0)
    e = rng.standard_normal((batch, 10)).astype(np.float32)
    targets = [layer.output_shape for layer in net.layers if layer.spec.kind in ("conv", "linear")]
    dense = [DenseFeedback(rng.standard_normal((int(np.prod(t)), 10)), t) for t in targets]
    csr = [CSRFeedback(random_csr(int(np.prod(t)), 10, 0.1, rng), t) for t in targets]
    dilated = [
        DilatedConvFeedback(
            rng.standard_normal((t[0], 10, -(-t[1] // 2), -(-t[2] // 2))).astype(np.float32),
            (2, 2), 2, t,
        )
        for t in targets
        if len(t) == 3
    ]  # fmt: skip
    cases = {
        "dense": lambda: [op.apply(e) for op in dense],
        "csr 0.1": lambda: [op.apply(e) for op in csr],
        "dilated d2 g2": lambda: [op.apply(e) for op in dilated],
    }
    if torch is not None:
        et = torch.tensor(e)
        mats = [torch.tensor(op.matrix) for op in dense]
        cases["torch dense"] = lambda: [et @ m.T for m in mats]
    return cases


# shapes of the variant table: CIFAR-sized convs of small CNNs and VGG-16, (C, Co, H=W)
VARIANT_SHAPES = [
    (32, 32, 16), (64, 64, 32), (64, 128, 16), (128, 128, 16), (32, 64, 8), (128, 256, 8),
    (256, 256, 8), (512, 512, 4), (512, 512, 2),
]  # fmt: skip


def _variant_cells(batch: int, c: int, co: int, hw: int, repeats: int, clock) -> list[str]:
    from accelsim.nn.kernels.conv import VARIANTS, choose_variant

    geo = ((1, 1), (1, 1), (1, 1), 1)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, c, hw, hw)).astype(np.float32)
    w = (rng.standard_normal((co, c, 3, 3)) / np.sqrt(9 * c)).astype(np.float32)
    b = np.zeros(co, np.float32)
    dy = rng.standard_normal((batch, co, hw, hw)).astype(np.float32)
    calls = {
        "forward": lambda v: conv2d_forward(x, w, b, *geo, variant=v),
        "data": lambda v: conv2d_backward_data(dy, w, x.shape, *geo, variant=v),
        "weight": lambda v: conv2d_backward_weight(x, dy, w.shape, *geo, variant=v),
    }
    cells = []
    for op in OPS:
        t = fastest_alternating({v: partial(calls[op], v) for v in VARIANTS}, repeats, clock)
        best = min(t.values())
        pick = choose_variant(op, x.shape, w.shape, *geo)
        cells += [f"{t[v]:.2f} ({t[v] / best:.2f}){'*' if v == pick else ''}" for v in VARIANTS]
    return cells


def variant_report(batches, threads: int, repeats: int, cpu_time: bool) -> str:
    """Every kernel variant forced on every shape (3x3, stride 1, padding 1), ms and the ratio to
    the fastest variant of that op and shape; '*' marks the variant the dispatcher picks."""
    from accelsim.nn.kernels.conv import VARIANTS

    numba.set_num_threads(threads)
    clock = time.process_time if cpu_time else time.perf_counter
    head = " | ".join(f"{op} {v}" for op in OPS for v in VARIANTS)
    lines = [
        f"| batch | layer | {head} |",
        "| --- | --- |" + " ---: |" * (len(OPS) * len(VARIANTS)),
    ]
    for batch in batches:
        for c, co, hw in VARIANT_SHAPES:
            cells = _variant_cells(batch, c, co, hw, repeats, clock)
            lines.append(f"| {batch} | {c}->{co} @{hw}x{hw} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def vgg_report(batches, threads: int, repeats: int, cpu_time: bool, torch) -> str:
    from threadpoolctl import threadpool_limits

    numba.set_num_threads(threads)
    if torch is not None:
        torch.set_num_threads(threads)
    clock = time.process_time if cpu_time else time.perf_counter
    out = []
    # torch's own GEMMs use MKL with its thread count; numpy's BLAS (our DFA feedback GEMMs via
    # numba use SciPy's) is limited to the same count for a like-for-like comparison
    with threadpool_limits(threads, user_api="blas"):
        for batch in batches:
            out.append(_vgg_batch_report(batch, repeats, clock, torch))
    return "\n\n".join(out)


def _vgg_batch_report(batch: int, repeats: int, clock, torch) -> str:
    lines = [
        f"**Batch {batch}.** Per distinct conv shape (3x3, padding 1), ms of one call; "
        "'x' = layers of that shape; ratio = ours / torch.",
        "",
        "| layer | x | variant f/d/w | fwd ours | fwd torch | fwd ratio | data ours | data torch "
        "| data ratio | weight ours | weight torch | weight ratio |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
    ]
    total = {"ours": 0.0, "torch": 0.0}
    for c, co, hw, count in VGG16_CONVS:
        cases, variants = vgg_layer_cases(c, co, hw, batch, torch)
        t = fastest_alternating(cases, repeats, clock)
        cells = []
        for op in OPS:
            a, b = t[("ours", op)], t.get(("torch", op))
            cells += [ms(a), ms(b), ratio(a, b)]
            total["ours"] += count * a
            total["torch"] += count * (b or 0.0)
        chosen = "/".join(variants[op] for op in OPS)
        lines.append(f"| {c}->{co} @{hw}x{hw} | {count} | {chosen} | " + " | ".join(cells) + " |")
    lines.append(
        f"| all 13 conv layers, f+d+w | 13 | | {ms(total['ours'])} | {ms(total['torch'])} | "
        f"{ratio(total['ours'], total['torch'])} | | | | | | |"
    )
    steps = fastest_alternating(vgg_step_cases(batch, torch), max(3, repeats // 2), clock)
    feedback = fastest_alternating(feedback_cases(batch, torch), repeats, clock)
    tb = steps.get("torch")
    lines += [
        "",
        "| whole step (loss and gradients) | ours ms | torch BP ms | ours / torch BP |",
        "| --- | ---: | ---: | ---: |",
        f"| BP | {ms(steps['bp'])} | {ms(tb)} | {ratio(steps['bp'], tb)} |",
        f"| DFA | {ms(steps['dfa'])} | {ms(tb)} | {ratio(steps['dfa'], tb)} |",
        "",
        "DFA feedback projections B_l e of all 16 layers (K = 10), ms: "
        + ", ".join(f"{key} {ms(v)}" for key, v in feedback.items())
        + ".",
    ]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--only", default="", help="substring filter on small-CNN case names")
    ap.add_argument("--part", choices=("all", "small", "vgg", "variants"), default="all")
    ap.add_argument("--batches", type=int, nargs="+", default=[16, 64], help="VGG-16 batches")
    ap.add_argument("--vgg-repeats", type=int, default=5)
    ap.add_argument(
        "--cpu-time", action="store_true", help="VGG part: process CPU time, not wall time"
    )
    ap.add_argument("--write-docs", action="store_true", help="update docs/performance.md")
    args = ap.parse_args()
    if args.part in ("all", "small"):
        small_part(args)
    if args.part == "variants":
        load_before = os.getloadavg()
        text = variant_report(args.batches, args.threads, args.vgg_repeats, args.cpu_time)
        clock = "process CPU time" if args.cpu_time else "wall time"
        text = (
            f"Kernel variants forced per op (3x3, stride 1, padding 1), ms and (ratio to the "
            f"fastest variant); * = the dispatcher's pick. {args.threads} thread(s), {clock}, "
            f"fastest of {args.vgg_repeats} alternating runs; load average before/after "
            f"{load_before[0]:.2f}/{os.getloadavg()[0]:.2f} on {os.cpu_count()} cores.\n\n" + text
        )
        print(text)
        if args.write_docs:
            flags = f"--part variants --threads {args.threads}"
            flags += " --cpu-time" if args.cpu_time else ""
            body = f"Command: `python benchmarks/kernels.py {flags} --write-docs`.\n\n" + text
            write_section(ROOT / "docs" / "performance.md", "kernels-variants", body)
    if args.part in ("all", "vgg"):
        load_before = os.getloadavg()
        text = vgg_report(args.batches, args.threads, args.vgg_repeats, args.cpu_time, torch)
        clock = "process CPU time" if args.cpu_time else "wall time"
        header = (
            f"VGG-16 (`workloads/vgg16_cifar10.yaml`), float32, {args.threads} thread(s) for "
            f"numba, torch and BLAS, {clock}, fastest of {args.vgg_repeats} alternating runs. "
            f"Load average before/after {load_before[0]:.2f}/{os.getloadavg()[0]:.2f} on "
            f"{os.cpu_count()} cores; torch {torch.__version__ if torch else 'absent'}."
        )
        text = header + "\n\n" + text
        print(text)
        if args.write_docs:
            flags = f"--part vgg --threads {args.threads}" + (
                " --cpu-time" if args.cpu_time else ""
            )
            section = "kernels-vgg" if not args.cpu_time else "kernels-vgg-cpu"
            body = f"Command: `python benchmarks/kernels.py {flags} --write-docs`.\n\n" + text
            write_section(ROOT / "docs" / "performance.md", section, body)


def small_part(args) -> None:
    load_before = os.getloadavg()
    rows, errors = [], []
    named = [(layer[0], lambda layer=layer: layer_cases(layer, torch)) for layer in LAYERS]
    named += [(f"LeNet SGD step b{b}", lambda b=b: lenet_cases(b, torch)) for b in (32, 64)]
    for name, make in named:
        if args.only not in name:
            continue
        cases = make()
        if "network_error" in cases:
            errors.append(cases["network_error"])
        par = measure(cases, args.threads, args.repeats, False, torch)
        one = measure(cases, 1, args.repeats, True, torch)
        rows.append((name, par, one))
    load_after = os.getloadavg()
    header = (
        f"Forward + backward-data + backward-weight per conv layer (no groups/dilation), and a "
        f"whole LeNet SGD step; float32, ms, median of {args.repeats} after warm-up. Columns 2-6: "
        f"wall time at {args.threads} threads (numba, torch and numpy's BLAS); columns 7-9: "
        f"process CPU time at 1 thread, which other processes' load does not inflate. "
        f"Machine: {platform.machine()}, {os.cpu_count()} cores; load average before/after "
        f"{load_before[0]:.2f}/{load_after[0]:.2f}; "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}; "
        f"numba {numba.__version__} ({numba.threading_layer()} layer, "
        f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', 'unset')}); "
        f"torch {torch.__version__ if torch else 'absent'}."
    )
    text = header + "\n\n" + table(rows, args.threads)
    if errors:
        text += "\n\naccelsim.nn.Network step not measured: " + errors[0]
    print(text)
    if args.write_docs:
        body = "Command: `python benchmarks/kernels.py --part small --write-docs`.\n\n" + text
        write_section(ROOT / "docs" / "performance.md", "kernels", body)


if __name__ == "__main__":
    main()

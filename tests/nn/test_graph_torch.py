"""Graph workloads against torch autograd in float64 (skipped cleanly without torch).

Random DAGs with every graph layer (add with fan-out, concat, batchnorm1d/2d, dropout, global
average pooling, depthwise convolution, frozen layers) are written again with
torch.nn.functional; BP gradients, FA directions (B in place of W^T through a custom autograd
function), running statistics and the DFA rules of docs/algorithms.md (injection at the
batchnorm of a conv -> batchnorm pair; ``block_outputs``) are compared with it.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from accelsim.nn import Network
from accelsim.nn.algorithms import backward

torch = pytest.importorskip("torch")
F = torch.nn.functional

ACT = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid, "none": lambda t: t}
DT = torch.float64


def random_dag(seed: int, classes: int = 5) -> dict:
    """A random DAG on (3, 6, 6) inputs: conv -> batchnorm pairs reading random earlier
    tensors (fan-out), depthwise convs, adds of equal-width tensors, concats, dropout, frozen
    layers; every open tensor is concatenated before global average pooling and a head of
    linear -> batchnorm1d -> linear."""
    rng = random.Random(seed)
    acts = ["tanh", "relu", "sigmoid"]
    layers: list[dict] = []
    width: dict[str, int] = {"input": 3}
    unread: list[str] = ["input"]
    count = 0

    def new(kind: str) -> str:
        nonlocal count
        count += 1
        return f"{kind}{count}"

    def take(name: str) -> str:
        if name in unread:
            unread.remove(name)
        return name

    def emit(layer: dict, channels: int) -> str:
        layers.append(layer)
        width[layer["name"]] = channels
        unread.append(layer["name"])
        return layer["name"]

    def conv_bn(source: str) -> str:
        out = rng.choice([2, 4])
        conv = emit(
            {
                "name": new("conv"),
                "type": "conv2d",
                "out_channels": out,
                "kernel": 3,
                "padding": 1,
                "inputs": [take(source)],
                "trainable": rng.random() > 0.25,
            },
            out,
        )
        take(conv)
        return emit(
            {
                "name": new("bn"),
                "type": "batchnorm2d",
                "activation": rng.choice(acts),
                "inputs": [conv],
                "trainable": rng.random() > 0.25,
            },
            out,
        )

    conv_bn("input")
    for _ in range(5):
        op = rng.choice(["conv_bn", "conv_bn", "depthwise", "add", "concat", "dropout"])
        tensors = [n for n in width if n != "input"]
        source = rng.choice(unread if unread and rng.random() < 0.6 else tensors)
        if source == "input":
            source = tensors[-1]
        if op == "conv_bn":
            conv_bn(source)
        elif op == "depthwise":
            c = width[source]
            emit(
                {
                    "name": new("dw"),
                    "type": "conv2d",
                    "out_channels": c,
                    "kernel": 3,
                    "padding": 1,
                    "groups": c,
                    "activation": rng.choice(acts),
                    "inputs": [take(source)],
                },
                c,
            )
        elif op == "dropout":
            emit(
                {"name": new("drop"), "type": "dropout", "p": 0.3, "inputs": [take(source)]},
                width[source],
            )
        else:
            partners = [
                n for n in tensors if n != source and (op == "concat" or width[n] == width[source])
            ]
            if not partners:
                conv_bn(source)
                continue
            other = rng.choice(partners)
            emit(
                {
                    "name": new(op),
                    "type": op,
                    "inputs": [take(source), take(other)],
                    "activation": rng.choice(["relu", "none"]),
                },
                width[source] + (width[other] if op == "concat" else 0),
            )
    if "input" in unread:
        unread.remove("input")
    if len(unread) > 1:
        emit({"name": "join", "type": "concat", "inputs": list(unread)}, 0)
        unread[:] = ["join"]
    layers += [
        {"name": "gap", "type": "global_avgpool", "inputs": [unread[0]]},
        {"name": "fc1", "type": "linear", "out_features": 6},
        {"name": "bnf", "type": "batchnorm1d", "activation": "tanh"},
        {"name": "fc2", "type": "linear", "out_features": classes},
    ]
    return {
        "name": f"dag{seed}",
        "dataset": {"input_shape": [3, 6, 6], "num_classes": classes, "batch_size": 8},
        "layers": layers,
    }


def fa_linear(b):
    class FALinear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, bias):
            ctx.save_for_backward(x)
            return F.linear(x, w, bias)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g @ b, g.t() @ x, g.sum(0)

    return FALinear.apply


def fa_conv(b, s):
    class FAConv(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, w, bias):
            ctx.save_for_backward(x, w)
            return F.conv2d(x, w, bias, s.stride, s.padding, s.dilation, s.groups)

        @staticmethod
        def backward(ctx, g):
            x, w = ctx.saved_tensors
            geometry = (s.stride, s.padding, s.dilation, s.groups)
            dx = torch.nn.grad.conv2d_input(x.shape, b, g, *geometry)
            dw = torch.nn.grad.conv2d_weight(x, w.shape, g, *geometry)
            return dx, dw, g.sum((0, 2, 3))

    return FAConv.apply


def torch_forward(net, params, buffers, x, records, down=None):
    """Every layer's (pre-activation a, output h) in float64; dropout reuses the engine's
    masks (from ``records``), batchnorm updates ``buffers`` as torch does."""
    down = down or {}
    outs = {"input": x}
    pre = {}
    for layer, record in zip(net.layers, records, strict=True):
        s = layer.spec
        ins = [outs[name] for name in s.inputs]
        w, b = params.get(f"{s.name}.weight"), params.get(f"{s.name}.bias")
        if s.kind == "conv":
            if s.name in down:
                a = fa_conv(down[s.name], s)(ins[0], w, b)
            else:
                a = F.conv2d(ins[0], w, b, s.stride, s.padding, s.dilation, s.groups)
        elif s.kind == "linear":
            flat = ins[0].flatten(1)
            a = fa_linear(down[s.name])(flat, w, b) if s.name in down else F.linear(flat, w, b)
        elif s.kind == "batchnorm":
            a = F.batch_norm(
                ins[0],
                buffers[f"{s.name}.running_mean"],
                buffers[f"{s.name}.running_var"],
                w,
                b,
                training=True,
                momentum=0.1,
                eps=1e-5,
            )
        elif s.kind == "add":
            a = sum(ins[1:], ins[0])
        elif s.kind == "concat":
            a = torch.cat(ins, dim=1)
        elif s.kind == "global_avgpool":
            a = ins[0].flatten(2).mean(2)
        elif s.kind == "dropout":
            a = ins[0] * torch.tensor(record.cache, dtype=DT)
        else:
            raise AssertionError(s.kind)
        pre[s.name] = a
        outs[s.name] = ACT[s.activation](a)
    return pre, outs


def setup(net, n=8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, *net.layers[0].input_shape)).astype(np.float32)
    y = rng.integers(0, net.output_shape[-1], size=n)
    params = {k: torch.tensor(v, dtype=DT, requires_grad=True) for k, v in net.params.items()}
    buffers = {k: torch.tensor(v, dtype=DT) for k, v in net.buffers.items()}
    return x, y, params, buffers


def engine(net, x, y, algorithm):
    """(grads, deltas, records, e) of one training step through the public engine."""
    logits, records = net.forward_records(x)
    p = np.exp(logits - logits.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    e = p.copy()
    e[np.arange(len(y)), y] -= 1
    e = (e / len(y)).astype(np.float32)
    grads, deltas = backward(net.layers, records, e, net.plan(algorithm))
    return grads, deltas, records, e


def close(got, want, name, rel=1e-4):
    """max |got - want| <= rel * max |want|."""
    want = np.asarray(want)
    scale = np.abs(want).max()
    assert got.shape == want.shape, name
    assert np.abs(got - want).max() <= rel * scale + 1e-12, name


def close_all(grads, names, want):
    """``close`` for every name; a gradient that is exactly zero in float64 (a bias feeding a
    batchnorm) must be float32 rounding noise, below 1e-5 of the largest gradient."""
    largest = max(float(g.abs().max()) for g in want)
    for name, g in zip(names, want, strict=True):
        if float(g.abs().max()) < 1e-9 * largest:
            assert np.abs(grads[name]).max() <= 1e-5 * largest, name
        else:
            close(grads[name], g.numpy(), name)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("algorithm", ["bp", "fa"])
def test_random_dag_matches_torch(seed, algorithm):
    net = Network.from_spec(random_dag(seed), seed=seed)
    kinds = {layer.spec.kind for layer in net.layers}
    assert {"batchnorm", "global_avgpool", "concat"} <= kinds
    x, y, params, buffers = setup(net, seed=seed)
    grads, _, records, _ = engine(net, x, y, algorithm)
    plan = net.plan(algorithm)
    down = {name: torch.tensor(arrays["weight"], dtype=DT) for name, arrays in plan.down.items()}
    _, outs = torch_forward(net, params, buffers, torch.tensor(x, dtype=DT), records, down)
    loss = F.cross_entropy(outs[net.layers[-1].name], torch.tensor(y))
    trainable = [
        k for k in params if k.split(".")[0] in {x.name for x in net.layers if x.trainable}
    ]
    frozen = set(params) - set(trainable)
    assert set(grads) == set(trainable)  # frozen layers get no gradient
    want = torch.autograd.grad(loss, [params[k] for k in trainable])
    close_all(grads, trainable, want)
    for name in frozen:
        assert name not in grads
    # running statistics after one training-mode pass: momentum 0.1, unbiased variance
    for name, value in net.buffers.items():
        close(value, buffers[name].numpy(), name, rel=1e-5)


def test_random_dags_cover_every_graph_feature():
    seen = set()
    for seed in range(6):
        for layer in random_dag(seed)["layers"]:
            seen.add(layer["type"])
            if layer.get("trainable") is False:
                seen.add("frozen")
            if layer.get("groups", 1) > 1:
                seen.add("depthwise")
            if layer["type"] == "add" and len(layer["inputs"]) == 2:
                seen.add("add")
    assert {
        "add",
        "concat",
        "batchnorm2d",
        "batchnorm1d",
        "dropout",
        "global_avgpool",
        "frozen",
        "depthwise",
    } <= seen


RESNET = {
    "name": "tiny-resnet",
    "dataset": {"input_shape": [3, 6, 6], "num_classes": 4, "batch_size": 8},
    "layers": [
        {"name": "stem", "type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
        {"name": "bn0", "type": "batchnorm2d", "activation": "relu"},
        {"name": "c1", "type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
        {"name": "bn1", "type": "batchnorm2d", "activation": "tanh"},
        {"name": "c2", "type": "conv2d", "out_channels": 4, "kernel": 3, "padding": 1},
        {"name": "bn2", "type": "batchnorm2d"},
        {"name": "add1", "type": "add", "inputs": ["bn2", "bn0"], "activation": "relu"},
        {"name": "gap", "type": "global_avgpool"},
        {"name": "fc", "type": "linear", "out_features": 4},
    ],
}


def _direct_check(net, x, y, plan_sites, params, buffers, records, e, grads):
    """For each injection site S with its region R: the gradients of R's parameters equal
    torch's BP of d_S = (B_S e) * f'(a_S) from S's pre-activation down to them."""
    pre, outs = torch_forward(net, params, buffers, torch.tensor(x, dtype=DT), records)
    plan = net.plan("dfa")
    logits = outs["fc"]
    e_torch = (torch.softmax(logits, 1) - F.one_hot(torch.tensor(y), 4)) / len(y)
    close(e, e_torch.detach().numpy(), "e", rel=1e-5)
    for site, region in plan_sites.items():
        op = plan.sources[site].operator
        B = torch.tensor(op.arrays()["B"], dtype=DT)
        a = pre[site]
        d = (e_torch.detach() @ B.T).reshape(a.shape)
        act = net.layers[[x.name for x in net.layers].index(site)].spec.activation
        if act != "none":
            d = d * torch.autograd.grad(ACT[act](a).sum(), a, retain_graph=True)[0]
        names = [f"{layer}.{p}" for layer in region for p in ("weight", "bias")]
        want = torch.autograd.grad(a, [params[n] for n in names], d, retain_graph=True)
        close_all(grads, names, want)


def test_dfa_injects_at_the_batchnorm_of_each_conv():
    net = Network.from_spec(RESNET, seed=3)
    plan = net.plan("dfa")
    kinds = {name: type(src).__name__ for name, src in plan.sources.items()}
    assert kinds == {
        "stem": "FromAbove",
        "bn0": "Direct",
        "c1": "FromAbove",
        "bn1": "Direct",
        "c2": "FromAbove",
        "bn2": "Direct",
        "fc": "FromAbove",
    }
    # nothing flows along the skip path or between blocks: only bn's own backward runs
    assert plan.sends_down(net.layers) == [
        False,
        True,
        False,
        True,
        False,
        True,
        False,
        False,
        False,
    ]
    x, y, params, buffers = setup(net)
    grads, deltas, records, e = engine(net, x, y, "dfa")
    sites = {"bn0": ["stem", "bn0"], "bn1": ["c1", "bn1"], "bn2": ["c2", "bn2"]}
    _direct_check(net, x, y, sites, params, buffers, records, e, grads)
    close(grads["fc.weight"], (e.T @ records[7].h).astype(np.float64), "fc.weight")


def test_block_outputs_injects_at_the_add_and_back_propagates_inside_the_block():
    data = {**RESNET, "training": {"feedback": {"dfa_injection": "block_outputs"}}}
    net = Network.from_spec(data, seed=4)
    plan = net.plan("dfa")
    kinds = {name: type(src).__name__ for name, src in plan.sources.items()}
    assert kinds == {
        "stem": "FromAbove",
        "bn0": "Direct",
        "c1": "FromAbove",
        "bn1": "FromAbove",
        "c2": "FromAbove",
        "bn2": "FromAbove",
        "add1": "Direct",
        "fc": "FromAbove",
    }
    x, y, params, buffers = setup(net)
    grads, _, records, e = engine(net, x, y, "dfa")
    sites = {"bn0": ["stem", "bn0"], "add1": ["c1", "bn1", "c2", "bn2"]}
    _direct_check(net, x, y, sites, params, buffers, records, e, grads)


def test_frozen_bottom_layers_compute_no_error():
    data = {**RESNET, "layers": [dict(layer) for layer in RESNET["layers"]]}
    for index in (0, 1):  # stem and bn0 frozen: nothing below c1 trains
        data["layers"][index]["trainable"] = False
    net = Network.from_spec(data)
    for algorithm in ("bp", "fa"):
        flags = net.plan(algorithm).sends_down(net.layers)
        assert flags[:3] == [False, False, False]  # stem, bn0, c1 pass nothing down
        assert flags[3:7] == [True, True, True, True]  # bn1, c2, bn2, add1 do
    x, y, params, buffers = setup(net)
    net.layers[0].backward_data = net.layers[1].backward_data = None  # would fail if called
    grads, _, records, _ = engine(net, x, y, "bp")
    assert "stem.weight" not in grads and "bn0.weight" not in grads
    _, outs = torch_forward(net, params, buffers, torch.tensor(x, dtype=DT), records)
    loss = F.cross_entropy(outs["fc"], torch.tensor(y))
    names = ["c1.weight", "bn1.weight", "bn2.bias", "fc.weight"]
    close_all(grads, names, torch.autograd.grad(loss, [params[n] for n in names]))

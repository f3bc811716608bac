"""Workload files: a network, a dataset and (optionally) training settings, validated and typed.

``load_workload`` reads YAML (or a dict), checks every key once, infers each layer's input and
output shape from the dataset's per-sample shape, and returns a frozen ``Workload``. Shapes are
per sample (no batch dimension): conv2d (C, H, W), conv1d (C, L), recurrent (T, F), linear (F,).

A layer reads the previous layer's output unless ``inputs:`` names earlier layers (``input`` is
the network input), so a workload is a DAG in topological order: ``add`` and ``concat`` join
branches (residual blocks, inception-style concatenation). docs/workloads.md lists every key.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from accelsim.config.datasets import DATASETS
from accelsim.config.errors import ConfigError
from accelsim.config.fields import Section
from accelsim.config.training import TrainingSpec, parse_training
from accelsim.config.yaml_io import load_yaml_mapping

ACTIVATIONS = ("relu", "tanh", "sigmoid", "none")
CONV_TYPES = {"conv1d": 1, "conv2d": 2}
POOL_TYPES = {
    "maxpool1d": ("max", 1),
    "maxpool2d": ("max", 2),
    "avgpool1d": ("avg", 1),
    "avgpool2d": ("avg", 2),
    "maxpool": ("max", 0),  # rank taken from the input
    "avgpool": ("avg", 0),
}
RECURRENT_TYPES = ("rnn", "lstm", "gru")
BATCHNORM_TYPES = {"batchnorm1d": 1, "batchnorm2d": 2}  # spatial rank(s) of the input
# layers with more than one input, and the other graph layers (not lowered to the simulator yet)
MERGE_TYPES = ("add", "concat")
GRAPH_TYPES = (*MERGE_TYPES, *BATCHNORM_TYPES, "dropout", "global_avgpool")
LAYER_TYPES = ("linear", *CONV_TYPES, *POOL_TYPES, "flatten", *RECURRENT_TYPES, *GRAPH_TYPES)
PARAM_TYPES = ("linear", *CONV_TYPES, *RECURRENT_TYPES, *BATCHNORM_TYPES)
NETWORK_INPUT = "input"  # the name under which ``inputs:`` reads the network input
# kinds whose layer is the classifier the output error e is defined on
CLASSIFIER_KINDS = ("linear", "conv", "recurrent")
BATCHNORM_EPS = 1e-5  # as torch.nn.BatchNorm*d
BATCHNORM_MOMENTUM = 0.1
# Upper bounds that keep every count downstream (MACs, bytes, cycles) a finite float: no real
# network comes near them.
MAX_BATCH = 2**20
DEFAULT_BATCH = 32  # a dataset's batch_size when none is written
MAX_DIM = 2**24  # one dimension: features, channels, hidden size, kernel, stride, padding
MAX_RANK = 4  # dimensions of a per-sample shape: (F,), (C, L), (T, F), (C, H, W)
MAX_ELEMENTS = 2**32  # elements of one per-sample tensor


@dataclass(frozen=True)
class LayerSpec:
    """One layer with its resolved shapes. Fields that do not apply to a kind keep defaults."""

    name: str
    type: str  # as written: linear, conv2d, maxpool2d, lstm, ...
    # linear | conv | pool | flatten | recurrent | add | concat | batchnorm | dropout |
    # global_avgpool
    kind: str
    input_shape: tuple[int, ...]
    output_shape: tuple[int, ...]
    activation: str = "none"
    bias: bool = True
    # linear
    in_features: int = 0
    out_features: int = 0
    per_step: bool = False  # linear applied at every time step of a (T, F) sequence
    # conv and pool (one entry per spatial dimension)
    in_channels: int = 0
    out_channels: int = 0
    kernel: tuple[int, ...] = ()
    stride: tuple[int, ...] = ()
    padding: tuple[int, ...] = ()
    dilation: tuple[int, ...] = ()
    groups: int = 1
    pool_mode: str = ""  # max | avg
    # recurrent
    cell: str = ""  # rnn | lstm | gru
    hidden_size: int = 0
    output: str = "last"  # last | sequence
    # graph: the layers (or ``input``) this one reads, resolved (the previous layer by default;
    # empty only in a LayerSpec built by hand, which then reads the previous layer)
    inputs: tuple[str, ...] = ()
    trainable: bool = True  # false: parameters stay at their initial values
    p: float = 0.0  # dropout probability

    @property
    def has_params(self) -> bool:
        return self.kind in ("linear", "conv", "recurrent", "batchnorm")

    @property
    def is_trainable(self) -> bool:
        """Has parameters that training updates."""
        return self.has_params and self.trainable

    @property
    def is_graph(self) -> bool:
        """Uses a feature of graph workloads (the simulator does not lower them yet)."""
        return self.type in GRAPH_TYPES or not self.trainable

    @property
    def spatial_rank(self) -> int:
        return len(self.kernel)


@dataclass(frozen=True)
class DatasetSpec:
    name: str  # "" for simulation-only shapes
    batch_size: int
    input_shape: tuple[int, ...]
    num_classes: int
    options: dict[str, Any] = field(default_factory=dict)
    sequence_targets: bool = False


@dataclass(frozen=True)
class Workload:
    name: str
    source: str  # file label used in messages
    dataset: DatasetSpec
    layers: tuple[LayerSpec, ...]
    training: TrainingSpec | None

    def layer(self, name: str) -> LayerSpec:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    @property
    def param_layers(self) -> tuple[LayerSpec, ...]:
        return tuple(layer for layer in self.layers if layer.has_params)

    @property
    def trainable_layers(self) -> tuple[LayerSpec, ...]:
        """Parameter layers that training updates (all of them unless ``trainable: false``)."""
        return tuple(layer for layer in self.layers if layer.is_trainable)

    @property
    def is_graph(self) -> bool:
        """Has a graph layer, a frozen layer or an input other than the previous layer."""
        previous = NETWORK_INPUT
        for layer in self.layers:
            if layer.is_graph or layer.inputs not in ((), (previous,)):
                return True
            previous = layer.name
        return False

    def with_batch_size(self, batch_size: int) -> Workload:
        return replace(self, dataset=replace(self.dataset, batch_size=batch_size))


def load_workload(
    source: str | Path | dict[str, Any],
    input_shape: tuple[int, ...] | None = None,
    require_training: bool = False,
    label: str | None = None,
) -> Workload:
    """Read and validate a workload.

    ``input_shape`` (API use) overrides the dataset's per-sample shape. With ``input_shape`` the
    ``dataset`` section may be left out: the workload then gets a nameless dataset (as a
    simulation-only section would give) of that shape, batch size 32, whose class count is the
    final layer's output size. Such a workload simulates and lowers like any other; it trains
    only on data passed to ``fit(..., data=...)``, having no dataset to load.
    """
    data, label = load_yaml_mapping(source, label)
    root = Section(data, label)
    root.reject_unknown(("name", "dataset", "layers", "training", "description"))
    name = root.get_str("name", default=Path(label).stem if label != "<dict>" else "workload")
    shape = _given_shape(label, input_shape) if input_shape is not None else None
    if root.has("dataset"):
        dataset = _parse_dataset(root, shape)
        layers = _parse_layers(root, dataset.input_shape)
    elif shape is not None:
        layers = _parse_layers(root, shape)
        dataset = _shape_only_dataset(label, shape, layers)
    else:
        raise root.error(
            "dataset",
            "a dataset section (a dataset name, or input_shape and num_classes) or, from "
            "Python, the input_shape= argument (required key missing)",
        )
    last = layers[-1]
    if last.output_shape[-1] != dataset.num_classes or last.kind not in CLASSIFIER_KINDS:
        raise ConfigError(
            label,
            f"layers[{len(layers) - 1}]",
            f"a final linear/conv/recurrent layer with {dataset.num_classes} outputs "
            f"(the dataset's class count)",
            f"{last.name} with output shape {list(last.output_shape)}",
        )
    if dataset.sequence_targets and not (last.per_step or len(last.output_shape) == 2):
        raise ConfigError(
            label,
            f"layers[{len(layers) - 1}]",
            "per-step outputs (T, classes) for a sequence-target dataset",
            list(last.output_shape),
        )
    training = None
    if root.has("training"):
        training = parse_training(root.get_section("training"), layers)
    elif require_training:
        raise ConfigError(label, "training", "a training section (algorithm, optimizer, epochs)")
    return Workload(name, label, dataset, tuple(layers), training)


def _given_shape(label: str, input_shape: Any) -> tuple[int, ...]:
    """The ``input_shape=`` argument, checked like a file's ``input_shape`` (NumPy integers,
    e.g. from ``x.shape[1:]``, are accepted)."""
    if not isinstance(input_shape, (list, tuple)):
        raise ConfigError(
            label, "input_shape argument", "a tuple of positive integers", input_shape
        )
    values = [
        int(d) if isinstance(d, numbers.Integral) and not isinstance(d, bool) else d
        for d in input_shape
    ]
    return _shape_from(Section({"input_shape argument": values}, label), "input_shape argument")


def _shape_only_dataset(label: str, shape: tuple[int, ...], layers: list[LayerSpec]) -> DatasetSpec:
    """The dataset of a workload without a ``dataset`` section, built with ``input_shape=``:
    nameless (nothing to load, like a simulation-only section), that shape, the default batch
    size, and the final layer's output size as the class count."""
    last = layers[-1]
    if last.kind not in CLASSIFIER_KINDS or last.output_shape[-1] < 2:
        raise ConfigError(
            label,
            f"layers[{len(layers) - 1}]",
            "a final linear/conv/recurrent layer with at least 2 outputs (without a dataset "
            "section its output size is the class count)",
            f"{last.name} with output shape {list(last.output_shape)}",
        )
    return DatasetSpec("", DEFAULT_BATCH, shape, last.output_shape[-1])


def _parse_dataset(root: Section, input_shape: tuple[int, ...] | None) -> DatasetSpec:
    section = root.get_section("dataset")
    name = section.get_str("name", default="")
    common = ("name", "batch_size", "input_shape", "num_classes")
    if name and name not in DATASETS:
        raise section.error("name", "one of " + ", ".join(DATASETS), name)
    info = DATASETS.get(name)
    options: dict[str, Any] = {}
    if info is not None:
        section.reject_unknown((*common, *info.options))
        for key, default in info.options.items():
            options[key] = _option(section, key, default, info.bounds(key))
    else:
        section.reject_unknown(common)
    batch_size = section.get_int("batch_size", default=DEFAULT_BATCH, minimum=1, maximum=MAX_BATCH)
    shape = _shape_from(section, "input_shape") if section.has("input_shape") else None
    if info is not None and info.input_shape:
        base = info.shape_of(options) if info.shape_of else info.input_shape
        if shape is not None and math.prod(shape) != math.prod(base):
            raise section.error(
                "input_shape",
                f"a reshape of the {name} sample shape {list(base)} ({math.prod(base)} elements)",
                list(shape),
            )
        shape = shape or base
    if input_shape is not None:
        shape = input_shape
    if shape is None:
        raise section.error(
            "input_shape",
            "a list of positive integers (required without a named dataset, and for synthetic)",
        )
    if info is not None and info.num_classes:
        if section.has("num_classes") and section.get_int("num_classes", minimum=2) != (
            info.num_classes
        ):
            raise section.error("num_classes", f"{info.num_classes} for {name}")
        num_classes = info.num_classes
    else:
        num_classes = section.get_int("num_classes", minimum=2, maximum=MAX_DIM)
    sequence_targets = bool(info and info.sequence_targets)
    return DatasetSpec(name, batch_size, shape, num_classes, options, sequence_targets)


def _option(section: Section, key: str, default: Any, bounds: tuple[float, float]) -> Any:
    low, high = bounds
    if isinstance(default, bool):
        return section.get_bool(key, default)
    if isinstance(default, int):
        return section.get_int(key, default, minimum=int(low), maximum=int(high))
    if isinstance(default, float):
        return section.get_float(key, default, minimum=float(low), maximum=float(high))
    return section.get_str(key, default)


def _shape_from(section: Section, key: str) -> tuple[int, ...]:
    values = section.get_list(key)
    if len(values) > MAX_RANK:
        raise section.error(key, f"a list of at most {MAX_RANK} positive integers", values)
    shape = section.get_int_tuple(key, len(values), minimum=1, maximum=MAX_DIM)
    _check_elements(section, key, shape)
    return shape


def _check_elements(section: Section, key: str, shape: tuple[int, ...]) -> None:
    if math.prod(shape) > MAX_ELEMENTS:
        raise section.error(
            key, f"a shape of at most {MAX_ELEMENTS} elements per sample", f"{list(shape)}"
        )


def _parse_layers(root: Section, input_shape: tuple[int, ...]) -> list[LayerSpec]:
    raw = root.get_list("layers")
    layers: list[LayerSpec] = []
    by_name: dict[str, LayerSpec] = {}
    unread: dict[str, int] = {}  # layer name -> index, while no later layer reads it
    for index, item in enumerate(raw):
        section = Section(item, root.file, f"layers[{index}]")
        layer_type = section.get_choice("type", LAYER_TYPES)
        name = section.get_str("name", default=f"{layer_type}{index}")
        if name in by_name or name == NETWORK_INPUT:
            raise section.error(
                "name", f"a layer name used only once (and not {NETWORK_INPUT!r})", name
            )
        default = layers[-1].name if layers else NETWORK_INPUT
        trainable = _trainable(section, layer_type)
        inputs = _inputs(section, layer_type, default, by_name)
        shapes = [input_shape if i == NETWORK_INPUT else by_name[i].output_shape for i in inputs]
        previous = by_name.get(inputs[0]) if len(inputs) == 1 else None
        layer = _parse_layer(section, name, layer_type, shapes, previous)
        layer = replace(layer, inputs=inputs, trainable=trainable)
        _check_elements(section, "output shape", layer.output_shape)
        layers.append(layer)
        by_name[name] = layer
        for i in inputs:
            unread.pop(i, None)
        unread[name] = index
    last = layers[-1]
    del unread[last.name]
    if unread:
        name, index = next(iter(unread.items()))
        raise ConfigError(
            root.file,
            f"layers[{index}]",
            "a layer whose output a later layer reads (only the last layer's output is the "
            "network's output; name it in a later layer's inputs or remove the layer)",
            f"{name}, read by no layer",
        )
    if not last.trainable:
        raise ConfigError(
            root.file,
            f"layers[{len(layers) - 1}].trainable",
            "true for the final layer (the classifier takes the output error under every "
            "algorithm)",
            False,
        )
    return layers


def _inputs(
    s: Section, layer_type: str, default: str, by_name: dict[str, LayerSpec]
) -> tuple[str, ...]:
    """The resolved ``inputs`` of a layer: names of earlier layers or ``input``."""
    merge = layer_type in MERGE_TYPES
    if not s.has("inputs"):
        if merge:
            raise s.error("inputs", f"a list of two or more earlier layers for {layer_type}")
        return (default,)
    raw = s.data["inputs"]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw:
        raise s.error("inputs", "a list of names of earlier layers (or input)", raw)
    for name in raw:
        if not isinstance(name, str) or (name != NETWORK_INPUT and name not in by_name):
            known = ", ".join([NETWORK_INPUT, *by_name])
            raise s.error(
                "inputs",
                f"names of earlier layers or {NETWORK_INPUT} (one of {known}; a layer reads "
                "only layers above it)",
                name,
            )
    if len(set(raw)) != len(raw):
        raise s.error("inputs", "each input named once", raw)
    if merge and len(raw) < 2:
        raise s.error("inputs", f"two or more inputs for {layer_type}", raw)
    if not merge and len(raw) != 1:
        raise s.error("inputs", f"exactly one input for {layer_type} (add or concat join)", raw)
    return tuple(raw)


def _trainable(s: Section, layer_type: str) -> bool:
    if not s.has("trainable"):
        return True
    if layer_type not in PARAM_TYPES:
        raise s.error(
            "trainable",
            "no trainable key on a layer without parameters (linear, conv, recurrent and "
            "batchnorm layers take it)",
        )
    return s.get_bool("trainable")


_COMMON_KEYS = ("name", "type", "activation", "bias", "inputs", "trainable")
_FREE_KEYS = ("name", "type", "activation", "inputs")  # parameter-free layers


def _parse_layer(
    s: Section,
    name: str,
    layer_type: str,
    shapes: list[tuple[int, ...]],
    previous: LayerSpec | None,
) -> LayerSpec:
    activation = s.get_choice("activation", ACTIVATIONS, default="none")
    if layer_type in MERGE_TYPES or layer_type in GRAPH_TYPES:
        return _parse_graph_layer(s, name, layer_type, shapes, activation)
    shape = shapes[0]
    bias = s.get_bool("bias", default=True)
    base = {
        "name": name,
        "type": layer_type,
        "input_shape": shape,
        "activation": activation,
        "bias": bias,
    }
    if layer_type == "linear":
        s.reject_unknown((*_COMMON_KEYS, "out_features"))
        out = s.get_int("out_features", minimum=1, maximum=MAX_DIM)
        per_step = bool(
            previous
            and previous.output_shape == shape
            and (
                (previous.kind == "recurrent" and previous.output == "sequence")
                or previous.per_step
            )
        )
        in_features = shape[-1] if per_step else math.prod(shape)
        out_shape = (shape[0], out) if per_step else (out,)
        return LayerSpec(
            **base,
            kind="linear",
            output_shape=out_shape,
            in_features=in_features,
            out_features=out,
            per_step=per_step,
        )
    if layer_type == "flatten":
        s.reject_unknown(_FREE_KEYS)
        return LayerSpec(
            name=name,
            type=layer_type,
            kind="flatten",
            input_shape=shape,
            output_shape=(math.prod(shape),),
            activation=activation,
        )
    if layer_type in CONV_TYPES:
        return _parse_conv(s, base, shape, CONV_TYPES[layer_type])
    if layer_type in POOL_TYPES:
        mode, rank = POOL_TYPES[layer_type]
        return _parse_pool(s, base, shape, mode, rank or len(shape) - 1)
    return _parse_recurrent(s, base, shape, layer_type)


def _parse_graph_layer(
    s: Section, name: str, layer_type: str, shapes: list[tuple[int, ...]], activation: str
) -> LayerSpec:
    """add, concat, batchnorm1d/2d, dropout, global_avgpool."""
    shape = shapes[0]
    base = {"name": name, "type": layer_type, "input_shape": shape, "activation": activation}
    if layer_type == "add":
        s.reject_unknown(_FREE_KEYS)
        for other in shapes[1:]:
            if other != shape:
                raise s.error(
                    "inputs",
                    f"inputs of one shape for add (the first is {list(shape)})",
                    f"an input of shape {list(other)}",
                )
        return LayerSpec(**base, kind="add", output_shape=shape, bias=False)
    if layer_type == "concat":
        s.reject_unknown(_FREE_KEYS)
        for other in shapes[1:]:
            if len(other) != len(shape) or other[1:] != shape[1:]:
                raise s.error(
                    "inputs",
                    "inputs that differ only in channels (dim 0) for concat (the first is "
                    f"{list(shape)})",
                    f"an input of shape {list(other)}",
                )
        channels = sum(other[0] for other in shapes)
        return LayerSpec(**base, kind="concat", output_shape=(channels, *shape[1:]), bias=False)
    if layer_type in BATCHNORM_TYPES:
        s.reject_unknown(("name", "type", "activation", "inputs", "trainable"))
        ranks = (2, 3) if layer_type == "batchnorm1d" else (4,)
        if len(shape) + 1 not in ranks:
            what = "(C,) or (C, L)" if layer_type == "batchnorm1d" else "(C, H, W)"
            raise s.error(
                "type", f"an input of shape {what} for {layer_type}", f"input shape {list(shape)}"
            )
        return LayerSpec(
            **base,
            kind="batchnorm",
            output_shape=shape,
            in_channels=shape[0],
            out_channels=shape[0],
        )
    if layer_type == "dropout":
        s.reject_unknown((*_FREE_KEYS, "p"))
        p = s.get_float("p", default=0.5, minimum=0.0)
        if p >= 1.0:
            raise s.error("p", "a drop probability in [0, 1)", p)
        return LayerSpec(**base, kind="dropout", output_shape=shape, bias=False, p=float(p))
    # global_avgpool
    s.reject_unknown(_FREE_KEYS)
    if len(shape) < 2:
        raise s.error(
            "type",
            "a (C, L) or (C, H, W) feature map for global_avgpool",
            f"input shape {list(shape)}",
        )
    return LayerSpec(
        **base, kind="global_avgpool", output_shape=(shape[0],), bias=False, in_channels=shape[0]
    )


def _expect_rank(s: Section, shape: tuple[int, ...], rank: int, what: str) -> None:
    if len(shape) != rank + 1:
        raise s.error(
            "type",
            f"an input of shape {what} for {s.data.get('type')}",
            f"input shape {list(shape)}",
        )


def _parse_conv(s: Section, base: dict, shape: tuple[int, ...], rank: int) -> LayerSpec:
    s.reject_unknown(
        (*_COMMON_KEYS, "out_channels", "kernel", "stride", "padding", "dilation", "groups")
    )
    _expect_rank(s, shape, rank, "(C, L)" if rank == 1 else "(C, H, W)")
    out_channels = s.get_int("out_channels", minimum=1, maximum=MAX_DIM)
    kernel = s.get_int_tuple("kernel", rank, minimum=1, maximum=MAX_DIM)
    stride = s.get_int_tuple("stride", rank, default=1, minimum=1, maximum=MAX_DIM)
    padding = s.get_int_tuple("padding", rank, default=0, minimum=0, maximum=MAX_DIM)
    dilation = s.get_int_tuple("dilation", rank, default=1, minimum=1, maximum=MAX_DIM)
    groups = s.get_int("groups", default=1, minimum=1, maximum=MAX_DIM)
    in_channels = shape[0]
    if in_channels % groups or out_channels % groups:
        raise s.error(
            "groups",
            f"a divisor of both in_channels ({in_channels}) and out_channels ({out_channels})",
            groups,
        )
    spatial = _window_output(s, shape[1:], kernel, stride, padding, dilation)
    return LayerSpec(
        **base,
        kind="conv",
        output_shape=(out_channels, *spatial),
        in_channels=in_channels,
        out_channels=out_channels,
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=dilation,
        groups=groups,
    )


def _parse_pool(s: Section, base: dict, shape: tuple[int, ...], mode: str, rank: int) -> LayerSpec:
    s.reject_unknown((*_FREE_KEYS, "kernel", "stride", "padding"))
    if rank not in (1, 2):
        raise s.error(
            "type",
            "a pooling layer after a (C, L) or (C, H, W) feature map",
            f"input shape {list(shape)}",
        )
    _expect_rank(s, shape, rank, "(C, L)" if rank == 1 else "(C, H, W)")
    kernel = s.get_int_tuple("kernel", rank, minimum=1, maximum=MAX_DIM)
    stride = s.get_int_tuple("stride", rank, default=list(kernel), minimum=1, maximum=MAX_DIM)
    padding = s.get_int_tuple("padding", rank, default=0, minimum=0, maximum=MAX_DIM)
    if any(2 * p > k for p, k in zip(padding, kernel, strict=True)):
        raise s.error("padding", "at most half the kernel size (as in PyTorch)", list(padding))
    spatial = _window_output(s, shape[1:], kernel, stride, padding, (1,) * rank)
    base = {**base, "bias": False}
    return LayerSpec(
        **base,
        kind="pool",
        output_shape=(shape[0], *spatial),
        in_channels=shape[0],
        out_channels=shape[0],
        kernel=kernel,
        stride=stride,
        padding=padding,
        dilation=(1,) * rank,
        pool_mode=mode,
    )


def _window_output(s: Section, size, kernel, stride, padding, dilation) -> tuple[int, ...]:
    out = []
    for dim, (n, k, st, p, d) in enumerate(
        zip(size, kernel, stride, padding, dilation, strict=True)
    ):
        span = d * (k - 1) + 1
        if n + 2 * p < span:
            raise s.error(
                "kernel",
                f"a (dilated) kernel no larger than the padded input "
                f"({n + 2 * p} along spatial dim {dim})",
                span,
            )
        out.append((n + 2 * p - span) // st + 1)
    return tuple(out)


def _parse_recurrent(s: Section, base: dict, shape: tuple[int, ...], cell: str) -> LayerSpec:
    s.reject_unknown((*_COMMON_KEYS, "hidden_size", "output", "batch_first"))
    if len(shape) != 2:
        raise s.error("type", f"a (T, F) sequence input for {cell}", f"input shape {list(shape)}")
    if s.has("batch_first") and not s.get_bool("batch_first"):
        raise s.error("batch_first", "true (inputs are (N, T, F))", False)
    if base["activation"] != "none":
        raise s.error(
            "activation",
            "none for a recurrent layer (the cell has its own nonlinearity)",
            base["activation"],
        )
    hidden = s.get_int("hidden_size", minimum=1, maximum=MAX_DIM)
    output = s.get_choice("output", ("last", "sequence"), default="last")
    steps = shape[0]
    out_shape = (steps, hidden) if output == "sequence" else (hidden,)
    return LayerSpec(
        **base,
        kind="recurrent",
        output_shape=out_shape,
        in_features=shape[1],
        out_features=hidden,
        cell=cell,
        hidden_size=hidden,
        output=output,
    )

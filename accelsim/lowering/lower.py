"""Lower one training iteration of a workload to tasks with GEMM shapes (docs/hardware-model.md).

Per parameter layer, with batch ``N`` and groups ``g``:

- FP   conv: M = N*Ho*Wo, K = Cin/g*kh*kw, N = Cout/g (g GEMMs); linear: M = N, K = in, N = out.
- EP   (BP/FA, error to the layer below) conv in col2im (scatter) form: per group
       dX_cols = dY W^T with M = N*Ho*Wo, K = Cout/g, N = Cin/g*kh*kw (g GEMMs), then col2im
       scatter-adds the columns into the input error: N*Ho*Wo*Cin*kh*kw element-wise adds;
       linear: M = N, K = out, N = in.
- WG   M = Cin/g*kh*kw, K = N*Ho*Wo, N = Cout/g; linear: M = in, K = N, N = out.
- DFA-EP ``d_l = B_l e``: the GEMMs of the engine's own feedback operator
       (``accelsim.config.feedback_geometry``): dense M = N, K = n_classes (or the module's
       error width), N = n_l outputs; conv form N = Cout; CSR and dilated/grouped conv forms
       as row-balanced or per-group GEMMs whose MACs equal the stored non-zeros of B.
- WU   element-wise on the vector unit; loss: softmax cross-entropy, element-wise.

FP does one MAC per (output position, weight) pair: the weight times the input under it. EP
does one per pair too (the output error times the weight), and so does WG (the output error
times that input). So per layer EP MACs = WG MACs = FP MACs whatever the stride, padding,
dilation or groups (for a recurrent layer, its EP to the layer below plus its BPTT equal its FP).

Recurrent layers unroll over T steps: per step an input GEMM (N, F, G*H) and a hidden GEMM
(N, H, G*H) with G = 1, 3, 4 gates for rnn, gru, lstm. Pooling, activations and their
derivatives become element-wise work attached to the neighbouring GEMM task.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from accelsim.config.errors import ConfigError
from accelsim.config.extensions import ExtensionSettings
from accelsim.config.feedback_geometry import direct_feedback, fa_feedback_entries
from accelsim.config.workload import GRAPH_TYPES, NETWORK_INPUT, LayerSpec, Workload
from accelsim.hw.pe_array import GemmShape
from accelsim.lowering.graph import GemmWork, Operand, Task, TaskGraph
from accelsim.lowering.presets import SCHEDULES, routes, settings_for

GATES = {"rnn": 1, "gru": 3, "lstm": 4}
# Element-wise operations per parameter for one update (assumed: SGD w -= lr*g is 2 ops,
# momentum adds 2: v = mu*v + g; Adam's two moment updates, bias corrections, sqrt, divide and
# step ~10) and state tensors per weight (none for plain SGD, the velocity for momentum, Adam's
# m and v).
UPDATE_OPS = {"sgd": 2, "momentum": 4, "adam": 10}
OPTIMIZER_STATE = {"sgd": 0, "momentum": 1, "adam": 2}
LOSS_OPS_PER_LOGIT = 5  # max, exp, sum, divide, subtract the label


def lower(
    workload: Workload, algorithm: str, settings: ExtensionSettings | None = None
) -> TaskGraph:
    """Task graph of one training iteration of ``workload`` under ``algorithm``.

    Raises ``ConfigError`` for a graph workload (add, concat, batchnorm, dropout,
    global_avgpool, ``trainable: false`` or ``inputs`` other than the previous layer): the
    functional engine trains those, the simulator does not model them yet."""
    check_lowerable(workload)
    settings = settings or settings_for(workload, algorithm)
    return _Lowering(workload, algorithm, settings).run()


def check_lowerable(workload: Workload) -> None:
    """A one-line ``ConfigError`` naming the first layer the simulator cannot lower."""
    previous = NETWORK_INPUT
    for index, layer in enumerate(workload.layers):
        feature = ""
        if layer.type in GRAPH_TYPES:
            feature = f"a {layer.type} layer"
        elif not layer.trainable:
            feature = "a frozen layer (trainable: false)"
        elif layer.inputs not in ((), (previous,)):
            feature = f"inputs {list(layer.inputs)} (not the previous layer)"
        if feature:
            raise ConfigError(
                workload.source,
                f"layers[{index}]",
                "a sequential workload for the simulator (graph layers are not simulated "
                "yet; accelsim train runs them)",
                f"{layer.name}: {feature}",
            )
        previous = layer.name


@dataclass
class _Lowering:
    workload: Workload
    algorithm: str
    settings: ExtensionSettings
    tasks: list[Task] = field(default_factory=list)

    def add(self, name: str, kind: str, layer: str, gemms, vector_ops: int, operands, deps):
        task = Task(
            len(self.tasks),
            name,
            kind,
            layer,
            tuple(gemms),
            int(vector_ops),
            tuple(operands),
            tuple(sorted(set(deps))),
        )
        self.tasks.append(task)
        return task.index

    def run(self) -> TaskGraph:
        wl = self.workload
        n = wl.dataset.batch_size
        params = list(wl.param_layers)
        names = [p.name for p in params]
        # Element-wise work of parameter-free layers (pooling, flatten) attaches to the previous
        # parameter layer's FP and to the EP that crosses them.
        after: dict[str, list[LayerSpec]] = {name: [] for name in names}
        current = None
        for layer in wl.layers:
            if layer.has_params:
                current = layer.name
            elif current is not None:
                after[current].append(layer)
        training = wl.training.for_algorithm(self.algorithm) if wl.training else None
        optimizer = optimizer_kind(getattr(training, "optimizer", None))

        fp: dict[str, int] = {}
        prev = None
        for i, layer in enumerate(params):
            gemms = _fp_gemms(layer, n)
            ops = n * _out_elems(layer)  # activation function
            for free in after[layer.name]:
                if free.kind == "pool":
                    ops += n * math.prod(free.output_shape) * math.prod(free.kernel)
            operands = (
                _input_of(params, i, n),
                Operand("filter", "weight", _weight_elems(layer), f"{layer.name}.weight"),
                Operand(
                    "ofmap",
                    "activation",
                    n * _carried_out_elems(layer, after),
                    f"{layer.name}.out",
                ),
            )
            fp[layer.name] = self.add(
                f"{layer.name}.fp",
                "fp",
                layer.name,
                gemms,
                ops,
                operands,
                [prev] if prev is not None else [],
            )
            prev = fp[layer.name]

        last = params[-1]
        rows = n * (last.output_shape[0] if len(last.output_shape) == 2 else 1)
        classes = last.output_shape[-1]
        loss = self.add(
            "loss",
            "loss",
            "loss",
            (),
            rows * classes * LOSS_OPS_PER_LOGIT,
            (
                Operand("read", "activation", rows * classes, f"{last.name}.out"),
                Operand("write", "error", rows * classes, f"{last.name}.error"),
            ),
            [fp[last.name]],
        )

        plan = routes(names, self.algorithm, self.settings)
        avail: dict[str, int] = {}  # layer -> task that produces its output error d_l
        ep_of: dict[str, int] = {}  # layer -> EP task that reads its W (WU must wait for it)
        feedback_total = 0
        errors = {name: f"{name}.error" for name in names}  # the error tensor each WG reads
        for i in range(len(params) - 1, -1, -1):
            layer = params[i]
            route, source = plan[i]
            if route == "loss":
                avail[layer.name] = loss
            elif route == "bp":
                above = params[i + 1]
                tid, fb = self._bp_ep(above, layer, after, n, avail[above.name])
                ep_of[above.name] = tid
                avail[layer.name] = tid
                feedback_total += fb
            else:
                tid, fb = self._dfa_ep(layer, source, source == names[-1], n, avail[source])
                avail[layer.name] = tid
                feedback_total += fb
            if layer.kind == "recurrent" and route in ("loss", "bp"):
                avail[layer.name] = self._bptt(layer, n, avail[layer.name])
                errors[layer.name] = f"{layer.name}.error_bptt"

        for layer in params:
            wg = self.add(
                f"{layer.name}.wg",
                "wg",
                layer.name,
                _wg_gemms(layer, n),
                n * _out_elems(layer),
                (
                    _input_of(params, params.index(layer), n),
                    Operand("filter", "error", n * _out_elems(layer), errors[layer.name]),
                    Operand("ofmap", "gradient", _weight_elems(layer), f"{layer.name}.grad"),
                ),
                [avail[layer.name]],
            )
            w = _weight_elems(layer)
            state = OPTIMIZER_STATE[optimizer]
            deps = [wg] + ([ep_of[layer.name]] if layer.name in ep_of else [])
            self.add(
                f"{layer.name}.wu",
                "wu",
                layer.name,
                (),
                w * UPDATE_OPS[optimizer],
                tuple(
                    op
                    for op in (
                        Operand("read", "weight", w, f"{layer.name}.weight"),
                        Operand("read", "gradient", w, f"{layer.name}.grad"),
                        Operand("read", "optimizer_state", w * state, f"{layer.name}.opt"),
                        Operand("write", "weight", w, f"{layer.name}.weight"),
                        Operand("write", "optimizer_state", w * state, f"{layer.name}.opt"),
                    )
                    if op.elements
                ),
                deps,
            )

        saved = sum(n * math.prod(p.input_shape) for p in params) + sum(
            n * _out_elems(p) for p in params
        )
        errors = max(n * max(math.prod(p.input_shape), _out_elems(p)) for p in params)
        return TaskGraph(
            workload=wl.name,
            algorithm=self.algorithm,
            schedule=SCHEDULES[self.algorithm],
            batch_size=n,
            tasks=tuple(self.tasks),
            layers=tuple(names),
            weight_elements=sum(_weight_elems(p) for p in params),
            activation_elements=saved,
            max_error_elements=errors,
            feedback_elements=feedback_total,
            optimizer_state_per_weight=OPTIMIZER_STATE[optimizer],
            routes=tuple((names[i], r, s) for i, (r, s) in enumerate(plan)),
        )

    # -- error propagation -----------------------------------------------------------------
    def _bp_ep(self, above: LayerSpec, layer: LayerSpec, after, n: int, dep: int):
        """EP through ``above``'s W^T (BP) or its B (FA): the error of ``layer``'s output."""
        fa = self.algorithm == "fa"
        density = self.settings.density
        w = _weight_elems(above, bias=False)
        # FA's B has the shape of the weights carrying error down (the engine's fa_arrays);
        # a chip store density below 1 thins it
        fb_entries = math.ceil(fa_feedback_entries(above) * density) if fa else 0
        ops = n * _carried_out_elems(layer, after) + n * _out_elems(layer)  # unpool + f'(a)
        ops += _col2im_adds(above, n)
        operands = (
            Operand("ifmap", "error", n * _out_elems(above), f"{above.name}.error"),
            Operand(
                "filter",
                "feedback" if fa else "weight",
                fb_entries if fa else w,
                f"{above.name}.B" if fa else f"{above.name}.weight",
            ),
            Operand("ofmap", "error", n * math.prod(above.input_shape), f"{layer.name}.error"),
        )
        tid = self.add(
            f"{above.name}.ep", "ep", above.name, _ep_gemms(above, n), ops, operands, [dep]
        )
        return tid, fb_entries

    def _dfa_ep(self, layer: LayerSpec, source: str, from_output: bool, n: int, dep: int):
        """``d_l = B_l e_j``: the engine's feedback operator from the error of ``source``
        (the output error when ``from_output``), costed as the GEMMs that apply it."""
        wl = self.workload
        src = wl.layer(source)
        if from_output:
            shape, kind = wl.layers[-1].output_shape, "output"
        else:
            shape, kind = src.output_shape, src.kind
        geo = direct_feedback(layer, shape, self.settings, kind)
        gemms = [
            GemmWork(GemmShape(m=n * g.rows_per_sample, k=g.k, n=g.n), count=g.count)
            for g in geo.gemms
        ]
        signal = wl.param_layers[-1].name if from_output else source
        operands = (
            Operand("ifmap", "error", n * geo.signal_elements, f"{signal}.error"),
            Operand("filter", "feedback", geo.entries, f"{layer.name}.B"),
            Operand("ofmap", "error", n * _out_elems(layer), f"{layer.name}.error"),
        )
        tid = self.add(
            f"{layer.name}.dfa_ep",
            "dfa_ep",
            layer.name,
            gemms,
            n * (_out_elems(layer) + geo.pool_ops_per_sample),
            operands,
            [dep],
        )
        return tid, geo.entries

    def _bptt(self, layer: LayerSpec, n: int, dep: int) -> int:
        """Error recursion through time inside a BP-trained recurrent layer."""
        steps, h = layer.input_shape[0], layer.hidden_size
        g = GATES[layer.cell]
        gemm = GemmWork(GemmShape(m=n, k=g * h, n=h), count=steps, shared_filter=True)
        operands = (
            Operand("ifmap", "error", n * steps * g * h, f"{layer.name}.error"),
            Operand("filter", "weight", g * h * h, f"{layer.name}.weight"),
            Operand("ofmap", "error", n * steps * h, f"{layer.name}.error_bptt"),
        )
        return self.add(
            f"{layer.name}.bptt", "ep", layer.name, [gemm], 3 * n * steps * g * h, operands, [dep]
        )


def optimizer_kind(spec) -> str:
    """``sgd`` (plain), ``momentum`` (SGD with momentum > 0) or ``adam``; Adam without a spec."""
    kind = getattr(spec, "type", "adam")
    if kind == "sgd":
        return "momentum" if getattr(spec, "momentum", 0.0) > 0 else "sgd"
    return "adam"


def _input_of(params: list[LayerSpec], i: int, n: int) -> Operand:
    """The ifmap operand of parameter layer ``i``: the network input or the output below."""
    if i == 0:
        return Operand("ifmap", "input", n * math.prod(params[0].input_shape), "input")
    below = params[i - 1].name
    return Operand("ifmap", "activation", n * math.prod(params[i].input_shape), f"{below}.out")


def _out_elems(layer: LayerSpec) -> int:
    """Per-sample outputs of a parameter layer (all steps for a recurrent layer)."""
    if layer.kind == "recurrent":
        return layer.input_shape[0] * layer.hidden_size
    return math.prod(layer.output_shape)


def _carried_out_elems(layer: LayerSpec, after) -> int:
    """Per-sample elements handed to the next layer (after pooling)."""
    free = [f for f in after[layer.name] if f.kind == "pool"]
    return math.prod(free[-1].output_shape) if free else math.prod(layer.output_shape)


def _weight_elems(layer: LayerSpec, bias: bool = True) -> int:
    if layer.kind == "linear":
        w = layer.in_features * layer.out_features
        b = layer.out_features
    elif layer.kind == "conv":
        w = layer.out_channels * (layer.in_channels // layer.groups) * math.prod(layer.kernel)
        b = layer.out_channels
    else:
        g = GATES[layer.cell]
        w = g * layer.hidden_size * (layer.in_features + layer.hidden_size)
        b = 2 * g * layer.hidden_size
    return w + (b if bias and layer.bias else 0)


def _rows(layer: LayerSpec, n: int) -> int:
    return n * (layer.input_shape[0] if layer.per_step else 1)


def _fp_gemms(layer: LayerSpec, n: int) -> list[GemmWork]:
    if layer.kind == "linear":
        return [GemmWork(GemmShape(_rows(layer, n), layer.in_features, layer.out_features))]
    if layer.kind == "conv":
        g = layer.groups
        shape = GemmShape(
            n * math.prod(layer.output_shape[1:]),
            layer.in_channels // g * math.prod(layer.kernel),
            layer.out_channels // g,
        )
        return [GemmWork(shape, count=g)]
    steps, h, f = layer.input_shape[0], layer.hidden_size, layer.in_features
    gh = GATES[layer.cell] * h
    return [GemmWork(GemmShape(n, f, gh), steps, True), GemmWork(GemmShape(n, h, gh), steps, True)]


def _same_size(layer: LayerSpec) -> bool:
    """A stride-1 conv whose output has the input's spatial size ('same' padding)."""
    return all(s == 1 for s in layer.stride) and tuple(layer.output_shape[1:]) == tuple(
        layer.input_shape[1:]
    )


def _ep_gemms(layer: LayerSpec, n: int) -> list[GemmWork]:
    """The error through ``layer``'s W^T: as many MACs as its forward pass.

    A stride-1 'same' conv takes the direct (gather) form: the transposed convolution over the
    input positions, per group M = N*H*W, K = Cout/g*kh*kw, N = Cin/g; with H*W = Ho*Wo it
    multiplies exactly the FP's pairs and its reduction over taps happens in the array. Any
    other conv (strided, or unpadded so that H*W > Ho*Wo) would multiply inserted or padding
    zeros in that form (H*W / (Ho*Wo) times the work, LeNet's conv2 1.96x), so it takes the
    col2im (scatter) form: per group the output errors (N*Ho*Wo x Cout/g) times W^T
    (Cout/g x Cin/g*kh*kw) give one contribution per output position and tap, which
    ``_col2im_adds`` sums into the input (the functional engine's form too, docs/kernels.md).
    """
    if layer.kind == "linear":
        return [GemmWork(GemmShape(_rows(layer, n), layer.out_features, layer.in_features))]
    if layer.kind == "conv" and _same_size(layer):
        g = layer.groups
        shape = GemmShape(
            n * math.prod(layer.input_shape[1:]),
            layer.out_channels // g * math.prod(layer.kernel),
            layer.in_channels // g,
        )
        return [GemmWork(shape, count=g)]
    if layer.kind == "conv":
        g = layer.groups
        shape = GemmShape(
            n * math.prod(layer.output_shape[1:]),
            layer.out_channels // g,
            layer.in_channels // g * math.prod(layer.kernel),
        )
        return [GemmWork(shape, count=g)]
    steps, h, f = layer.input_shape[0], layer.hidden_size, layer.in_features
    return [GemmWork(GemmShape(n, GATES[layer.cell] * h, f), steps, True)]


def _col2im_adds(layer: LayerSpec, n: int) -> int:
    """Element-wise additions of col2im after a conv's EP GEMMs (0 for other layers).

    The GEMMs leave N*Ho*Wo x Cin*kh*kw contributions (all groups): each is the error one
    output position sends through one tap to one input element (or into the padding, where it
    is dropped). Overlapping windows make several land on the same input element, so they are
    scatter-added into the input error: one add per column element. This is the bound a
    scatter unit spends (it reads and accumulates every element once); it does not discount
    the first write to each input element, padding taps or the copy-only 1x1 stride-1 case.
    """
    if layer.kind != "conv" or _same_size(layer):
        return 0  # the direct form reduces over taps inside the array
    return n * math.prod(layer.output_shape[1:]) * layer.in_channels * math.prod(layer.kernel)


def _wg_gemms(layer: LayerSpec, n: int) -> list[GemmWork]:
    if layer.kind == "linear":
        return [GemmWork(GemmShape(layer.in_features, _rows(layer, n), layer.out_features))]
    if layer.kind == "conv":
        g = layer.groups
        shape = GemmShape(
            layer.in_channels // g * math.prod(layer.kernel),
            n * math.prod(layer.output_shape[1:]),
            layer.out_channels // g,
        )
        return [GemmWork(shape, count=g)]
    steps, h, f = layer.input_shape[0], layer.hidden_size, layer.in_features
    gh = GATES[layer.cell] * h
    return [GemmWork(GemmShape(f, n * steps, gh)), GemmWork(GemmShape(h, n * steps, gh))]

"""The ``training.extensions`` section: settings of the DFA extensions (Han et al. 2020).

Keys (all optional; an absent key takes the default of the preset being trained, see
docs/dfa-extensions.md): ``density`` of the feedback matrices in (0, 1], ``groups`` of the
conv feedback (group-conv error propagation), ``modules`` (a partition of the parameter layers
into consecutive blocks, each a list of layer names) and ``bp_layers`` (layers trained by BP in
hybrid DFA). Every name must be a trainable parameter layer of the workload (frozen layers,
``trainable: false``, train under no algorithm).

``resolve_extensions`` turns the section and an algorithm name into the settings actually
trained (``ExtensionSettings``), filling absent keys from the preset's defaults (``PRESETS``);
``error_sources`` says where each parameter layer's error comes from under those settings. The
functional engine (``accelsim.nn.algorithms``) and the simulator's lowering both call these two,
so they cannot disagree about what a preset means.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from accelsim.config.fields import Section

if TYPE_CHECKING:
    from accelsim.config.training import TrainingSpec
    from accelsim.config.workload import LayerSpec

OUTPUT = "output"  # the signal name of the output error e (as accelsim.nn.algorithms.plan.OUTPUT)


@dataclass(frozen=True)
class ExtensionSpec:
    """None = use the preset's default."""

    density: float | None = None
    groups: int | None = None
    modules: tuple[tuple[str, ...], ...] | None = None
    bp_layers: tuple[str, ...] | None = None


KEYS = ("density", "groups", "modules", "bp_layers")


def parse_extensions(section: Section, layers: Sequence[LayerSpec]) -> ExtensionSpec:
    section.reject_unknown(KEYS)
    names = [layer.name for layer in layers if layer.is_trainable]
    density = None
    if section.has("density"):
        density = section.get_float("density", minimum=0.0, maximum=1.0, exclusive_minimum=True)
    groups = None
    if section.has("groups"):
        groups = section.get_int("groups", minimum=1)
        classes = layers[-1].output_shape[-1]
        if groups > classes:
            raise section.error(
                "groups",
                f"at most the number of classes ({classes}); each "
                "group reads its own share of the output error",
                groups,
            )
        conv = [layer for layer in layers if layer.kind == "conv"]
        for layer in conv:
            if layer.out_channels % groups:
                raise section.error(
                    "groups",
                    f"a divisor of the channels of every conv layer ({layer.name} "
                    f"has {layer.out_channels})",
                    groups,
                )
    modules = None
    if section.has("modules"):
        modules = _modules(section, names)
    bp_layers = None
    if section.has("bp_layers") and isinstance(section.data["bp_layers"], str):
        rule = section.data["bp_layers"]
        try:
            bp_layers = placement(rule, [layer for layer in layers if layer.is_trainable])
        except ValueError as err:
            raise section.error("bp_layers", str(err), rule) from None
    elif section.has("bp_layers"):
        if not isinstance(section.data["bp_layers"], list):
            raise section.error(
                "bp_layers",
                "a placement rule (" + ", ".join(PLACEMENT_RULES) + ") or a list of "
                "parameter-layer names",
            )
        raw = section.get_list("bp_layers", non_empty=False)
        if len(set(map(str, raw))) != len(raw):
            raise section.error("bp_layers", "each layer named once", raw)
        for name in raw:
            if name not in names:
                raise section.error(
                    "bp_layers",
                    "names of parameter layers (" + ", ".join(names) + ") or a placement rule "
                    "(" + ", ".join(PLACEMENT_RULES) + ")",
                    name,
                )
        bp_layers = tuple(raw)
    return ExtensionSpec(density, groups, modules, bp_layers)


# -- hybrid placements: which parameter layers train by BP ------------------------------------
PLACEMENT_RULES = ("top-K", "bottom-K", "top-half", "bottom-half", "conv", "none")


def placement(rule: str, param_layers: Sequence[LayerSpec]) -> tuple[str, ...]:
    """The parameter layers a placement rule trains by BP (``training.extensions.bp_layers``).

    ``top-K`` / ``bottom-K``: the K highest / lowest parameter layers, counted over all of them
    (the output layer takes the loss gradient in every algorithm, so ``top-1`` is plain DFA);
    ``top-half`` / ``bottom-half``: ceil(n / 2) of them; ``conv``: every convolutional layer (BP
    for the feature extractor, DFA for the fully connected layers above it); ``none``: no layer.
    Raises ValueError with what was expected.
    """
    names = [layer.name for layer in param_layers]
    count = len(names)
    half = math.ceil(count / 2)
    if rule == "none":
        return ()
    if rule == "conv":
        return tuple(layer.name for layer in param_layers if layer.kind == "conv")
    if rule in ("top-half", "bottom-half"):
        return tuple(names[count - half :] if rule == "top-half" else names[:half])
    side, _, number = rule.partition("-")
    expected = (
        f"a placement rule ({', '.join(PLACEMENT_RULES)}; K from 1 to {count}, the number of "
        "parameter layers) or a list of parameter-layer names"
    )
    # ASCII digits without a leading zero only: str.isdigit() also admits '²' and '٣'
    if side not in ("top", "bottom") or not re.fullmatch(r"[1-9][0-9]*", number):
        raise ValueError(expected)
    if not 1 <= int(number) <= count:
        raise ValueError(expected)
    k = int(number)
    return tuple(names[count - k :] if side == "top" else names[:k])


def _modules(section: Section, names: list[str]) -> tuple[tuple[str, ...], ...]:
    raw = section.get_list("modules")
    expected = "a list of modules, each a non-empty list of parameter-layer names"
    seen: list[str] = []
    modules = []
    for module in raw:
        if not isinstance(module, list) or not module:
            raise section.error("modules", expected, module)
        for name in module:
            if name not in names:
                raise section.error(
                    "modules", "names of parameter layers (" + ", ".join(names) + ")", name
                )
            if name in seen:
                raise section.error(
                    "modules",
                    "each parameter layer in exactly one module",
                    f"{name} in two modules",
                )
            seen.append(name)
        modules.append(tuple(module))
    missing = [name for name in names if name not in seen]
    if missing:
        raise section.error(
            "modules", "each parameter layer in exactly one module", f"{missing[0]} in no module"
        )
    if seen != names:
        raise section.error(
            "modules",
            "consecutive layers in network order, bottom module first",
            [list(m) for m in modules],
        )
    return tuple(modules)


# -- resolution: the settings an algorithm trains with ----------------------------------------
@dataclass(frozen=True)
class ExtensionSettings:
    """Resolved feedback settings for one network and algorithm.

    ``modules`` empty means one module of all layers (plain DFA's routing); ``conv_mode`` is
    ``training.feedback.conv_mode`` (the form of dense, ungrouped conv feedback).
    """

    density: float = 1.0
    groups: int = 1
    modules: tuple[tuple[str, ...], ...] = ()
    bp_layers: tuple[str, ...] = ()
    conv_mode: str = "dense"


def pairs_from_top(names: Sequence[str], size: int = 2) -> tuple[tuple[str, ...], ...]:
    """Consecutive modules of ``size`` layers counted from the output (the bottom may be short)."""
    cuts = list(range(len(names), 0, -size))
    return tuple(tuple(names[max(0, end - size) : end]) for end in reversed(cuts))


# The default placement of hybrid-dfa, chosen by measurement (benchmarks/hybrid_placement.py,
# docs/dfa-extensions.md "Where the BP layers go"): no rule came within 1 point of BP on the
# MNIST-1D CNNs, and "conv" had the smallest gap. tests/regression/test_results_doc.py checks
# that this is still the study's choice.
HYBRID_DEFAULT_RULE = "conv"

# preset -> default of each key (a value, or a function of the parameter layers)
PRESETS: dict[str, dict[str, Any]] = {
    "sparse-dfa": {"density": 0.1},
    "modular-dfa": {"modules": lambda layers: pairs_from_top([x.name for x in layers])},
    "hybrid-dfa": {"bp_layers": lambda layers: placement(HYBRID_DEFAULT_RULE, layers)},
}
# algorithms whose routes and feedback ignore ``training.extensions`` (plain DFA keeps its B)
PLAIN = ("bp", "fa", "dfa", "pdfa")


def resolve_extensions(
    training: TrainingSpec | None, algorithm: str, param_layers: Sequence[LayerSpec]
) -> ExtensionSettings:
    """The settings ``algorithm`` trains with: the workload's ``training.extensions`` keys,
    the preset's defaults for absent keys (extension presets only)."""
    names = tuple(layer.name for layer in param_layers)
    if training is not None:
        training = training.for_algorithm(algorithm)  # its per_algorithm recipe, if any
    conv_mode = training.feedback.conv_mode if training is not None else "dense"
    if algorithm in PLAIN:
        return ExtensionSettings(conv_mode=conv_mode)
    if algorithm not in PRESETS:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    spec = training.extensions if training is not None else ExtensionSpec()
    defaults = PRESETS[algorithm]

    def pick(key: str, fallback: object) -> Any:
        value = getattr(spec, key)
        if value is not None:
            return value
        default = defaults.get(key, fallback)
        return default(param_layers) if callable(default) else default

    return ExtensionSettings(
        density=float(pick("density", 1.0)),
        groups=int(pick("groups", 1)),
        modules=tuple(tuple(m) for m in pick("modules", (names,))),
        bp_layers=tuple(pick("bp_layers", ())),
        conv_mode=conv_mode,
    )


def error_sources(
    algorithm: str, settings: ExtensionSettings, param_layer_names: Sequence[str]
) -> tuple[str | None, ...]:
    """Per parameter layer, the error it reads directly: ``None`` (by BP from the layer above,
    or the loss for the last layer), ``OUTPUT`` (the output error e) or the name of the module
    top whose error it reads (docs/dfa-extensions.md, section 3)."""
    names = tuple(param_layer_names)
    last = names[-1]
    if algorithm in ("bp", "fa"):
        return (None,) * len(names)
    top_of = {name: module[-1] for module in settings.modules for name in module}
    out: list[str | None] = []
    for name in names:
        top = top_of.get(name, last)
        if name in (last, top) or name in settings.bp_layers:
            out.append(None)
        else:
            out.append(OUTPUT if top == last else top)
    return tuple(out)

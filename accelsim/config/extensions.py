"""The ``training.extensions`` section: settings of the DFA extensions (Han et al. 2020).

Keys (all optional; an absent key takes the default of the preset being trained, see
docs/dfa-extensions.md): ``density`` of the feedback matrices in (0, 1], ``groups`` of the
conv feedback (group-conv error propagation), ``modules`` (a partition of the parameter layers
into consecutive blocks, each a list of layer names) and ``bp_layers`` (layers trained by BP in
hybrid DFA). Every name must be a parameter layer of the workload.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from accelsim.config.fields import Section

if TYPE_CHECKING:
    from accelsim.config.workload import LayerSpec


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
    names = [layer.name for layer in layers if layer.has_params]
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
    if section.has("bp_layers"):
        raw = section.get_list("bp_layers", non_empty=False)
        for name in raw:
            if name not in names:
                raise section.error(
                    "bp_layers", "names of parameter layers (" + ", ".join(names) + ")", name
                )
        bp_layers = tuple(raw)
    return ExtensionSpec(density, groups, modules, bp_layers)


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

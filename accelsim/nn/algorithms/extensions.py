"""The DFA extensions of Han, Park, Ryu and Yoo (2020) as plans: modules, sparse, grouped, hybrid.

One rule covers all of them (docs/dfa-extensions.md):

- the parameter layers are cut into ``modules`` (consecutive blocks); a module's top layer gets
  its error by BP from the layer above (the loss for the last module), every other layer of the
  module gets ``B_l d_top`` directly from that top layer's error (``e`` for the last module);
- layers named in ``bp_layers`` are trained by BP whatever their module;
- the direct feedback has ``density`` (CSR for linear and recurrent layers, a dilated
  convolution for conv layers) and conv feedback is split into ``groups``.

One module, no BP layers, density 1 and one group is plain DFA exactly; one layer per module is
BP exactly. The presets differ only in their defaults (``PRESETS``); any key set in the
workload's ``training.extensions`` overrides the preset's default.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from accelsim.config.extensions import ExtensionSpec
from accelsim.nn.algorithms.feedback_ops import extension_operator
from accelsim.nn.algorithms.plan import OUTPUT, Direct, FromAbove, Plan, PlanContext, Source


@dataclass(frozen=True)
class Settings:
    """Resolved extension settings for one network."""

    density: float
    groups: int
    modules: tuple[tuple[str, ...], ...]
    bp_layers: tuple[str, ...]


def pairs_from_top(names: Sequence[str], size: int = 2) -> tuple[tuple[str, ...], ...]:
    """Consecutive modules of ``size`` layers counted from the output (the bottom may be short)."""
    cuts = list(range(len(names), 0, -size))
    return tuple(tuple(names[max(0, end - size) : end]) for end in reversed(cuts))


def top_half(names: Sequence[str]) -> tuple[str, ...]:
    return tuple(names[len(names) - math.ceil(len(names) / 2) :])


# preset -> default of each key given the parameter-layer names
PRESETS = {
    "sparse-dfa": {"density": 0.1},
    "modular-dfa": {"modules": pairs_from_top},
    "hybrid-dfa": {"bp_layers": top_half},
}


def resolve(preset: str, spec: ExtensionSpec, names: Sequence[str]) -> Settings:
    defaults = PRESETS[preset]

    def pick(key: str, fallback):
        value = getattr(spec, key)
        if value is not None:
            return value
        default = defaults.get(key, fallback)
        return default(names) if callable(default) else default

    return Settings(
        density=float(pick("density", 1.0)),
        groups=int(pick("groups", 1)),
        modules=tuple(pick("modules", (tuple(names),))),
        bp_layers=tuple(pick("bp_layers", ())),
    )


def build_extended(ctx: PlanContext, preset: str) -> Plan:
    names = [layer.name for layer in ctx.param_layers]
    settings = resolve(preset, ctx.training.extensions, names)
    return plan_for(ctx, preset, settings)


def plan_for(ctx: PlanContext, algorithm: str, settings: Settings) -> Plan:
    names = [layer.name for layer in ctx.param_layers]
    last = names[-1]
    top_of = {name: module[-1] for module in settings.modules for name in module}
    sources: dict[str, Source] = {}
    for layer in ctx.param_layers:
        top = top_of[layer.name]
        if layer.name == top or layer.name in settings.bp_layers:
            sources[layer.name] = FromAbove()
            continue
        signal = OUTPUT if top == last else top
        op = extension_operator(ctx, layer, signal, settings.density, settings.groups)
        sources[layer.name] = Direct(signal, op)
    return Plan(algorithm, sources)

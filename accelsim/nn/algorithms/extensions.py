"""The DFA extensions of Han, Park, Ryu and Yoo (2020) as plans: modules, sparse, grouped, hybrid.

One rule covers all of them (docs/dfa-extensions.md):

- the parameter layers are cut into ``modules`` (consecutive blocks); a module's top layer gets
  its error by BP from the layer above (the loss for the last module), every other layer of the
  module gets ``B_l d_top`` directly from that top layer's error (``e`` for the last module);
- layers named in ``bp_layers`` are trained by BP whatever their module;
- the direct feedback has ``density`` (CSR for linear and recurrent layers, a dilated
  convolution for conv layers) and conv feedback is split into ``groups``.

One module, no BP layers, density 1 and one group is plain DFA exactly; one layer per module is
BP exactly. The presets differ only in their defaults; any key set in the workload's
``training.extensions`` overrides the preset's default. The defaults and the routing rule live
in ``accelsim.config.extensions`` (``resolve_extensions``, ``error_sources``), shared with the
simulator's lowering.
"""

from __future__ import annotations

from accelsim.config.extensions import ExtensionSettings, error_sources, resolve_extensions
from accelsim.nn.algorithms.dfa import direct_plan
from accelsim.nn.algorithms.feedback_ops import extension_operator
from accelsim.nn.algorithms.plan import Plan, PlanContext


def build_extended(ctx: PlanContext, preset: str) -> Plan:
    specs = [layer.spec for layer in ctx.param_layers]
    settings = resolve_extensions(ctx.training, preset, specs)
    return plan_for(ctx, preset, settings)


def plan_for(ctx: PlanContext, algorithm: str, settings: ExtensionSettings) -> Plan:
    names = [layer.name for layer in ctx.param_layers]
    signals = error_sources(algorithm, settings, names)

    def operator(ctx: PlanContext, layer, signal: str):
        return extension_operator(ctx, layer, signal, settings.density, settings.groups)

    return direct_plan(ctx, algorithm, dict(zip(names, signals, strict=True)), operator)

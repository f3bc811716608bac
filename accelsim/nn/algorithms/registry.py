"""Algorithm name -> plan builder. Builders register themselves with ``@register("name")``.

Algorithms provided by optional modules (``PROVIDERS``) are imported on first use; an accepted
name whose module is absent fails with a one-line ``ConfigError`` instead of a traceback.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable

from accelsim.nn.algorithms.plan import Plan, PlanContext

PlanBuilder = Callable[[PlanContext], Plan]

BUILDERS: dict[str, PlanBuilder] = {}

# name -> module that registers it when imported
PROVIDERS: dict[str, str] = {
    "bp": "accelsim.nn.algorithms.bp",
    "fa": "accelsim.nn.algorithms.fa",
    "dfa": "accelsim.nn.algorithms.dfa",
    "pdfa": "accelsim.nn.algorithms.dfa",
    "sparse-dfa": "accelsim.nn.algorithms.sparse",
    "modular-dfa": "accelsim.nn.algorithms.modular",
    "hybrid-dfa": "accelsim.nn.algorithms.hybrid",
}


def register(name: str) -> Callable[[PlanBuilder], PlanBuilder]:
    def decorate(builder: PlanBuilder) -> PlanBuilder:
        BUILDERS[name] = builder
        return builder

    return decorate


def _load(name: str) -> PlanBuilder | None:
    if name not in BUILDERS and name in PROVIDERS:
        module = PROVIDERS[name]
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as err:
            if err.name != module:
                raise
    return BUILDERS.get(name)


def implemented() -> tuple[str, ...]:
    """Names whose builder can be loaded in this installation."""
    return tuple(name for name in PROVIDERS if _load(name) is not None)


def build_plan(name: str, ctx: PlanContext) -> Plan:
    builder = _load(name)
    if builder is None:
        raise ctx.error(
            "an algorithm implemented by accelsim.nn (" + ", ".join(implemented()) + ")",
            f"{name} (not available in this build)" if name in PROVIDERS else name,
        )
    plan = builder(ctx)
    plan.check(ctx.layers)
    return plan

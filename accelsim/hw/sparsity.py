"""Zero skipping: the fraction of a task's MACs left when a unit skips zero operands.

ReLU networks carry many exact zeros: in the activations ``h`` a layer multiplies, and in the
errors ``d = delta * f'(a)`` wherever ``f'(a) = 0``. A PE array with ``zero_skipping: true``
spends no cycle and no MAC energy on a product with a zero activation or error operand. Given the
measured zero fractions per parameter layer (``input``: of the activations the layer multiplies,
``error``: of its error ``d``), each GEMM task keeps the fraction ``rho`` of its MACs:

    FP_l        rho = 1 - z_in(l)                     (W is dense)
    EP through l (BP/FA, and BPTT)  rho = 1 - z_err(l)  (W or B is dense)
    WG_l        rho = (1 - z_in(l)) (1 - z_err(l))    (independent zeros, assumed)
    DFA-EP_l    rho = 1 - z_err(j), j = the layer whose error is projected (the output: e)

Weights and feedback matrices count as dense. The cost model scales the task's GEMM cycles and
MACs by ``rho`` (ideal load balance, no skipping overhead: an upper bound on the saving); its
memory traffic is unchanged (operands stay stored dense). docs/simulate.md has the details.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from accelsim.config.errors import ConfigError
from accelsim.lowering.graph import TaskGraph

KINDS = ("input", "error")  # the zero fractions measured per parameter layer

ZeroFractions = Mapping[str, Mapping[str, float]]


def check_zero_fractions(graph: TaskGraph, zero_fractions: ZeroFractions) -> None:
    """Raise ConfigError unless every entry names a parameter layer and a fraction in [0, 1]."""
    if not isinstance(zero_fractions, Mapping):
        raise ConfigError(
            None, "zero_fractions", "a mapping layer -> {input, error}", zero_fractions
        )
    for layer, fractions in zero_fractions.items():
        if layer not in graph.layers:
            expected = "a parameter layer: " + ", ".join(graph.layers)
            raise ConfigError(None, "zero_fractions", expected, layer)
        if not isinstance(fractions, Mapping):
            raise ConfigError(
                None, f"zero_fractions.{layer}", "a mapping {input, error}", fractions
            )
        for kind, value in fractions.items():
            if kind not in KINDS:
                raise ConfigError(None, f"zero_fractions.{layer}", "keys input, error", kind)
            ok = isinstance(value, (int, float)) and not isinstance(value, bool)
            if not ok or not math.isfinite(value) or not 0.0 <= value <= 1.0:
                raise ConfigError(
                    None, f"zero_fractions.{layer}.{kind}", "a number in [0, 1]", value
                )


def task_densities(graph: TaskGraph, zero_fractions: ZeroFractions | None) -> dict[int, float]:
    """Task index -> fraction of its MACs a zero-skipping unit performs (GEMM tasks only)."""
    if not zero_fractions:
        return {}
    check_zero_fractions(graph, zero_fractions)

    def dense(layer: str, kind: str) -> float:
        return 1.0 - float(zero_fractions.get(layer, {}).get(kind, 0.0))

    source = {layer: src for layer, route, src in graph.routes if route == "dfa"}
    last = graph.layers[-1]
    out: dict[int, float] = {}
    for task in graph.tasks:
        if task.kind == "fp":
            rho = dense(task.layer, "input")
        elif task.kind == "ep":
            # "<l>.ep" carries the error of l down through W_l; "<l>.bptt" recurs on d_l
            rho = dense(task.layer, "error")
        elif task.kind == "wg":
            rho = dense(task.layer, "input") * dense(task.layer, "error")
        elif task.kind == "dfa_ep":
            rho = dense(source.get(task.layer, last), "error")
        else:
            continue
        out[task.index] = rho
    return out

"""How each training algorithm routes errors to the layers, and the presets of its settings.

Every parameter layer but the last receives its error ``d_l`` from one of two routes:
``bp`` (from the layer above through ``W^T``, or ``B`` for FA) or ``dfa`` (a random projection
``B_l e_j`` of the error of a later layer ``j``, usually the output). The last layer takes the
loss gradient. The extensions' settings come from the workload's ``training:`` section when it
has them; otherwise these presets apply (docs/hardware-model.md lists them):

- sparse-dfa: B density 0.1 (a tenth of the entries are non-zero).
- modular-dfa: the parameter layers split into 2 modules of consecutive layers (the first one
  takes the extra layer when the count is odd): DFA inside a module from the module's output
  error, BP across the module boundary.
- hybrid-dfa: the last 2 parameter layers by BP, the others by DFA from the output error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from accelsim.config.algorithms import ALGORITHMS
from accelsim.config.workload import Workload

SPARSE_DENSITY = 0.1
MODULES = 2
HYBRID_BP_LAYERS = 2

SCHEDULES = {
    "bp": "bp",
    "fa": "bp",
    "dfa": "dfa",
    "sparse-dfa": "dfa",
    "pdfa": "pdfa",
    "modular-dfa": "hybrid",
    "hybrid-dfa": "hybrid",
}


@dataclass(frozen=True)
class FeedbackSettings:
    density: float = 1.0  # fraction of non-zero B entries (sparse-dfa)
    conv_mode: str = "dense"  # dense: B maps e to C*H*W; conv: B is a kernel over tiled e
    modules: tuple[tuple[str, ...], ...] = ()  # modular-dfa
    bp_layers: tuple[str, ...] = ()  # hybrid-dfa


def settings_for(workload: Workload, algorithm: str) -> FeedbackSettings:
    """Read extension settings from the workload if present, else use the presets."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    names = tuple(layer.name for layer in workload.param_layers)
    training = workload.training
    fb = getattr(training, "feedback", None)
    conv_mode = str(getattr(fb, "conv_mode", "dense") or "dense")
    density = 1.0
    if algorithm == "sparse-dfa":
        density = float(_first(fb, training, ("density", "feedback_density"), SPARSE_DENSITY))
    modules: tuple[tuple[str, ...], ...] = ()
    if algorithm == "modular-dfa":
        modules = _modules(_first(fb, training, ("modules",), None), names)
    bp_layers: tuple[str, ...] = ()
    if algorithm == "hybrid-dfa":
        bp_layers = _bp_layers(
            _first(fb, training, ("bp_layers", "hybrid_bp_layers", "hybrid"), None), names
        )
    return FeedbackSettings(density, conv_mode, modules, bp_layers)


def routes(
    names: Sequence[str], algorithm: str, settings: FeedbackSettings
) -> list[tuple[str, str]]:
    """Per parameter layer, where its error comes from: (route, source layer)."""
    last = len(names) - 1
    out: list[tuple[str, str]] = []
    module_end: dict[str, str] = {}
    for module in settings.modules:
        for name in module:
            module_end[name] = module[-1]
    for i, name in enumerate(names):
        if i == last:
            out.append(("loss", ""))
        elif algorithm in ("bp", "fa"):
            out.append(("bp", names[i + 1]))
        elif algorithm == "modular-dfa":
            end = module_end[name]
            out.append(("bp", names[i + 1]) if end == name else ("dfa", end))
        elif algorithm == "hybrid-dfa" and name in settings.bp_layers:
            out.append(("bp", names[i + 1]))
        else:
            out.append(("dfa", names[last]))
    return out


def _first(fb: Any, training: Any, keys: Sequence[str], default: Any) -> Any:
    for holder in (fb, training):
        for key in keys:
            value = getattr(holder, key, None)
            if value not in (None, (), [], 0):
                return value
    return default


def _modules(value: Any, names: tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    """Modules from an int (that many equal splits) or lists of layer names; presets otherwise."""
    if isinstance(value, int) and not isinstance(value, bool):
        count = max(1, min(value, len(names)))
    elif isinstance(value, (list, tuple)) and value:
        if all(isinstance(v, (list, tuple)) for v in value):
            groups = tuple(tuple(str(n) for n in group if n in names) for group in value)
            covered = [n for group in groups for n in group]
            if sorted(covered) == sorted(names):
                return tuple(g for g in groups if g)
        if all(isinstance(v, int) for v in value) and sum(value) == len(names):
            out, start = [], 0
            for size in value:
                out.append(names[start : start + size])
                start += size
            return tuple(g for g in out if g)
        count = MODULES
    else:
        count = MODULES
    count = min(count, len(names))
    base, extra = divmod(len(names), count)
    out, start = [], 0
    for i in range(count):
        size = base + (1 if i < extra else 0)
        out.append(names[start : start + size])
        start += size
    return tuple(out)


def _bp_layers(value: Any, names: tuple[str, ...]) -> tuple[str, ...]:
    if isinstance(value, int) and not isinstance(value, bool):
        return names[len(names) - min(value, len(names)) :]
    if isinstance(value, (list, tuple)) and value:
        return tuple(str(n) for n in value if n in names)
    return names[len(names) - min(HYBRID_BP_LAYERS, len(names)) :]

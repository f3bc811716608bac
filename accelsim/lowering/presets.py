"""How each training algorithm routes errors to the layers, and the settings it trains with.

Every parameter layer but the last receives its error ``d_l`` from one of two routes:
``bp`` (from the layer above through ``W^T``, or ``B`` for FA) or ``dfa`` (a random projection
``B_l e_j`` of the error of a later layer ``j``: the output, or a module's top layer). The last
layer takes the loss gradient. The settings (density, groups, modules, BP layers, conv feedback
form) and the routing rule are the functional engine's own: both come from
``accelsim.config.extensions`` (``resolve_extensions``, ``error_sources``), which reads the
workload's ``training.extensions`` and fills absent keys from the presets documented in
docs/dfa-extensions.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from accelsim.config.algorithms import ALGORITHMS
from accelsim.config.extensions import (
    OUTPUT,
    ExtensionSettings,
    error_sources,
    resolve_extensions,
)
from accelsim.config.workload import Workload

SCHEDULES = {
    "bp": "bp",
    "fa": "bp",
    "dfa": "dfa",
    "sparse-dfa": "dfa",
    "pdfa": "pdfa",
    "modular-dfa": "hybrid",
    "hybrid-dfa": "hybrid",
}

# the lowering's name for the settings (kept for callers that build them by hand)
FeedbackSettings = ExtensionSettings


def settings_for(workload: Workload, algorithm: str) -> ExtensionSettings:
    """The settings ``algorithm`` trains ``workload`` with (the engine's, see module doc)."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}")
    return resolve_extensions(workload.training, algorithm, workload.trainable_layers)


def routes(
    names: Sequence[str], algorithm: str, settings: ExtensionSettings
) -> list[tuple[str, str]]:
    """Per parameter layer, where its error comes from: (route, source layer)."""
    last = len(names) - 1
    out: list[tuple[str, str]] = []
    for i, signal in enumerate(error_sources(algorithm, settings, names)):
        if i == last:
            out.append(("loss", ""))
        elif signal is None:
            out.append(("bp", names[i + 1]))
        else:
            out.append(("dfa", names[last] if signal == OUTPUT else signal))
    return out

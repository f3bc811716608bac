"""Names of the training algorithms and presets accepted by ``--algorithm`` and workload files.

The functional engine (``accelsim.nn``) defines the maths of each, the lowering defines its cost;
docs/algorithms.md writes both down. ``pdfa`` trains as DFA with the weight-update delay of its
pipeline; on the chip it overlaps the backward work of one iteration with the next forward pass.
"""

from __future__ import annotations

from collections.abc import Sequence

from accelsim.config.errors import ConfigError

ALGORITHMS = ("bp", "fa", "dfa", "pdfa", "sparse-dfa", "modular-dfa", "hybrid-dfa")


def parse_algorithm_list(
    text: str | Sequence[str], option: str = "--algorithms"
) -> tuple[str, ...]:
    """``"bp,dfa"`` -> ("bp", "dfa"). An empty list (``",,,"``), an unknown name or a repeated
    one is a ConfigError naming ``option``: one parser for every command that takes a list."""
    names = [n.strip() for n in text.split(",")] if isinstance(text, str) else list(text)
    names = [n for n in names if n]
    if not names:
        raise ConfigError(None, option, "a comma-separated list of algorithms", text)
    for name in names:
        if name not in ALGORITHMS:
            raise ConfigError(None, option, "names from " + ", ".join(ALGORITHMS), name)
    if len(set(names)) != len(names):
        raise ConfigError(None, option, "each algorithm once", ",".join(names))
    return tuple(names)

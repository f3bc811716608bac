"""Dotted paths into the raw arch and workload mappings of a sweep.

A sweep names what it varies with a path such as ``arch.clock_mhz``,
``arch.units.fp_core.rows`` or ``workload.layers.conv1.out_channels``: the first segment picks
the file (``arch`` or ``workload``), each further segment a key of a mapping or, inside a list,
the entry whose ``name`` is that segment (a plain integer index is accepted for lists whose
entries have no names). Paths are checked against the files before anything runs, so a typo is
an error naming the spec file and the path, not a silently ignored key.
"""

from __future__ import annotations

from typing import Any

from accelsim.config.errors import ConfigError

ROOTS = ("arch", "workload")


def split_path(path: Any, file: str, key: str) -> tuple[str, tuple[str, ...]]:
    """``"arch.units.fp_core.rows"`` -> ``("arch", ("units", "fp_core", "rows"))``."""
    if not isinstance(path, str) or not path:
        raise ConfigError(file, key, "a dotted path such as arch.clock_mhz", path)
    parts = path.split(".")
    if parts[0] not in ROOTS or len(parts) < 2 or not all(parts):
        raise ConfigError(
            file, key, "a dotted path starting with arch. or workload. (e.g. arch.clock_mhz)", path
        )
    return parts[0], tuple(parts[1:])


def _step(node: Any, segment: str) -> tuple[Any, Any]:
    """The child of ``node`` named ``segment`` and the key/index that reaches it, or KeyError."""
    if isinstance(node, dict):
        if segment in node:
            return node[segment], segment
        raise KeyError(segment)
    if isinstance(node, list):
        for index, entry in enumerate(node):
            if isinstance(entry, dict) and entry.get("name") == segment:
                return entry, index
        if segment.isdigit() and int(segment) < len(node):
            return node[int(segment)], int(segment)
    raise KeyError(segment)


def _choices(node: Any) -> str:
    if isinstance(node, dict):
        return ", ".join(map(str, node)) or "none"
    if isinstance(node, list):
        names = [str(e["name"]) for e in node if isinstance(e, dict) and "name" in e]
        return ", ".join(names) if names else f"an index 0-{len(node) - 1}"
    return "none (a plain value has no children)"


def get_value(
    data: dict[str, Any], parts: tuple[str, ...], file: str, key: str, source: str
) -> Any:
    """The value at ``parts`` inside ``data``; ConfigError naming the missing segment."""
    node: Any = data
    for depth, segment in enumerate(parts):
        try:
            node, _ = _step(node, segment)
        except KeyError:
            where = ".".join(parts[:depth]) or "the top level"
            raise ConfigError(
                file,
                key,
                f"a path that exists in {source} (under {where}: {_choices(node)})",
                segment,
            ) from None
    return node


def set_value(data: dict[str, Any], parts: tuple[str, ...], value: Any) -> None:
    """Set ``parts`` inside ``data`` in place; the path must exist (checked by ``get_value``)."""
    node: Any = data
    for segment in parts[:-1]:
        node, _ = _step(node, segment)
    _, last = _step(node, parts[-1])
    node[last] = value

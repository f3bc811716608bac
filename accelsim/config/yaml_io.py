"""Read a YAML file (or accept an already-parsed dict) with errors that name the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from accelsim.config.errors import ConfigError


def load_yaml_mapping(
    source: str | Path | dict[str, Any], label: str | None = None
) -> tuple[dict[str, Any], str]:
    """Return ``(mapping, label)``; ``label`` names the source in error messages.

    A dict is taken as already parsed; pass ``label`` to say where it came from (for example
    the file a sweep point was derived from).
    """
    if isinstance(source, dict):
        return source, label or "<dict>"
    path = Path(source)
    label = str(source)
    if not path.exists():
        raise ConfigError(label, None, "an existing file", "no such file")
    if path.is_dir():
        raise ConfigError(label, None, "a YAML file", "a directory")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(label, None, "a readable UTF-8 YAML file", str(err)) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(err, "problem", None) or "syntax error"
        raise ConfigError(label, None, f"valid YAML (syntax error{at}: {problem})") from None
    if data is None:
        raise ConfigError(label, None, "a non-empty YAML mapping", "an empty file")
    if not isinstance(data, dict):
        raise ConfigError(label, None, "a YAML mapping at the top level", type(data).__name__)
    return data, label

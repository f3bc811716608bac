"""Helpers the benchmark scripts share: reading and replacing one marked section of a docs file.

A section is the text between a line ``<!-- section: NAME ... -->`` and ``<!-- end: NAME -->``;
each benchmark owns one and rewrites only it, so other sections of the same file stay as they
are. Scripts import this as ``from _common import ...`` (Python puts a script's own folder on
``sys.path``).
"""

from __future__ import annotations

import re
from pathlib import Path


def _pattern(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- section: {name}\b[^>]*-->\n)(.*?)(<!-- end: {name} -->)", re.S)


def read_section(path: Path, name: str) -> str | None:
    """The body of section ``name`` in ``path`` (without the markers), or None if absent."""
    match = _pattern(name).search(path.read_text(encoding="utf-8"))
    return match.group(2) if match else None


def write_section(path: Path, name: str, body: str) -> None:
    """Replace the body of section ``name`` in ``path`` by ``body`` (a newline is added)."""
    doc = path.read_text(encoding="utf-8")
    pattern = _pattern(name)
    if not pattern.search(doc):
        raise SystemExit(f"{path}: no '<!-- section: {name} ... -->' markers")
    path.write_text(
        pattern.sub(lambda m: m.group(1) + body + "\n" + m.group(3), doc),
        encoding="utf-8",
    )

"""The one error type for bad input: it names the file, the key, what was expected and what came.

Validation happens once, at the edge (this package); everything downstream trusts the typed
objects it returns. The CLI turns a ConfigError into one line on stderr and exit code 2.
"""

from __future__ import annotations

import reprlib
from typing import Any

_MISSING = object()


class ConfigError(ValueError):
    """Bad user input. ``str(err)`` is a one-line message fit for stderr."""

    def __init__(self, file: str | None, key: str | None, expected: str, got: Any = _MISSING):
        self.file = file
        self.key = key
        self.expected = expected
        self.got = got
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = ": ".join(part for part in (self.file, self.key) if part)
        got = "" if self.got is _MISSING else f", got {_short(self.got)}"
        text = f"expected {self.expected}{got}"
        return one_line(f"{where}: {text}" if where else text)


_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxstring = 60
_REPR.maxother = 60
_REPR.maxlong = 40


def one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped and lone surrogates
    (odd unicode) made printable, so a message is always one line any terminal can show."""
    text = "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _short(value: Any, limit: int = 80) -> str:
    """A bounded repr: never huge, never slow (deep or alias-shared structures), never failing
    (integers beyond Python's 4300-digit str limit)."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 128:
        sign = "-" if value < 0 else ""
        return f"{sign}an integer of about {int(value.bit_length() * 0.30103) + 1} digits"
    try:
        text = _REPR.repr(value)
    except Exception:  # a value whose repr fails is still reported, by its type
        text = f"<{type(value).__name__}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short(value: Any, limit: int = 80) -> str:
    """Public name of the bounded repr used in messages."""
    return _short(value, limit)

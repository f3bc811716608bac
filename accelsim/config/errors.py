"""The one error type for bad input: it names the file, the key, what was expected and what came.

Validation happens once, at the edge (this package); everything downstream trusts the typed
objects it returns. The CLI turns a ConfigError into one line on stderr and exit code 2.
"""

from __future__ import annotations

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
        return f"{where}: {text}" if where else text


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."

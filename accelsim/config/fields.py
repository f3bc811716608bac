"""Typed, validated access to one mapping of a config file.

A ``Section`` knows which file it came from and its dotted path inside it, so every error it
raises names both: ``workloads/x.yaml: layers[2].kernel: expected a positive integer, got 0``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

from accelsim.config.errors import ConfigError, short

REQUIRED: Any = object()
# Integers without an explicit maximum still stop here: 2**53 is the largest integer every
# downstream float holds exactly, far above any physical count (a batch, a channel count).
INT_LIMIT = 2**53


class Section:
    """A mapping under validation; getters convert and check one key each."""

    def __init__(self, data: Any, file: str, path: str = "") -> None:
        if not isinstance(data, dict):
            raise ConfigError(file, path or None, "a mapping", data)
        self.data = data
        self.file = file
        self.path = path

    # -- naming -----------------------------------------------------------------------------
    def key_path(self, key: str) -> str:
        return f"{self.path}.{key}" if self.path else key

    def error(self, key: str | None, expected: str, got: Any = None) -> ConfigError:
        where = self.key_path(key) if key else (self.path or None)
        if got is None and key is not None and key in self.data:
            got = self.data[key]
        return (
            ConfigError(self.file, where, expected, got)
            if got is not None
            else ConfigError(self.file, where, expected)
        )

    def has(self, key: str) -> bool:
        return key in self.data and self.data[key] is not None

    def _raw(self, key: str, default: Any, expected: str) -> Any:
        if self.has(key):
            return self.data[key]
        if default is REQUIRED:
            raise ConfigError(self.file, self.key_path(key), f"{expected} (required key missing)")
        return default

    def reject_unknown(self, allowed: Iterable[str]) -> None:
        allowed = set(allowed)
        for key in self.data:
            if key not in allowed:
                raise ConfigError(
                    self.file,
                    self.key_path(key if isinstance(key, str) else short(key)),
                    f"one of the keys {sorted(allowed)}",
                    "unknown key",
                )

    # -- scalars ----------------------------------------------------------------------------
    def get_str(self, key: str, default: Any = REQUIRED) -> str:
        value = self._raw(key, default, "a string")
        if value is default and default is not REQUIRED:
            return value
        if not isinstance(value, str) or not value:
            raise self.error(key, "a non-empty string", value)
        return value

    def get_choice(self, key: str, choices: Sequence[str], default: Any = REQUIRED) -> str:
        expected = "one of " + ", ".join(choices)
        value = self._raw(key, default, expected)
        if value is default and default is not REQUIRED:
            return value
        if not isinstance(value, str) or value not in choices:
            raise self.error(key, expected, value)
        return value

    def get_bool(self, key: str, default: Any = REQUIRED) -> bool:
        value = self._raw(key, default, "true or false")
        if not isinstance(value, bool):
            raise self.error(key, "true or false", value)
        return value

    def get_int(
        self,
        key: str,
        default: Any = REQUIRED,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self._raw(key, default, _int_expectation(minimum, maximum))
        if value is default and default is not REQUIRED:
            return value
        return check_int(value, self.file, self.key_path(key), minimum, maximum)

    def get_float(
        self,
        key: str,
        default: Any = REQUIRED,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
    ) -> float:
        expected = _float_expectation(minimum, maximum, exclusive_minimum)
        value = self._raw(key, default, expected)
        if value is default and default is not REQUIRED:
            return value
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.error(key, expected, value)
        try:
            value = float(value)
        except OverflowError:  # an integer beyond the float range
            raise self.error(key, expected, value) from None
        too_low = minimum is not None and (
            value <= minimum if exclusive_minimum else value < minimum
        )
        too_high = maximum is not None and value > maximum
        if not math.isfinite(value) or too_low or too_high:
            raise self.error(key, expected, value)
        return value

    def get_int_tuple(
        self,
        key: str,
        rank: int,
        default: Any = REQUIRED,
        minimum: int = 0,
        maximum: int | None = None,
    ) -> tuple[int, ...]:
        """An int (repeated ``rank`` times) or a list of ``rank`` ints in [minimum, maximum]."""
        expected = f"{_int_expectation(minimum, maximum)} or a list of {rank} such integers"
        value = self._raw(key, default, expected)
        if value is default and default is not REQUIRED:
            value = default
        items = value if isinstance(value, (list, tuple)) else [value] * rank
        if len(items) != rank:
            raise self.error(key, expected, value)
        return tuple(check_int(v, self.file, self.key_path(key), minimum, maximum) for v in items)

    # -- structure --------------------------------------------------------------------------
    def get_section(self, key: str, default: Any = REQUIRED) -> Section:
        value = self._raw(key, default, "a mapping")
        if value is default and default is not REQUIRED:
            value = {} if default is None else default
        if not isinstance(value, dict):
            raise self.error(key, "a mapping", value)
        return Section(value, self.file, self.key_path(key))

    def get_list(self, key: str, default: Any = REQUIRED, non_empty: bool = True) -> list[Any]:
        value = self._raw(key, default, "a list")
        if value is default and default is not REQUIRED:
            return list(value)
        if not isinstance(value, list) or (non_empty and not value):
            raise self.error(key, "a non-empty list" if non_empty else "a list", value)
        return value


def check_int(
    value: Any, file: str, key: str, minimum: int | None = None, maximum: int | None = None
) -> int:
    expected = _int_expectation(minimum, maximum)
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            raise ConfigError(file, key, expected, value)
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ConfigError(file, key, expected, value)
    if maximum is None and abs(value) > INT_LIMIT:
        raise ConfigError(file, key, f"{expected} no larger than 2**53 in magnitude", value)
    return int(value)


def _int_expectation(minimum: int | None, maximum: int | None) -> str:
    if minimum == 1 and maximum is None:
        return "a positive integer"
    if minimum == 0 and maximum is None:
        return "a non-negative integer"
    if minimum is not None and maximum is not None:
        return f"an integer in [{minimum}, {maximum}]"
    if minimum is not None:
        return f"an integer >= {minimum}"
    return "an integer"


def _float_expectation(minimum: float | None, maximum: float | None, exclusive: bool) -> str:
    low = "(" if exclusive else "["
    if minimum is not None and maximum is not None:
        return f"a number in {low}{minimum:g}, {maximum:g}]"
    if minimum is not None:
        return f"a number {'>' if exclusive else '>='} {minimum:g}"
    return "a number"

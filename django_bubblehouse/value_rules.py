"""The value rules of the Order API (reference section 4) as small reusable checks.

A check takes ``(value, path)`` and returns the :class:`Problem` list for that
value; :mod:`django_bubblehouse.validation` assembles them into per-type schemas.
Messages say what was expected and what was found.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Problem:
    path: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        kind = "warning" if self.warning else "error"
        return f"{self.path or '<payload>'}: {self.message} ({kind})"


Check = Callable[[object, str], list[Problem]]

MONEY = re.compile(r"-?\d+(\.\d+)?")
TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})", re.I)
NAIVE_TIME = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?", re.I)
DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def describe(value: object) -> str:
    """What was found, for messages: its JSON-ish type and a short repr."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"bool {str(value).lower()}"
    if isinstance(value, dict | list):
        return "object" if isinstance(value, dict) else f"list ({len(value)} items)"
    text = repr(value)
    return f"{type(value).__name__} {text[:60] + '...' if len(text) > 60 else text}"


def join(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def type_check(expected: str, accepts: Callable[[object], bool]) -> Check:
    def check(value: object, path: str) -> list[Problem]:
        return (
            [] if accepts(value) else [Problem(path, f"must be {expected}, got {describe(value)}")]
        )

    return check


def anything(value: object, path: str) -> list[Problem]:
    return []


string = type_check("a string", lambda v: isinstance(v, str))
boolean = type_check("true or false", lambda v: isinstance(v, bool))
nullable_boolean = type_check("true, false or null", lambda v: v is None or isinstance(v, bool))
mapping = type_check("an object", lambda v: isinstance(v, dict))
day = type_check(
    'a date like "1990-04-30"',
    lambda v: (
        (isinstance(v, str) and bool(DAY.fullmatch(v)))
        or (isinstance(v, date) and not isinstance(v, datetime))
    ),
)


def string_id(value: object, path: str) -> list[Problem]:
    if isinstance(value, str) and value.strip():
        return []
    hint = " (ids are always strings: send str(pk))" if isinstance(value, int | float) else ""
    return [Problem(path, f"must be a non-empty string id, got {describe(value)}{hint}")]


def money(value: object, path: str) -> list[Problem]:
    # A finite Decimal is accepted: encoding.dumps writes it as a decimal string.
    if isinstance(value, str) and MONEY.fullmatch(value):
        return []
    if isinstance(value, Decimal) and value.is_finite():
        return []
    expected = 'must be a decimal string like "12.00"'
    if isinstance(value, int) and not isinstance(value, bool):
        hint = " (a bare integer is read as millionths: send str(Decimal))"
    elif isinstance(value, float):
        hint = " (floats are rejected: send str(Decimal))"
    else:
        hint = ""
    return [Problem(path, f"{expected}, got {describe(value)}{hint}")]


def time(value: object, path: str) -> list[Problem]:
    expected = 'must be an RFC 3339 time with an offset like "2026-03-02T14:05:11Z"'
    if isinstance(value, str) and TIME.fullmatch(value):
        try:
            datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
        except ValueError:
            return [Problem(path, f"{expected}, got an impossible date/time {value!r}")]
        return []
    if isinstance(value, str) and NAIVE_TIME.fullmatch(value):
        return [Problem(path, f"{expected}, got naive time {value!r} (no UTC offset)")]
    if isinstance(value, datetime):
        # An aware datetime is accepted: encoding.dumps writes it in RFC 3339.
        if value.utcoffset() is not None:
            return []
        return [Problem(path, f"{expected}, got naive datetime {value.isoformat()}")]
    return [Problem(path, f"{expected}, got {describe(value)}")]


def quantity(value: object, path: str) -> list[Problem]:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return []
    return [Problem(path, f"must be an integer >= 0, got {describe(value)}")]


def one_of(*choices: str) -> Check:
    listed = ", ".join(choices)
    return type_check(f"one of {listed}", lambda v: isinstance(v, str) and v in choices)


def list_of(item: Check) -> Check:
    def check(value: object, path: str) -> list[Problem]:
        if not isinstance(value, list):
            return [Problem(path, f"must be a list, got {describe(value)}")]
        return [p for i, element in enumerate(value) for p in item(element, f"{path}[{i}]")]

    return check


def dict_of(item: Check) -> Check:
    def check(value: object, path: str) -> list[Problem]:
        if not isinstance(value, dict):
            return [Problem(path, f"must be an object, got {describe(value)}")]
        problems = [
            Problem(f"{path}.{key!r}", f"keys must be strings, got {describe(key)}")
            for key in value
            if not isinstance(key, str)
        ]
        return problems + [p for key, v in value.items() for p in item(v, f"{path}.{key}")]

    return check


strings = list_of(string)

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


@dataclass(frozen=True)
class Rule:
    """A check in two speeds: :attr:`accepts` answers yes or no without building a path or a
    message (almost every value sent is valid); calling the rule lists the problems with
    their paths, for a value it does not accept."""

    accepts: Callable[[object], bool]
    explain: Check
    # A type whose values (of exactly that type) it accepts: a schema then skips the call.
    exact: type | None = None

    def __call__(self, value: object, path: str) -> list[Problem]:
        return [] if self.accepts(value) else self.explain(value, path)


def accepts_of(check: Check) -> Callable[[object], bool]:
    """The fast yes/no of any check: a :class:`Rule`'s own, or "no problems" for a plain one."""
    accepts = getattr(check, "accepts", None)
    return accepts if callable(accepts) else (lambda value: not check(value, ""))


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


def type_check(expected: str, accepts: Callable[[object], bool], exact: type | None = None) -> Rule:
    return Rule(
        accepts,
        lambda value, path: [Problem(path, f"must be {expected}, got {describe(value)}")],
        exact,
    )


anything = Rule(lambda value: True, lambda value, path: [])
string = type_check("a string", lambda v: isinstance(v, str), str)
boolean = type_check("true or false", lambda v: isinstance(v, bool), bool)
nullable_boolean = type_check("true, false or null", lambda v: v is None or isinstance(v, bool))
mapping = type_check("an object", lambda v: isinstance(v, dict))
day = type_check(
    'a date like "1990-04-30"',
    lambda v: (
        (isinstance(v, str) and bool(DAY.fullmatch(v)))
        or (isinstance(v, date) and not isinstance(v, datetime))
    ),
)


def _string_id(value: object, path: str) -> list[Problem]:
    hint = " (ids are always strings: send str(pk))" if isinstance(value, int | float) else ""
    return [Problem(path, f"must be a non-empty string id, got {describe(value)}{hint}")]


string_id = Rule(lambda v: isinstance(v, str) and bool(v.strip()), _string_id)


def _money(value: object, path: str) -> list[Problem]:
    expected = 'must be a decimal string like "12.00"'
    if isinstance(value, int) and not isinstance(value, bool):
        hint = " (a bare integer is read as millionths: send str(Decimal))"
    elif isinstance(value, float):
        hint = " (floats are rejected: send str(Decimal))"
    else:
        hint = ""
    return [Problem(path, f"{expected}, got {describe(value)}{hint}")]


money = Rule(
    # A finite Decimal is accepted: encoding.dumps writes it as a decimal string.
    lambda v: (
        (isinstance(v, str) and bool(MONEY.fullmatch(v)))
        or (isinstance(v, Decimal) and v.is_finite())
    ),
    _money,
)


def _time_text(value: str) -> bool:
    try:
        datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        return False  # the pattern matched, the date is impossible
    return True


def _time(value: object, path: str) -> list[Problem]:
    expected = 'must be an RFC 3339 time with an offset like "2026-03-02T14:05:11Z"'
    if isinstance(value, str) and TIME.fullmatch(value):
        return [Problem(path, f"{expected}, got an impossible date/time {value!r}")]
    if isinstance(value, str) and NAIVE_TIME.fullmatch(value):
        return [Problem(path, f"{expected}, got naive time {value!r} (no UTC offset)")]
    if isinstance(value, datetime):
        return [Problem(path, f"{expected}, got naive datetime {value.isoformat()}")]
    return [Problem(path, f"{expected}, got {describe(value)}")]


time = Rule(
    # An aware datetime is accepted: encoding.dumps writes it in RFC 3339.
    lambda v: (
        (isinstance(v, str) and bool(TIME.fullmatch(v)) and _time_text(v))
        or (isinstance(v, datetime) and v.utcoffset() is not None)
    ),
    _time,
)

quantity = Rule(
    lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0,
    lambda value, path: [Problem(path, f"must be an integer >= 0, got {describe(value)}")],
)


def one_of(*choices: str) -> Rule:
    listed = ", ".join(choices)
    return type_check(f"one of {listed}", lambda v: isinstance(v, str) and v in choices)


def list_of(item: Check) -> Rule:
    item_accepts = accepts_of(item)

    def explain(value: object, path: str) -> list[Problem]:
        if not isinstance(value, list):
            return [Problem(path, f"must be a list, got {describe(value)}")]
        return [p for i, element in enumerate(value) for p in item(element, f"{path}[{i}]")]

    return Rule(lambda v: isinstance(v, list) and all(map(item_accepts, v)), explain)


def dict_of(item: Check) -> Rule:
    item_accepts = accepts_of(item)

    def explain(value: object, path: str) -> list[Problem]:
        if not isinstance(value, dict):
            return [Problem(path, f"must be an object, got {describe(value)}")]
        problems = [
            Problem(f"{path}.{key!r}", f"keys must be strings, got {describe(key)}")
            for key in value
            if not isinstance(key, str)
        ]
        return problems + [p for key, v in value.items() for p in item(v, f"{path}.{key}")]

    return Rule(
        lambda v: (
            isinstance(v, dict)
            and all(isinstance(key, str) for key in v)
            and all(map(item_accepts, v.values()))
        ),
        explain,
    )


strings = list_of(string)

"""Reads :mod:`.rules` and checks a request body against it.

A request is checked in two passes, as Bubblehouse documents its funcs: its
shape (:func:`shape_error`; only a wildly broken body is refused outright), then
each top-level object on its own (:func:`check_items`), so one invalid order
never holds back its batch-mates.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .rules import ENUMS, OBJECTS, REQUESTS, VALUE_FORMATS, ObjectRules

_MONEY = re.compile(r"-?\d+(\.\d+)?")
_TIME = re.compile(
    r"(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2}(?:\.\d+)?)([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})", re.ASCII)


@dataclass(frozen=True)
class Finding:
    """One thing wrong with a request: an error (the object is not applied) or a warning."""

    path: str
    message: str
    warning: bool = False

    def __str__(self) -> str:
        return f"{self.path or '<body>'}: {self.message} ({'warning' if self.warning else 'error'})"


def _shown(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:40] + '...'}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _time_ok(value: object) -> bool:
    match = _TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return False
    day, clock, offset = match.groups()
    try:
        datetime.fromisoformat(f"{day}T{clock}{'+00:00' if offset in 'Zz' else offset}")
    except ValueError:
        return False
    return True


def _day_ok(value: object) -> bool:
    match = _DAY.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return False
    year, month, day = (int(part) for part in match.groups())
    try:
        date(year or 2000, month, day)  # "0000-MM-DD" has no year: check it in a leap year
    except ValueError:
        return False
    return True


_FORMATS: dict[str, Callable[[object], bool]] = {
    "id": lambda v: isinstance(v, str) and bool(v.strip()),
    "string": lambda v: isinstance(v, str),
    "bool": lambda v: isinstance(v, bool),
    "integer": _is_int,
    "money": lambda v: isinstance(v, str) and bool(_MONEY.fullmatch(v)),
    "time": _time_ok,
    "day": _day_ok,
    "object": lambda v: isinstance(v, dict),
    "any": lambda v: True,
}


def check_value(spec: str, value: object, path: str) -> list[Finding]:
    """Findings for one value of type ``spec`` (``null`` is the caller's business)."""
    if spec.startswith("["):
        if not isinstance(value, list):
            return [Finding(path, f"must be a list, got {_shown(value)}")]
        return [
            f for i, item in enumerate(value) for f in check_value(spec[1:-1], item, f"{path}[{i}]")
        ]
    if spec.startswith("{"):
        if not isinstance(value, dict):
            return [Finding(path, f"must be an object, got {_shown(value)}")]
        return [
            f for key, item in value.items() for f in check_value(spec[1:-1], item, f"{path}.{key}")
        ]
    if spec in OBJECTS:
        return check_object(spec, value, path)
    if spec in ENUMS:
        if isinstance(value, str) and value in ENUMS[spec]:
            return []
        return [Finding(path, f"must be one of {', '.join(ENUMS[spec])}, got {_shown(value)}")]
    if _FORMATS[spec](value):
        return []
    if spec == "money" and isinstance(value, int) and not isinstance(value, bool):
        # Valid for the API, and almost surely a bug: it fails only a debug request.
        message = f"a bare integer is read as millionths ({value} = {Decimal(value) / 10**6})"
        return [Finding(path, message, warning=True)]
    hint = " (floats are refused)" if spec == "money" and isinstance(value, float) else ""
    return [Finding(path, f"must be {VALUE_FORMATS[spec]}, got {_shown(value)}{hint}")]


def _present(obj: dict[str, Any], name: str) -> bool:
    return obj.get(name) is not None


def _object_rules(obj: dict[str, Any], rules: ObjectRules, path: str) -> Iterator[Finding]:
    required = rules.required
    if obj.get("deleted") is not True:
        required += rules.required_unless_deleted
    for name in required:
        if not _present(obj, name):
            yield Finding(_join(path, name), "is required")
    if rules.one_of and not any(_present(obj, name) for name in rules.one_of):
        yield Finding(path, f"needs one of {', '.join(rules.one_of)}")
    price = obj.get("price")
    if (
        rules.zero_price_needs_price_known
        and isinstance(price, str)
        and _MONEY.fullmatch(price)
        and Decimal(price) == 0
        and obj.get("price_known") is not True
    ):
        yield Finding(_join(path, "price"), 'is zero, which needs "price_known": true')


def check_object(type_name: str, value: object, path: str) -> list[Finding]:
    """Findings for one object of ``type_name`` (see :data:`.rules.OBJECTS`)."""
    if not isinstance(value, dict):
        return [Finding(path, f"must be a {type_name.split()[0]} object, got {_shown(value)}")]
    rules = OBJECTS[type_name]
    findings = list(_object_rules(value, rules, path))
    for name, item in value.items():
        spec = rules.fields.get(name)
        if spec is None:
            label = type_name.split()[0]
            findings.append(Finding(_join(path, name), f"unknown {label} field (ignored)", True))
        elif item is not None:
            findings.extend(check_value(spec, item, _join(path, name)))
    return findings


def known_only(spec: str, value: Any) -> Any:
    """``value`` as applied: without unknown fields (Bubblehouse ignores them) and nulls
    that stand for an omitted field."""
    if spec.startswith("[") and isinstance(value, list):
        return [known_only(spec[1:-1], item) for item in value]
    if spec.startswith("{") and isinstance(value, dict):
        return {key: known_only(spec[1:-1], item) for key, item in value.items()}
    if spec in OBJECTS and isinstance(value, dict):
        rules = OBJECTS[spec]
        return {
            k: known_only(rules.fields[k], v)
            for k, v in value.items()
            if k in rules.fields and (v is not None or k in rules.nullable)
        }
    return value


def shape_error(func: str, body: object) -> str | None:
    """Why ``body`` is too broken to process at all, or None."""
    if not isinstance(body, dict):
        return f"the body must be a JSON object, got {_shown(body)}"
    rules = REQUESTS[func]
    for name in rules.required:
        if name not in body:
            return f'"{name}" is required'
    for name in rules.arrays:
        if name in body and not isinstance(body[name], list):
            return f'"{name}" must be a list, got {_shown(body[name])}'
    for name in rules.names:
        if not isinstance(body.get(name), str) or not body[name]:
            return f'"{name}" must be a non-empty string, got {_shown(body.get(name))}'
    return None


def check_flags(func: str, body: dict[str, Any]) -> list[Finding]:
    """Findings for the body's own keys: flags of the wrong type, unknown keys."""
    rules = REQUESTS[func]
    findings = [
        Finding(name, f"must be true or false, got {_shown(body[name])} (read as false)")
        for name in rules.flags
        if name in body and not isinstance(body[name], bool)
    ]
    known = {*rules.arrays, *rules.names, *rules.flags}
    findings += [
        Finding(str(k), f"unknown {func} key (ignored)", True) for k in body if k not in known
    ]
    return findings


def check_items(func: str, body: dict[str, Any]) -> dict[tuple[str, int], list[Finding]]:
    """Findings of each top-level object, keyed by (array, index); clean objects are absent."""
    found: dict[tuple[str, int], list[Finding]] = {}
    for array, type_name in REQUESTS[func].arrays.items():
        for index, item in enumerate(body.get(array, ())):
            findings = check_object(type_name, item, f"{array}[{index}]")
            if findings:
                found[(array, index)] = findings
    return found


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name

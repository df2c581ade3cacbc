"""JSON for request bodies: Decimal becomes a decimal string and a float is refused.

Bubblehouse reads a bare JSON number as millionths and rejects floats, so money
must travel as ``"12.00"``. ``json`` never calls an encoder hook for floats,
hence the explicit walk, which also lets an error name the offending path.

A serializer's payload is already plain (its fields convert money and times to
strings), so a walk that only looks at types comes first: a plain body goes
straight to the C encoder, and only a body holding something else is rebuilt
by the converting walk.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from decimal import Decimal

JSONValue = None | bool | int | str | list["JSONValue"] | dict[str, "JSONValue"]


# Exact types: a subclass (an enum, a str subclass) takes the converting walk.
_SCALARS = frozenset({str, int, bool, type(None)})


def dumps(obj: object) -> str:
    """Compact JSON of ``obj``; raises ``TypeError``/``ValueError`` naming the bad value's path."""
    plain = obj if _is_plain(obj) else _plain(obj, "")
    return json.dumps(plain, ensure_ascii=False, separators=(",", ":"))


def _is_plain(value: object) -> bool:
    """Only str/int/bool/None in dicts with str keys and lists: JSON as it is."""
    if type(value) is dict:
        for key, item in value.items():
            if type(key) is not str or (type(item) not in _SCALARS and not _is_plain(item)):
                return False
        return True
    if type(value) is list:
        return all(type(item) in _SCALARS or _is_plain(item) for item in value)
    return type(value) in _SCALARS


def _plain(value: object, path: str) -> JSONValue:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        raise TypeError(f"{_where(path)} is the float {value!r}; use Decimal or a decimal string")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{_where(path)} is the non-finite Decimal {value}")
        # "f" keeps 1E+2 from reaching the API in exponent notation.
        return format(value, "f")
    if isinstance(value, dt.datetime):
        if value.utcoffset() is None:
            raise TypeError(f"{_where(path)} is a naive datetime; RFC 3339 needs an offset")
        return value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {_key(key, path): _plain(item, _join(path, key)) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item, f"{path}[{index}]") for index, item in enumerate(value)]
    raise TypeError(f"{_where(path)} is a {type(value).__name__}, which is not JSON")


def _key(key: object, path: str) -> str:
    if not isinstance(key, str):
        raise TypeError(f"{_where(path)} has the non-string key {key!r}")
    return key


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _where(path: str) -> str:
    return path or "the value"

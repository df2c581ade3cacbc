"""Fields for single values, converted with the Order API's rules (money, times, ids)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from .base import Field, FieldError


class StringField(Field):
    """``str(value)``; ``""`` is omitted by default (a blank CharField means "no value")."""

    omit_empty_default = True

    def convert(self, value: Any) -> str:
        if type(value) is str:
            return value
        if isinstance(value, float | Decimal | bool):
            raise FieldError(f"must be text, got {type(value).__name__} {value!r}")
        return str(value)


class IdField(Field):
    """A non-empty string id: ``str(pk)`` for integers and UUIDs."""

    def convert(self, value: Any) -> str:
        if type(value) is int:  # a primary key: nothing to check
            return str(value)
        if isinstance(value, bool | float | Decimal):
            raise FieldError(f"must be an id (str, int or UUID), got {type(value).__name__}")
        text = str(value)
        if not text.strip():
            raise FieldError("must be a non-empty id, got an empty string")
        return text


class MoneyField(Field):
    """A decimal string. ``Decimal`` and ``int`` (exact) are accepted; a float never is.

    ``int`` 12 becomes ``"12"``: sent as a bare JSON integer it would be read as
    millionths, so it is converted like any other exact amount.
    """

    def convert(self, value: Any) -> str:
        if type(value) is Decimal and value.is_finite():  # checked first: the common case
            return format(value, "f")
        if isinstance(value, bool) or not isinstance(value, Decimal | int):
            hint = " (a float is never exact: store money as Decimal)" * isinstance(value, float)
            raise FieldError(f"money must be a Decimal, got {type(value).__name__} {value!r}{hint}")
        if isinstance(value, Decimal) and not value.is_finite():
            raise FieldError(f"money must be a finite Decimal, got {value}")
        # "f" keeps Decimal("1E+2") from becoming "1E+2" (and would give an int decimals).
        return str(value) if isinstance(value, int) else format(value, "f")


class DateTimeField(Field):
    """An aware datetime as RFC 3339 (``Z`` for UTC); a naive one is a bug, not a guess."""

    def convert(self, value: Any) -> str:
        if not isinstance(value, dt.datetime):
            raise FieldError(f"must be a datetime, got {type(value).__name__} {value!r}")
        if value.utcoffset() is None:
            raise FieldError(f"is a naive datetime ({value.isoformat()}); it needs a time zone")
        text = value.isoformat()
        return text[:-6] + "Z" if text.endswith("+00:00") else text


class QuantityField(Field):
    """A non-negative integer; an integral ``Decimal`` (``Decimal("2.000")``) is accepted."""

    def convert(self, value: Any) -> int:
        integral = isinstance(value, int) or (
            isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value()
        )
        if isinstance(value, bool) or not integral:
            raise FieldError(f"must be a whole quantity, got {type(value).__name__} {value!r}")
        if value < 0:
            raise FieldError(f"must not be negative, got {value}")
        return int(value)


class BooleanField(Field):
    """``True``/``False`` only; ``invert=True`` sends the opposite (``active`` -> ``inactive``)."""

    def __init__(self, source: str | None = None, *, invert: bool = False, **kwargs: Any) -> None:
        super().__init__(source, **kwargs)
        self.invert = invert

    def convert(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise FieldError(f"must be True or False, got {type(value).__name__} {value!r}")
        return value is not self.invert


class ScalarField(Field):
    """A JSON scalar for free-form places (``extras``): text, int, bool, Decimal, dates.

    ``""`` is omitted, as with :class:`StringField`.
    """

    omit_empty_default = True

    def convert(self, value: Any) -> Any:
        if isinstance(value, bool | int | str):
            return value
        if isinstance(value, Decimal):
            return MoneyField().convert(value)
        if isinstance(value, dt.datetime):
            return DateTimeField().convert(value)
        if isinstance(value, dt.date):
            return value.isoformat()
        raise FieldError(f"must be text, a number or a date, got {type(value).__name__} {value!r}")

"""Declarative serializer fields: where a value comes from and how it becomes JSON.

A field reads its ``source`` (a dotted path from the object; ``"*"`` is the
object itself), returns ``None`` to leave an optional key out of the payload,
and otherwise converts the value with the Order API's rules. A value it cannot
convert raises :class:`FieldError`, whose ``path`` grows as the error bubbles
up through lists and nested serializers (``items[2].amount_full``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Manager

if TYPE_CHECKING:
    from .serializers.base import PayloadSerializer

EMPTY_VALUES: tuple[object, ...] = ("", [], {})


class FieldError(Exception):
    """A value that cannot become valid JSON for Bubblehouse; ``path`` locates it."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path

    def within(self, segment: str) -> FieldError:
        """The same error seen from the parent: ``segment`` is a key or ``[index]``."""
        if not self.path:
            path = segment
        elif self.path.startswith("["):
            path = segment + self.path
        else:
            path = f"{segment}.{self.path}"
        return FieldError(self.message, path)


def resolve(obj: Any, source: str) -> Any:
    """Follow a dotted path through attributes, dict keys and zero-argument callables.

    A missing related object (``None`` midway, or a reverse one-to-one that does
    not exist) resolves to ``None``, so an optional field is simply omitted.
    """
    if source == "*":
        return obj
    for part in source.split("."):
        if obj is None:
            return None
        try:
            obj = obj.get(part) if isinstance(obj, Mapping) else getattr(obj, part)
            # Related managers are callable (``.lines(manager=...)``) but mean "the rows".
            if callable(obj) and not isinstance(obj, Manager):
                obj = obj()
        except ObjectDoesNotExist:
            return None
    return obj


def iterate(value: Any) -> Iterable[Any]:
    """A list-ish value; a related manager means its (possibly prefetched) ``.all()``."""
    if isinstance(value, Manager):
        return value.all()
    if isinstance(value, str | bytes | Mapping) or not isinstance(value, Iterable):
        raise FieldError(f"must be a list of values, got {type(value).__name__}")
    return value


class Field:
    """Passes its value through unchanged; subclasses convert in :meth:`convert`.

    ``source`` defaults to the attribute name the field is declared under.
    ``required=True`` turns a missing value into an error instead of an
    omitted key; ``omit_empty=True`` also omits ``""``, ``[]`` and ``{}``.
    """

    omit_empty_default = False

    def __init__(
        self, source: str | None = None, *, required: bool = False, omit_empty: bool | None = None
    ) -> None:
        self.source = source
        self.required = required
        self.omit_empty = self.omit_empty_default if omit_empty is None else omit_empty
        self.name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name
        if self.source is None:
            self.source = name

    def value(self, serializer: PayloadSerializer, obj: Any) -> Any:
        """The JSON value for ``obj``, or ``None`` to omit the key."""
        raw = self.get_attribute(serializer, obj)
        if raw is None:
            if self.required:
                raise FieldError(f"is required, but {self.source or 'the value'} is None")
            return None
        result = self.build(serializer, raw)
        if self.omit_empty and result in EMPTY_VALUES:
            return None
        return result

    def get_attribute(self, serializer: PayloadSerializer, obj: Any) -> Any:
        # An unbound field (a list's child) reads the element itself.
        return resolve(obj, self.source or "*")

    def build(self, serializer: PayloadSerializer, raw: Any) -> Any:
        return self.convert(raw)

    def convert(self, value: Any) -> Any:
        return value


class StringField(Field):
    """``str(value)``; ``""`` is omitted by default (a blank CharField means "no value")."""

    omit_empty_default = True

    def convert(self, value: Any) -> str:
        if isinstance(value, float | Decimal | bool):
            raise FieldError(f"must be text, got {type(value).__name__} {value!r}")
        return str(value)


class IdField(Field):
    """A non-empty string id: ``str(pk)`` for integers and UUIDs."""

    def convert(self, value: Any) -> str:
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


class ListField(Field):
    """Each element through ``child`` (default: unchanged); a manager means ``.all()``."""

    def __init__(
        self, child: Field | None = None, source: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(source, **kwargs)
        self.child = child or Field()

    def build(self, serializer: PayloadSerializer, raw: Any) -> list[Any]:
        result = []
        for index, element in enumerate(iterate(raw)):
            try:
                item = self.child.value(serializer, element)
                if item is None:
                    raise FieldError("must not be None")
            except FieldError as error:
                raise error.within(f"[{index}]") from error
            result.append(item)
        return result


class StringListField(ListField):
    """A list of strings, e.g. ``alt_titles``, ``markets`` or ``tags``."""

    def __init__(self, source: str | None = None, **kwargs: Any) -> None:
        super().__init__(StringField(omit_empty=False), source, **kwargs)


class NestedField(Field):
    """Another serializer's payload (``many=True``: one per element).

    ``only`` limits it to some of that serializer's fields, e.g. a product
    reference ``("id", "title", "collection_ids")`` on an order line.
    """

    def __init__(
        self,
        serializer: type[PayloadSerializer],
        source: str | None = None,
        *,
        many: bool = False,
        only: tuple[str, ...] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(source, **kwargs)
        self.serializer = serializer
        self.many = many
        self.only = only

    def build(self, serializer: PayloadSerializer, raw: Any) -> Any:
        nested = self.serializer()
        if not self.many:
            return nested.represent(raw, self.only)
        result = []
        for index, element in enumerate(iterate(raw)):
            try:
                result.append(nested.represent(element, self.only))
            except FieldError as error:
                raise error.within(f"[{index}]") from error
        return result


class MethodField(Field):
    """``get_<name>(obj)`` on the serializer, its result converted by ``field`` if given."""

    def __init__(
        self, field: Field | None = None, *, method_name: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__("*", **kwargs)
        self.field = field
        self.method_name = method_name

    def get_attribute(self, serializer: PayloadSerializer, obj: Any) -> Any:
        return getattr(serializer, self.method_name or f"get_{self.name}")(obj)

    def build(self, serializer: PayloadSerializer, raw: Any) -> Any:
        return self.field.build(serializer, raw) if self.field else raw


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


class ExtrasField(Field):
    """Customer ``extras`` from an explicit allow-list: ``{extras key: dotted source}``.

    There is deliberately no "every attribute" mode: extras leave the shop.
    """

    omit_empty_default = True

    def __init__(self, allow: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__("*", **kwargs)
        self.allow = dict(allow)

    def build(self, serializer: PayloadSerializer, raw: Any) -> dict[str, Any]:
        result = {}
        for key, source in self.allow.items():
            try:
                item = ScalarField(source).value(serializer, raw)
            except FieldError as error:
                raise error.within(key) from error
            if item is not None:
                result[key] = item
        return result

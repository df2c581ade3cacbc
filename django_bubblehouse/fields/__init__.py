"""Declarative serializer fields: where a value comes from and how it becomes JSON.

A field reads its ``source`` (a dotted path from the object; ``"*"`` is the
object itself), returns ``None`` to leave an optional key out of the payload,
and otherwise converts the value with the Order API's rules. A value it cannot
convert raises :class:`FieldError`, whose ``path`` grows as the error bubbles
up through lists and nested serializers (``items[2].amount_full``).
"""

from .base import Field, FieldError, iterate, resolve
from .composite import ExtrasField, ListField, MethodField, NestedField, StringListField
from .scalars import (
    BooleanField,
    DateTimeField,
    IdField,
    MoneyField,
    QuantityField,
    ScalarField,
    StringField,
)

__all__ = [
    "BooleanField",
    "DateTimeField",
    "ExtrasField",
    "Field",
    "FieldError",
    "IdField",
    "ListField",
    "MethodField",
    "MoneyField",
    "NestedField",
    "QuantityField",
    "ScalarField",
    "StringField",
    "StringListField",
    "iterate",
    "resolve",
]

"""From the Bubblehouse id a user types (an order number, a dealer code) to the rows it names.

The id is whatever the serializer's ``id`` field sends; when that field reads a
plain source (``IdField(source="number")``), the same path is an ORM lookup, so
commands, pull URLs and the admin can select by it without the user ever
translating to a primary key.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import FieldDoesNotExist, ImproperlyConfigured, ValidationError
from django.db.models import Field as ModelField
from django.db.models import Model, Q

from ..fields import Field, MethodField


def lookup_of(model: type[Model], id_field: Field) -> str | None:
    """``"number"`` for ``IdField(source="number")``, ``"dealer__code"`` for
    ``source="dealer.code"``; ``None`` when the id is computed or not a model field."""
    source = id_field.source
    if isinstance(id_field, MethodField) or not source or source == "*":
        return None
    lookup = source.replace(".", "__")
    return lookup if target_field(model, lookup) is not None else None


def target_field(model: type[Model], lookup: str) -> ModelField[Any, Any] | None:
    """The concrete field a lookup ends at, or ``None`` if it is not a chain of fields."""
    current: type[Model] | None = model
    found: Any = None
    for name in lookup.split("__"):
        if current is None:
            return None
        if name == "pk":
            found = current._meta.pk
        else:
            try:
                found = current._meta.get_field(name)
            except FieldDoesNotExist:
                return None
        if not getattr(found, "concrete", False):
            return None
        current = found.related_model if found.is_relation else None
    if found is not None and found.is_relation:
        found = found.target_field  # a foreign key: its column holds the related key
    return found if isinstance(found, ModelField) else None


def spellings(model: type[Model], lookup: str | None, ids: Iterable[str]) -> dict[str, str]:
    """Each id as the database spells it (``"007"`` is pk ``"7"``); impossible ids left out.

    The field's validators hold its range and length: an out-of-range integer would
    otherwise reach the database and fail there.
    """
    field = target_field(model, lookup or "pk")
    if field is None:
        raise ImproperlyConfigured(
            f"id lookup {lookup!r} is not a chain of fields of {model._meta.label}"
        )
    spelled = {}
    for text in ids:
        try:
            value = field.to_python(text)
            field.run_validators(value)
        except ValidationError:
            continue
        if value is not None:
            spelled[text] = str(value)
    return spelled


def id_filter(model: type[Model], lookup: str | None, label: str, ids: Iterable[str]) -> Q:
    if lookup is None:
        raise ImproperlyConfigured(
            f"{label} computes its id, so objects cannot be found by it: override "
            "id_lookup() to return the ORM lookup that holds it"
        )
    return Q(**{f"{lookup}__in": sorted(set(spellings(model, lookup, ids).values()))})

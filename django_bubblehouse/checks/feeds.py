"""Checks of what the pull feeds read (W060-W069).

A feed (and the reconciliation) pages through a serializer's rows in
``(updated_field, pk)`` order from a cursor. Without an index that leads with
``updated_field`` every page sorts the whole table; with one, a page is an index
range read, whatever the table's size.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.checks import CheckMessage, Warning, register
from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model, UniqueConstraint

from ..serializers.base import Serializer
from ..serializers.registry import all_serializers
from .settings import TAG


@register(TAG)
def check_feed_indexes(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    try:
        serializers = all_serializers()
    except Exception:
        return []  # a broken SERIALIZERS setting is reported by the serializer checks
    return [warning for cls in serializers if (warning := _unindexed(cls)) is not None]


def _unindexed(serializer: type[Serializer]) -> CheckMessage | None:
    model, name = serializer.model, serializer.updated_field
    if name is None:
        return None
    try:
        field = model._meta.get_field(name)
    except FieldDoesNotExist:
        return None  # a computed updated_field is the host's own ordering to index
    if not getattr(field, "concrete", False) or field.name in _leading_fields(model):
        return None
    pk = model._meta.pk.name if model._meta.pk is not None else "id"
    return Warning(
        f"{serializer.label()}.updated_field {name!r} has no index that starts with it, so "
        f"every pull-feed page and reconciliation pass sorts all of {model._meta.label}.",
        hint=f'Add models.Index(fields=["{field.name}", "{pk}"]) to {model.__name__}.Meta.'
        "indexes (or db_index=True on the field), and make a migration.",
        obj=serializer,
        id="bubblehouse.W060",
    )


def _leading_fields(model: type[Model]) -> set[str]:
    """The fields that lead an index of ``model`` (a plain one: no condition, no expression)."""
    meta = model._meta
    leading = {
        f.name for f in meta.local_concrete_fields if getattr(f, "db_index", False) or f.unique
    }
    indexes = [i for i in meta.indexes if i.condition is None and not i.expressions]
    leading.update(i.fields[0].lstrip("-") for i in indexes if i.fields)
    unique = [c for c in meta.constraints if isinstance(c, UniqueConstraint) and c.fields]
    leading.update(c.fields[0] for c in unique if c.condition is None)
    leading.update(group[0] for group in meta.unique_together if group)
    return leading

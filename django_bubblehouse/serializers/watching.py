"""Which model fields a serializer reads, so a save that touches none of them costs nothing.

Derived from the declared fields' sources: the first segment of each dotted
source is a field (or relation) of the model. Anything that hides what it
reads (a method field, a ``"*"`` source, a property) makes the answer "every
field" unless the serializer declares ``watched_fields`` itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import Model

from ..fields import ExtrasField, Field, MethodField

if TYPE_CHECKING:
    from .base import Serializer


def watched(serializer_cls: type[Serializer]) -> frozenset[str] | None:
    model = serializer_cls.model
    declared = serializer_cls.watched_fields
    if declared is not None:
        return _with_attnames(model, declared)
    reads = all_sources(serializer_cls)
    if reads is None:
        return None
    roots = {source.split(".")[0] for source in reads}
    if serializer_cls.updated_field:
        roots.add(serializer_cls.updated_field)
    return _fields_only(model, roots)


def watched_through(
    serializer_cls: type[Serializer], related: type[Model], accessor: str
) -> frozenset[str] | None:
    """The fields of ``related`` the serializer reads through its attribute ``accessor``
    (``"user"`` for ``source="user.email"``): a related row's save touching none of them
    (a login on the user of a profile) changes nothing."""
    reads = all_sources(serializer_cls)
    if reads is None:
        return None
    through = [source.split(".") for source in reads if source.split(".")[0] == accessor]
    if not through or any(len(parts) < 2 for parts in through):
        return None  # read whole (a nested serializer) or only by methods: any change counts
    return _fields_only(related, {parts[1] for parts in through})


def all_sources(serializer_cls: type[Serializer]) -> list[str] | None:
    found: list[str] = []
    for name, field in serializer_cls.declared_fields.items():
        reads = serializer_cls.field_sources(name, field)
        if reads is None:
            return None
        found.extend(reads)
    return found


def _fields_only(model: type[Model], roots: set[str]) -> frozenset[str] | None:
    if not all(root == "pk" or _field_or_none(model, root) for root in roots):
        return None  # a property or method: what it reads is unknown
    return _with_attnames(model, roots)


def sources(field: Field) -> tuple[str, ...] | None:
    """The dotted sources ``field`` reads from the object; ``None`` if it cannot say."""
    if isinstance(field, ExtrasField):
        return tuple(field.allow.values())
    if isinstance(field, MethodField) or not field.source or field.source == "*":
        return None
    return (field.source,)


def _with_attnames(model: type[Model], names: Any) -> frozenset[str]:
    """Both spellings ``update_fields`` may use (``"user"`` and ``"user_id"``)."""
    result = set()
    for name in names:
        field: Any = model._meta.pk if name == "pk" else _field_or_none(model, name)
        result.add(name)
        if field is not None:
            result.update(n for n in (field.name, getattr(field, "attname", None)) if n)
    return frozenset(result)


def _field_or_none(model: type[Model], name: str) -> Any:
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None

"""Loading one batch of objects: the host's queryset, prefetched level by level.

``get_queryset()``'s ``prefetch_related`` lookups are followed one relation at a
time. Foreign keys and forward one-to-ones are fetched here with one plain
``IN`` query per level: Django's own prefetch of a forward relation filters on
a tuple of columns, which on SQLite is compiled into one ``OR`` branch per key
(a third of a batch's load time). Every other level (reverse relations,
many-to-many, generic relations, ``Prefetch`` objects, attributes) is Django's
own ``prefetch_related_objects``, so the objects, caches and query count are the
ones Django would give.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import ForeignKey, Manager, Model, QuerySet, prefetch_related_objects
from django.db.models.constants import LOOKUP_SEP
from django.db.models.fields.related_descriptors import (
    ForwardManyToOneDescriptor,
    ReverseManyToOneDescriptor,
    ReverseOneToOneDescriptor,
)


def load(queryset: QuerySet[Any], keys: Sequence[str]) -> list[Any]:
    """The objects of ``queryset`` whose primary key is in ``keys`` (any order), prefetched."""
    rows = queryset.filter(pk__in=keys)
    lookups = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
    if not lookups or not all(isinstance(lookup, str) for lookup in lookups):
        return list(rows)
    objects = list(rows.prefetch_related(None))
    for lookup in lookups:
        _prefetch(objects, lookup.split(LOOKUP_SEP))
    return objects


def _prefetch(instances: list[Any], parts: list[str]) -> None:
    for depth, part in enumerate(parts):
        # Shared related objects (one product on many lines) are prefetched once.
        instances = list({id(obj): obj for obj in instances if obj is not None}.values())
        if not instances:
            return
        model = type(instances[0])
        descriptor = getattr(model, part, None)
        uniform = all(type(obj) is model for obj in instances)
        if uniform and isinstance(descriptor, ForwardManyToOneDescriptor):
            field = descriptor.field
            if len(field.foreign_related_fields) == 1:
                _fetch_forward(instances, field)
                instances = [field.get_cached_value(obj, None) for obj in instances]
                continue
        if not uniform or not isinstance(
            descriptor, ReverseManyToOneDescriptor | ReverseOneToOneDescriptor
        ):
            # Whatever else Django can prefetch through, it prefetches the rest of the path.
            prefetch_related_objects(instances, LOOKUP_SEP.join(parts[depth:]))
            return
        prefetch_related_objects(instances, part)
        instances = _related(instances, part)


def _fetch_forward(instances: list[Model], field: ForeignKey[Any, Any]) -> None:
    """Cache ``field``'s related object on each instance that lacks it: one query."""
    missing = [obj for obj in instances if not field.is_cached(obj)]
    values = {getattr(obj, field.attname) for obj in missing} - {None}
    if not values:
        for obj in missing:
            field.set_cached_value(obj, None)
        return
    target = field.foreign_related_fields[0].attname
    # As Django's forward descriptor does: the base manager, routed with the instance as hint.
    manager = field.remote_field.model._base_manager.db_manager(hints={"instance": missing[0]})
    found = {getattr(obj, target): obj for obj in manager.filter(**{f"{target}__in": values})}
    for obj in missing:
        related = found.get(getattr(obj, field.attname))
        field.set_cached_value(obj, related)
        if related is not None and not field.remote_field.multiple:
            field.remote_field.set_cached_value(related, obj)


def _related(instances: list[Any], part: str) -> list[Any]:
    """The objects one level down, from the caches Django's prefetch just filled."""
    found: list[Any] = []
    for obj in instances:
        try:
            value = getattr(obj, part)
        except ObjectDoesNotExist:
            continue
        if isinstance(value, Manager):
            found.extend(value.all())
        elif value is not None:
            found.append(value)
    return found

"""Recording changes that Django's signals never see: bulk writes and other writers.

``QuerySet.update()``, ``bulk_create``, ``bulk_update``, raw SQL and other
services writing the same tables fire no signals. Code that does such writes
calls :func:`mark_dirty` afterwards (inside the same transaction, so a rolled
back write records nothing); anything else that moves a serializer's
``updated_field`` is caught by the reconciliation schedule
(:mod:`django_bubblehouse.reconcile`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from django.db.models import Model, QuerySet

from .interests import interest_in
from .receivers import record
from .serializers import Serializer


def mark_dirty(objects: QuerySet[Any] | Iterable[Model]) -> int:
    """Push these rows as if each had been saved: the objects they are serialized as, and
    the objects they lead to through ``related`` (a stock record's product).

    A queryset costs one query per serializer or ``related`` path, however many rows it
    holds; instances are taken one by one. ``disable_sync()`` and ``AUTO_SYNC`` do not
    apply: an explicit call is never silenced. Returns the number of keys recorded.
    """
    parts: list[dict[type[Serializer], list[str]]] = []
    if isinstance(objects, QuerySet):
        interest = interest_in(objects.model)
        if interest is not None:
            parts.append(interest.queryset_keys(objects))
    else:
        for instance in objects:
            interest = interest_in(type(instance))
            if interest is not None:
                parts.append(interest.keys(instance, instance._state.db))
    found: dict[type[Serializer], list[str]] = defaultdict(list)
    for part in parts:
        for serializer_cls, keys in part.items():
            found[serializer_cls].extend(keys)
    return record(found, check_sync=False)

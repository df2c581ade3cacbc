"""Keep Bubblehouse in sync with a Django shop."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from django.db.models import Model, QuerySet

__version__ = "0.1.0"


def mark_dirty(objects: QuerySet[Any] | Iterable[Model]) -> int:
    """Push rows changed without signals (``update()``, ``bulk_update``, raw SQL).

    See :func:`django_bubblehouse.changes.mark_dirty`; imported on call, so that importing
    this package never needs the app registry.
    """
    from .changes import mark_dirty as mark

    return mark(objects)

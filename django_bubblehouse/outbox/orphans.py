"""Outbox rows whose serializer is no longer registered (renamed or removed)."""

from __future__ import annotations

from django.db.models import Count

from ..models import OutboxEntry
from ..registry import all_serializers


def orphaned_serializers() -> dict[str, int]:
    """``{serializer label: row count}`` for every label no registered serializer has."""
    registered = [serializer.label() for serializer in all_serializers()]
    rows = (
        OutboxEntry.objects.exclude(serializer__in=registered)
        .values_list("serializer")
        .annotate(rows=Count("pk"))
        .order_by("serializer")
    )
    return dict(rows.values_list("serializer", "rows"))

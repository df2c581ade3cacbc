"""Outbox rows whose serializer is no longer registered (renamed or removed in a deploy).

No drain claims them, so they would wait forever. They are reported by check
``bubblehouse.W030`` (``manage.py check --database default``), by the sweep's
log and in the outbox admin; :func:`rekey` hands them to the serializer that
replaces a renamed one, :func:`discard` forgets them.
"""

from __future__ import annotations

import secrets

from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from ..models import OutboxEntry, OutboxState
from ..serializers.registry import all_serializers, get_serializer
from .wakeup import request_drain

# Rows still owed to Bubblehouse; sent and skipped rows are history, pruned after RETENTION.
WAITING = (OutboxState.PENDING, OutboxState.SENDING, OutboxState.FAILED, OutboxState.DEAD)


def orphaned_serializers() -> dict[str, int]:
    """Serializer label -> number of waiting rows, for every label no serializer answers to."""
    registered = [serializer_cls.label() for serializer_cls in all_serializers()]
    rows = (
        OutboxEntry.objects.filter(state__in=WAITING)
        .exclude(serializer__in=registered)
        .values("serializer")
        .annotate(rows=Count("pk"))
        .order_by("serializer")
    )
    return {row["serializer"]: row["rows"] for row in rows}


def rekey(old_label: str, new_label: str) -> int:
    """Give the rows of ``old_label`` to the registered serializer ``new_label``.

    For a rename: the object keys must mean the same objects. Waiting rows are
    pushed again by the new serializer with a fresh attempt budget; where the
    new serializer already has a row for the same object, that row is made
    pending instead. Returns the number of rows handed over.
    """
    new = get_serializer(new_label)  # LookupError names a label that is not registered
    now = timezone.now()
    fresh = {
        "state": OutboxState.PENDING,
        "attempts": 0,
        "first_failure_at": None,
        "next_attempt_at": now,
        "lease_until": None,
        "updated_at": now,
    }
    with transaction.atomic():
        old = OutboxEntry.objects.select_for_update().filter(serializer=old_label)
        keys = list(old.values_list("object_key", flat=True))
        existing = OutboxEntry.objects.filter(serializer=new_label, object_key__in=keys)
        clashing = list(existing.values_list("object_key", flat=True))
        existing.update(generation=secrets.randbits(62), **fresh)
        old.filter(object_key__in=clashing).delete()
        moved = old.update(serializer=new_label, kind=new.kind)
        OutboxEntry.objects.filter(
            serializer=new_label, object_key__in=keys, state__in=WAITING
        ).update(generation=secrets.randbits(62), **fresh)
        transaction.on_commit(request_drain, robust=True)
    return moved + len(clashing)


def discard(label: str) -> int:
    """Delete every row of ``label`` (a serializer removed for good); returns how many."""
    deleted, _ = OutboxEntry.objects.filter(serializer=label).delete()
    return deleted

"""The reconciliation: pushes writes that moved ``updated_field`` without any signal.

Every few minutes (``bubblehouse reconcile`` schedule), for each serializer with
an ``updated_field``: the rows whose ``updated_field`` lies in
``[watermark - OVERLAP, now)`` (one range query: index ``updated_field``) are
compared with the outbox, and those without an outbox row recorded at or after
their update are marked dirty. A save the receivers saw has such a row, so only
writes that bypassed the signals (``update()``, ``bulk_update``, raw SQL, another
service) are pushed again.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass

from django.db import router, transaction
from django.utils import timezone

from .models import OutboxEntry, ReconcileMark
from .outbox import mark_dirty
from .serializers import Serializer
from .serializers.registry import all_serializers

# A transaction can commit well after it stamped updated_field; rows are looked at again for
# this long, which costs one outbox lookup per recently updated row, nothing more.
OVERLAP = dt.timedelta(minutes=10)
CHUNK = 1000


@dataclass
class ReconcileReport:
    checked: int = 0  # rows in the windows
    marked: int = 0  # rows with no outbox record of their latest update, now dirty


def reconcile(now: dt.datetime | None = None) -> ReconcileReport:
    until = now or timezone.now()
    report = ReconcileReport()
    for serializer_cls in all_serializers():
        if serializer_cls.updated_field is not None:
            checked, marked = reconcile_serializer(serializer_cls, until)
            report.checked += checked
            report.marked += marked
    return report


def reconcile_serializer(serializer_cls: type[Serializer], until: dt.datetime) -> tuple[int, int]:
    """Reconcile one serializer's rows updated before ``until``; ``(checked, marked)``."""
    label = serializer_cls.label()
    field = serializer_cls.updated_field
    assert field is not None
    checked = marked = 0
    with transaction.atomic(using=router.db_for_write(ReconcileMark)):
        # The lock makes two overlapping runs take turns instead of both scanning.
        mark, _ = ReconcileMark.objects.select_for_update().get_or_create(
            serializer=label, defaults={"reconciled_until": until - OVERLAP}
        )
        since = mark.reconciled_until - OVERLAP
        rows = (
            serializer_cls()
            .get_queryset()
            .prefetch_related(None)
            .filter(**{f"{field}__gte": since, f"{field}__lt": until})
            .order_by()
            .values_list("pk", field)
        )
        candidates = rows.iterator(chunk_size=CHUNK)
        while chunk := list(itertools.islice(candidates, CHUNK)):
            checked += len(chunk)
            stale = _unrecorded(label, [(str(pk), updated) for pk, updated in chunk])
            marked += mark_dirty(serializer_cls, stale) if stale else 0
        mark.reconciled_until = max(mark.reconciled_until, until)
        mark.save(update_fields=["reconciled_until"])
    return checked, marked


def _unrecorded(label: str, rows: list[tuple[str, dt.datetime]]) -> list[str]:
    """The keys whose latest update has no outbox row recorded at or after it."""
    recorded = dict(
        OutboxEntry.objects.filter(serializer=label, object_key__in=[key for key, _ in rows])
        .values_list("object_key", "updated_at")
        .iterator()
    )
    return [key for key, updated in rows if (seen := recorded.get(key)) is None or seen < updated]

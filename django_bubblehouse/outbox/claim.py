"""Claiming a batch of due rows for one serializer, safely against concurrent drains.

PostgreSQL: ``SELECT ... FOR UPDATE SKIP LOCKED`` lets concurrent drains take
disjoint batches without waiting. Everywhere: the claiming UPDATE takes a row only
at the generation it was read with (every change and every claim draws a new one),
so a claimer that read the same rows as another one before it wrote (SQLite has no
row locks) gets none of them. It names the rows by key and generation, not by the
"claimable" condition again: SQLite would plan that on the due index and walk the
whole backlog for every batch.

:func:`due_counts` tells a drain, in one query, which serializers have rows to
claim at all, so a round spends no claim on a serializer with nothing due.
"""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Q
from django.utils import timezone

from ..conf import get_settings
from ..models import OutboxEntry, OutboxState


@dataclass(frozen=True)
class ClaimedRow:
    pk: int
    key: str
    delete_payload: dict[str, Any] | None
    attempts: int
    first_failure_at: datetime | None


@dataclass(frozen=True)
class Batch:
    label: str
    token: int  # the generation every claimed row carries until someone changes it again
    rows: list[ClaimedRow]

    @property
    def pks(self) -> list[int]:
        return [row.pk for row in self.rows]

    @property
    def keys(self) -> list[str]:
        return [row.key for row in self.rows]


def claimable(label: str, now: datetime) -> Q:
    unleased = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    return Q(serializer=label, state=OutboxState.PENDING, next_attempt_at__lte=now) & unleased


def due_counts(labels: Sequence[str], limit: int) -> dict[str, int]:
    """How many rows of each of ``labels`` can be claimed now, counted up to ``limit``;
    labels with none are left out.

    One query however many labels there are: a ``UNION ALL`` of one count per label over at
    most ``limit`` rows (the due index), so its cost grows with neither the backlog nor the
    labels that have nothing due.
    """
    if not labels:
        return {}
    using = router.db_for_write(OutboxEntry)
    now = timezone.now()
    parts: list[str] = []
    params: list[Any] = []
    for index, label in enumerate(labels):
        due = OutboxEntry.objects.using(using).filter(claimable(label, now)).values("pk")[:limit]
        sql, due_params = due.query.get_compiler(using).as_sql()
        # A derived table: SQLite allows no LIMIT in the members of a compound SELECT.
        parts.append(f"SELECT {index}, COUNT(*) FROM ({sql}) due_{index}")
        params.extend(due_params)
    with connections[using].cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    return {labels[index]: count for index, count in rows if count}


def claim_batch(label: str, limit: int) -> Batch | None:
    """Mark up to ``limit`` due rows of ``label`` as sending under a lease; None if none are due."""
    using = router.db_for_write(OutboxEntry)
    now = timezone.now()
    token = secrets.randbits(62)
    entries = OutboxEntry.objects.using(using)
    with transaction.atomic(using=using):
        due = entries.filter(claimable(label, now)).order_by("next_attempt_at", "pk")
        if connections[using].features.has_select_for_update_skip_locked:
            due = due.select_for_update(skip_locked=True)
        read = dict(due.values_list("pk", "generation")[:limit])
        if not read:
            return None
        pks = list(read)
        entries.filter(pk__in=pks, generation__in=set(read.values())).update(
            state=OutboxState.SENDING,
            generation=token,
            lease_until=now + timedelta(seconds=get_settings().sending_lease),
            updated_at=now,
        )
        rows = [
            ClaimedRow(*values)
            for values in entries.filter(pk__in=pks, generation=token)
            .order_by("pk")
            .values_list("pk", "object_key", "delete_payload", "attempts", "first_failure_at")
        ]
    return Batch(label, token, rows) if rows else None


def unclaim(batch: Batch) -> None:
    """Give a claimed batch back untouched (its drain may not send it after all)."""
    OutboxEntry.objects.filter(pk__in=batch.pks, generation=batch.token).update(
        state=OutboxState.PENDING, lease_until=None
    )

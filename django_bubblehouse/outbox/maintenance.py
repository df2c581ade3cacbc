"""Housekeeping run by the schedules, and the manual retry of failed rows."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from ..conf import get_settings
from ..hooks.dispatch import forget_requests
from ..models import TERMINAL_STATES, OutboxEntry, OutboxState
from .drain import DrainReport, drain
from .wakeup import ensure_drain_request_row, request_drain


def release_stuck() -> int:
    """Rows left "sending" past their lease (a killed worker) become pending again."""
    now = timezone.now()
    return OutboxEntry.objects.filter(state=OutboxState.SENDING, lease_until__lt=now).update(
        state=OutboxState.PENDING, lease_until=None, updated_at=now
    )


def sweep() -> DrainReport:
    """The minute schedule: recover lost wake-ups and stuck rows, retry due rows, probe pauses."""
    ensure_drain_request_row()
    release_stuck()
    return drain()


def prune() -> int:
    """Forget what is no longer needed; returns the number of rows deleted.

    Delivered (or skipped) rows and hook request ids go after RETENTION, failed and
    dead rows after FAILED_RETENTION; a delivered row's captured delete payload (a
    customer's identity) is erased at once, as nothing will send it again.
    """
    conf = get_settings()
    now = timezone.now()
    cutoff = now - timedelta(seconds=conf.retention)
    delivered = [OutboxState.SENT, OutboxState.SKIPPED]
    OutboxEntry.objects.filter(state__in=delivered, delete_payload__isnull=False).update(
        delete_payload=None
    )
    deleted, _ = OutboxEntry.objects.filter(
        Q(state__in=delivered, updated_at__lt=cutoff)
        | Q(
            state__in=TERMINAL_STATES,
            updated_at__lt=now - timedelta(seconds=conf.failed_retention),
        )
    ).delete()
    return deleted + forget_requests(cutoff)


def retry_entries(entries: QuerySet[OutboxEntry] | Iterable[int]) -> int:
    """Send failed or dead rows again with a fresh attempt budget; wakes a drain on commit."""
    if not isinstance(entries, QuerySet):
        entries = OutboxEntry.objects.filter(pk__in=list(entries))
    now = timezone.now()
    retried = entries.filter(state__in=TERMINAL_STATES).update(
        state=OutboxState.PENDING,
        generation=secrets.randbits(62),
        attempts=0,
        first_failure_at=None,
        next_attempt_at=now,
        updated_at=now,
    )
    if retried:
        transaction.on_commit(request_drain, robust=True)
    return retried

"""Housekeeping run by the schedules, and the manual retry of failed rows."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import QuerySet
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
    """Delete rows delivered (or skipped) and hook request ids older than RETENTION seconds."""
    cutoff = timezone.now() - timedelta(seconds=get_settings().retention)
    deleted, _ = OutboxEntry.objects.filter(
        state__in=[OutboxState.SENT, OutboxState.SKIPPED], updated_at__lt=cutoff
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

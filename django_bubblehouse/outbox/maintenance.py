"""Housekeeping run by the schedules, and the manual retry of failed rows."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from datetime import timedelta

from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from .. import throttle
from ..conf import get_settings
from ..hooks.dispatch import forget_requests
from ..models import TERMINAL_STATES, OutboxEntry, OutboxState
from .drain import DrainReport, drain
from .lease import release_stuck
from .orphans import orphaned_serializers
from .wakeup import ensure_drain_request_row, request_drain

__all__ = ["prune", "release_stuck", "retry_entries", "sweep"]

logger = logging.getLogger("django_bubblehouse")


def sweep(*, patient: bool = False) -> DrainReport:
    """The minute schedule: recover lost wake-ups and cut-off pushes, retry due rows, probe
    pauses (a drain of its own, with its own budget, so a long drain cannot starve it)."""
    ensure_drain_request_row()
    throttle.forget_ended()
    for label, rows in orphaned_serializers().items():
        logger.warning(
            "%d outbox row(s) wait for %s, which is not a registered serializer: re-key them "
            "with outbox.orphans.rekey() or drop them with outbox.orphans.discard()",
            rows,
            label,
        )
    return drain(patient=patient)


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
        # A sent row's sent_at is when it last changed (and is indexed); a skipped row's may
        # be the time of an earlier push.
        Q(state=OutboxState.SENT, sent_at__lt=cutoff)
        | Q(state=OutboxState.SKIPPED, updated_at__lt=cutoff)
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

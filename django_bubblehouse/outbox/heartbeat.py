"""When a drain last started: the status's answer to "is a worker draining at all"."""

from __future__ import annotations

from datetime import datetime

from django.utils import timezone

from ..models import DrainRequest


def drain_ran() -> None:
    """Called by every drain (the minute sweep included) as it starts."""
    DrainRequest.objects.filter(pk=DrainRequest.SINGLETON).update(last_drain_at=timezone.now())


def last_drain_at() -> datetime | None:
    return (
        DrainRequest.objects.filter(pk=DrainRequest.SINGLETON)
        .values_list("last_drain_at", flat=True)
        .first()
    )

"""The shop-wide hold after a 429 (or a 503 with ``Retry-After``).

Bubblehouse limits the shop, not one request: once any worker hears 429, no
request leaves this shop (no worker, no kind, no backfill, no admin push) until
``Retry-After`` has passed, or a backoff when the header is absent. The hold is
the :class:`~django_bubblehouse.models.Pause` row with scope ``"throttle"``;
its ``probe_at`` is when the hold ends, so the admin and the operator tools
show it next to the circuit breaker's pauses. Unlike a pause it needs no
probe: when it ends every worker may send again, and the next 429 sets a new
one. The outbox sets it (:func:`.outbox.outcomes.settlement`) and checks it
right before every push it makes (drains and backfills alike).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.utils import timezone

from .conf import get_settings
from .exceptions import BubblehouseAPIError, RateLimitedAPIError
from .models import Pause

logger = logging.getLogger("django_bubblehouse")

SCOPE = Pause.THROTTLE


def check(call: str) -> None:
    """Raise :class:`RateLimitedAPIError` while a hold is on.

    Called right before each push leaves, so a hold set by another worker a
    moment ago is honoured.
    """
    until = held_until()
    if until is not None:
        remaining = (until - timezone.now()).total_seconds()
        raise RateLimitedAPIError(
            f"held back: Bubblehouse rate-limited this shop until {until.isoformat()}",
            call=call,
            retry_after=remaining,
        )


def hold(error: BubblehouseAPIError) -> datetime:
    """Hold every request until ``error.retry_after`` from now (or a growing backoff).

    Without ``Retry-After`` the hold lasts as long as the shop has been limited
    so far (at least BACKOFF_BASE, at most BACKOFF_CAP), so repeated 429s
    double it. A hold is only ever extended, never shortened by another worker.
    """
    settings = get_settings()
    now = timezone.now()
    since = _since(now)
    if error.retry_after is not None:
        seconds = error.retry_after
    else:
        limited_for = (now - since).total_seconds()
        seconds = min(settings.backoff_cap, max(settings.backoff_base, limited_for))
    until = now + timedelta(seconds=seconds)
    details = {"reason": str(error), "status": error.status, "error_id": error.error_id or ""}
    Pause.objects.bulk_create(
        [Pause(scope=SCOPE, since=since, probe_at=until, **details)], ignore_conflicts=True
    )
    Pause.objects.filter(scope=SCOPE, probe_at__lt=until).update(
        probe_at=until, since=since, **details
    )
    logger.warning(
        "Bubblehouse answered HTTP %s: every request from this shop waits %.1f s (until %s)",
        error.status,
        seconds,
        until.isoformat(),
    )
    return until


def wait_out() -> None:
    """Sleep until the hold ends: for pushes made by a long command (a backfill)."""
    until = held_until()
    if until is not None:
        seconds = (until - timezone.now()).total_seconds()
        logger.info("Bubblehouse rate-limited this shop: waiting %.1f s", seconds)
        time.sleep(max(0.0, seconds))


def forget_ended() -> None:
    """Drop a hold that ended longer than BACKOFF_CAP ago (a new 429 then starts afresh)."""
    cap = timedelta(seconds=get_settings().backoff_cap)
    Pause.objects.filter(scope=SCOPE, probe_at__lt=timezone.now() - cap).delete()


def held_until(paused: Mapping[str, datetime] | None = None) -> datetime | None:
    """When the current hold ends; None when requests may leave.

    ``paused`` is every Pause row's ``probe_at`` by scope when the caller has just read them
    (a drain's round, :func:`.outbox.pause.paused_scopes`): the hold is one of them.
    """
    if paused is None:
        until = Pause.objects.filter(scope=SCOPE).values_list("probe_at", flat=True).first()
    else:
        until = paused.get(SCOPE)
    return until if until is not None and until > timezone.now() else None


def _since(now: datetime) -> datetime:
    """When the current run of 429s began: an ended hold older than the cap starts a new one."""
    row = Pause.objects.filter(scope=SCOPE).values_list("since", "probe_at").first()
    if row is None:
        return now
    since, until = row
    cap = timedelta(seconds=get_settings().backoff_cap)
    return since if until >= now - cap else now

"""Waking a drain after commit, without one enqueue per transaction.

The :class:`~django_bubblehouse.models.DrainRequest` row is a shared flag:

- after a commit that wrote outbox rows, :func:`request_drain` reads the flag
  and, if it is clear, sets it with a conditional UPDATE and enqueues a drain
  only if it was the one that set it;
- a drain clears the flag *before* it claims anything (:func:`drain_started`).

So a commit that finds the flag already set is covered by a drain that has not
cleared it yet, and will therefore claim after that commit: no wake-up is lost,
and a burst of commits costs one enqueue per drain, not one per commit. A flag
left set by a lost enqueue (broker down, worker killed) is treated as cleared
once it is older than :data:`STALE_AFTER`, and the minute sweep drains anyway.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.db import connections, router
from django.db.models import Q
from django.utils import timezone

from ..conf import get_settings
from ..models import DrainRequest

logger = logging.getLogger("django_bubblehouse")

DRAIN_TASK = "django_bubblehouse.tasks.drain_task"
STALE_AFTER = timedelta(seconds=60)


def request_drain() -> bool:
    """Make sure a drain runs after now; True when this call enqueued it."""
    now = timezone.now()
    if _already_requested(now):
        return False
    flag = DrainRequest.objects.filter(pk=DrainRequest.SINGLETON)
    claimed = flag.filter(Q(requested=False) | Q(requested_at__lt=now - STALE_AFTER)).update(
        requested=True, requested_at=now
    )
    if not claimed:
        return False
    try:
        enqueue_drain()
    except Exception:
        # The broker is down: give the next commit a chance to enqueue; the sweep is the backstop.
        DrainRequest.objects.filter(pk=DrainRequest.SINGLETON).update(requested=False)
        logger.exception("Could not enqueue a Bubblehouse drain; the sweep will pick the rows up")
        return False
    return True


def _already_requested(now: datetime) -> bool:
    """Whether the flag is set and fresh: the common case in a burst, so it is one raw read.

    It runs after every commit that wrote outbox rows; a read takes no write lock
    (SQLite's is database-wide). Reading "set" before a drain clears it is safe:
    that drain claims after clearing, so after this commit. It reads the database
    the flag is written to, never a replica that may lag behind a clear.
    """
    connection = connections[router.db_for_write(DrainRequest)]
    quote = connection.ops.quote_name
    sql = (
        f"SELECT 1 FROM {quote(DrainRequest._meta.db_table)} WHERE {quote('id')} = %s"
        f" AND {quote('requested')} = %s AND {quote('requested_at')} >= %s"
    )
    cutoff = connection.ops.adapt_datetimefield_value(now - STALE_AFTER)
    with connection.cursor() as cursor:
        cursor.execute(sql, [DrainRequest.SINGLETON, True, cutoff])
        return cursor.fetchone() is not None


def enqueue_drain() -> None:
    from django_q.tasks import async_task

    options: dict[str, object] = {"task_name": "bubblehouse drain"}
    cluster = get_settings().q_cluster_name
    if cluster:
        options["cluster"] = cluster
    async_task(DRAIN_TASK, q_options=options)


def drain_started() -> None:
    """Clear the flag; called by a drain before its first claim."""
    DrainRequest.objects.filter(pk=DrainRequest.SINGLETON).update(requested=False)


def ensure_drain_request_row(using: str | None = None) -> None:
    """Create the flag row if it is missing (the sweep, and after migrate or a test flush)."""
    DrainRequest.objects.db_manager(using).get_or_create(pk=DrainRequest.SINGLETON)


def create_drain_request_row(*, using: str, **kwargs: Any) -> None:
    """post_migrate receiver; skipped while this app's tables are not migrated yet."""
    if DrainRequest._meta.db_table in connections[using].introspection.table_names():
        ensure_drain_request_row(using)

"""Leases on claimed rows: kept alive by a heartbeat, released when their drain is gone.

A claimed batch is leased for ``SENDING_LEASE`` seconds. While its drain is
alive, a heartbeat thread renews the lease every third of that, so a push may
take as long as its timeouts allow; the same beat renews the drain's slot
(:mod:`.slots`). A drain that dies (``kill -9``, a task
timeout, a lost machine) stops beating, so its rows are free at most
``SENDING_LEASE`` seconds later, whatever the task timeout, and the next drain
takes them back as a cut-off push: one attempt spent, backoff, dead-letter
after MAX_ATTEMPTS, like any transient failure (:mod:`.outcomes`).

:class:`LeaseWatch` lets an idle drain tell a lease that stopped beating (wait
for it to expire, then take the rows) from one that is alive (leave it).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from types import TracebackType
from typing import TYPE_CHECKING

from django.db import connections, router
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper
from django.utils import timezone

from ..conf import get_settings
from ..exceptions import TransientAPIError
from ..kinds import Kind
from ..models import OutboxEntry, OutboxState
from .claim import Batch
from .outcomes import exhausted, settlement

if TYPE_CHECKING:
    from .slots import Slot

logger = logging.getLogger("django_bubblehouse")

BEATS_PER_LEASE = 3
# A renewal takes one UPDATE; a lease this much behind its next beat has missed it.
BEAT_SLACK = 1.0


def lease_seconds() -> float:
    return float(get_settings().sending_lease)


def release_stuck() -> int:
    """Rows left "sending" past their lease (their drain died) are due again, one attempt spent."""
    now = timezone.now()
    stuck = OutboxEntry.objects.filter(state=OutboxState.SENDING, lease_until__lt=now)
    rows = list(stuck.values_list("pk", "kind", "serializer", "attempts", "first_failure_at"))
    for kind in {kind for _, kind, *_ in rows}:
        mine = [row for row in rows if row[1] == kind]
        error = TransientAPIError(
            "push cut off: its drain stopped (worker killed or task timed out) before "
            "Bubblehouse answered",
            call=Kind(kind).api_call,
        )
        outcome = settlement(error, now, max(row[3] for row in mine))
        stuck.filter(pk__in=[row[0] for row in mine]).update(lease_until=None, **outcome.fields)
        dead = [row for row in mine if exhausted(row[3], row[4], now)]
        if len(dead) < len(mine):
            logger.warning(
                "%d %s row(s) of %s were cut off mid-push; retrying in %.1f s",
                len(mine) - len(dead),
                kind,
                mine[0][2],
                outcome.delay,
            )
        if dead:
            logger.error(
                "%d %s row(s) are dead: cut off mid-push on their last attempt", len(dead), kind
            )
    return len(rows)


def _beats_here(using: str) -> bool:
    """Whether a second connection sees this one's rows (not in a test's transaction, not an
    in-memory SQLite database); otherwise nobody else could take the rows anyway."""
    connection = connections[using]
    if connection.in_atomic_block:
        return False
    return not (isinstance(connection, SQLiteDatabaseWrapper) and connection.is_in_memory_db())


class Heartbeat:
    """One drain's heartbeat thread: renews its slot and the lease of the batch it is pushing."""

    def __init__(self, slot: Slot) -> None:
        self.interval = lease_seconds() / BEATS_PER_LEASE
        self.using = router.db_for_write(OutboxEntry)
        self.slot = slot
        self.batch: Batch | None = None
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        if _beats_here(self.using):
            self.thread = threading.Thread(target=self._run, name="bubblehouse-lease", daemon=True)
            self.thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stopped.set()
        if self.thread is not None:
            self.thread.join(timeout=self.interval + 5)

    @contextmanager
    def carrying(self, batch: Batch) -> Iterator[None]:
        with self.lock:
            self.batch = batch
        try:
            yield
        finally:
            with self.lock:
                self.batch = None

    def _run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                with self.lock:
                    batch = self.batch
                if batch is not None:
                    self._renew(batch)
                self._renew_slot()
        finally:
            connections.close_all()  # this thread's own connections

    def _renew(self, batch: Batch) -> None:
        until = timezone.now() + timedelta(seconds=lease_seconds())
        try:
            OutboxEntry.objects.using(self.using).filter(
                pk__in=batch.pks, generation=batch.token, state=OutboxState.SENDING
            ).update(lease_until=until)
        except Exception:
            # A missed beat only risks a second push of this batch, which is harmless.
            logger.warning("Could not renew the lease of a %s batch", batch.label, exc_info=True)

    def _renew_slot(self) -> None:
        try:
            self.slot.renew()
        except Exception:
            # A missed beat only risks one drain more than DRAIN_PARALLELISM for a while.
            logger.warning("Could not renew a drain slot", exc_info=True)


class LeaseWatch:
    """Tells an idle drain when a lease held by another drain will be worth taking.

    A live drain renews its lease every ``interval``; a lease that has not moved
    since it was last seen, and is further behind than one missed beat, belongs
    to a dead drain: its expiry is an event to wait for. A lease seen moving is
    alive and is ignored from then on.
    """

    def __init__(self) -> None:
        self.seen: dict[int, datetime] = {}
        self.alive: set[int] = set()

    def next_event(self, now: datetime) -> datetime | None:
        lease = timedelta(seconds=lease_seconds())
        suspect_after = lease - lease / BEATS_PER_LEASE - timedelta(seconds=BEAT_SLACK)
        events: list[datetime] = []
        leased = OutboxEntry.objects.filter(state=OutboxState.SENDING, lease_until__gte=now)
        for pk, until in leased.values_list("pk", "lease_until"):
            if pk in self.alive or until is None:
                continue
            if pk in self.seen and self.seen[pk] < until:
                self.alive.add(pk)
                continue
            self.seen[pk] = until
            missed_a_beat = until - now < suspect_after
            # A dead lease: wait for it to expire. Unknown yet: look again once it would have
            # been renewed.
            events.append(until if missed_a_beat else until - suspect_after)
        return min(events, default=None)

"""The drain loop: claim, deliver, repeat, within a time budget.

A drain never outlives its task: django-q2 kills a task after the cluster's
``timeout``, so a drain stops claiming once its budget (that timeout, minus
one whole request and :data:`SERIALIZATION_ALLOWANCE` for the batch in hand)
is spent, and enqueues a follow-up drain if rows are still due. The first
transient error (5xx, timeout, 429, a database error) stops the sending.

A round claims only from the serializers that have rows due (one query finds
them, :func:`.claim.due_counts`). A drain holds a slot while it runs, so no more
than ``DRAIN_PARALLELISM`` drain at once, and a patient drain that finds more than
one batch due wakes a sibling while a slot is free (:mod:`.slots`).

A *patient* drain (the django-q2 tasks, unless tasks run inline) then waits,
within its budget and at most :data:`LONGEST_WAIT`, for what comes next: the
end of a shop-wide hold, a short breather after a transient error, rows whose
backoff is about to end, a lease of a dead drain that is about to expire. An
impatient drain (``outbox.drain()`` called from code, django-q2's ``sync``
mode) returns instead.
"""

from __future__ import annotations

import logging
import time
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import DatabaseError, connections, router
from django.db.models import Min
from django.utils import timezone

from .. import throttle
from ..client import BubblehouseClient, get_client
from ..conf import get_settings
from ..models import OutboxEntry, OutboxState
from ..serializers.registry import all_serializers
from . import slots
from .claim import claim_batch, due_counts, unclaim
from .deliver import Outcome, deliver
from .lease import BEATS_PER_LEASE, Heartbeat, LeaseWatch, lease_seconds, release_stuck
from .outcomes import Verdict, backoff, is_infrastructure
from .pause import Gate, gate_for, paused_scopes, resume, scopes_for, take_probe
from .record import forget_claimed
from .wakeup import drain_started, request_drain

logger = logging.getLogger("django_bubblehouse")

# Seconds kept free in a task for serializing the batch in hand (on top of one request).
SERIALIZATION_ALLOWANCE = 10.0
# A drain with no task timeout to respect still ends, so other tasks (the sweep) get a worker.
UNBOUNDED_BUDGET = 60.0
# The longest a patient drain waits, idle, for the next row to become due.
LONGEST_WAIT = 30.0


@dataclass
class DrainReport:
    batches: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retrying: int = 0
    dead: int = 0
    paused: list[str] = field(default_factory=list)
    requests: int = 0
    # Why the drain ended: empty, budget, max_batches, retry, throttle, defer, or busy (every
    # drain slot was held: DRAIN_PARALLELISM drains were running).
    stopped: str = ""
    follow_up: bool = False  # a follow-up drain was requested for rows still due

    def add(self, outcome: Outcome) -> None:
        self.batches += 1
        self.requests += outcome.requests
        self.sent += len(outcome.sent)
        self.skipped += len(outcome.skipped)
        self.failed += len(outcome.failed)
        self.retrying += len(outcome.retrying)
        self.dead += len(outcome.dead)
        if outcome.paused:
            self.paused.append(outcome.paused)


def task_budget(task_timeout: float | None) -> float:
    """Seconds a drain may keep claiming in a task that is killed after ``task_timeout``."""
    if task_timeout is None:
        return UNBOUNDED_BUDGET
    return max(0.0, task_timeout - sum(get_settings().timeout) - SERIALIZATION_ALLOWANCE)


def cluster_timeout() -> float | None:
    """The running cluster's task timeout (django-q2's ``Q_CLUSTER["timeout"]``)."""
    from django_q.conf import Conf

    timeout = Conf.TIMEOUT
    return float(timeout) if timeout else None


class Clock:
    def __init__(self, budget: float) -> None:
        self.budget = budget
        self.started = time.monotonic()

    @property
    def remaining(self) -> float:
        return self.budget - (time.monotonic() - self.started)

    def sleep_until(self, moment: datetime) -> None:
        seconds = (moment - timezone.now()).total_seconds()
        time.sleep(max(0.0, min(seconds, self.remaining, LONGEST_WAIT)))


class _Drain:
    def __init__(
        self,
        client: BubblehouseClient,
        clock: Clock,
        max_batches: int | None,
        heartbeat: Heartbeat,
        wakes_sibling: bool,
    ) -> None:
        self.client = client
        self.clock = clock
        self.max_batches = max_batches
        self.heartbeat = heartbeat
        self.wakes_sibling = wakes_sibling
        self.report = DrainReport()
        self.leases = LeaseWatch()
        self.round_started = timezone.now()
        self.released_at: float | None = None  # when it last took back a dead drain's rows

    def round(self) -> str | None:
        """Claim and deliver one batch per serializer with rows due; None if it sent something."""
        self.round_started = timezone.now()
        self.release_stuck()
        batch_size = get_settings().batch_size
        serializers = all_serializers()
        due = due_counts([serializer_cls.label() for serializer_cls in serializers], batch_size + 1)
        if not due:
            return "empty"
        paused: dict[str, datetime] | None = paused_scopes()  # the hold and the first gate
        if throttle.held_until(paused) is not None:
            return Verdict.THROTTLE.value
        if len(due) > 1 or max(due.values()) > batch_size:
            self.wake_sibling()
        progressed = False
        for serializer_cls in serializers:
            if serializer_cls.label() not in due:
                continue
            if self.max_batches is not None and self.report.batches >= self.max_batches:
                return "max_batches"
            if self.report.batches and self.clock.remaining <= 0:
                return "budget"
            if paused is None:  # a push since the last read may have paused a scope
                paused = paused_scopes()
            gate = gate_for(serializer_cls, paused)
            if gate is Gate.CLOSED:
                continue
            batch = claim_batch(serializer_cls.label(), batch_size)
            if batch is None:
                continue
            forget_claimed(batch.label, batch.keys)
            if gate is Gate.PROBE and not take_probe(serializer_cls):
                unclaim(batch)
                continue
            with self.heartbeat.carrying(batch):
                outcome = deliver(
                    serializer_cls, batch, self.client, lambda: self.clock.remaining > 0
                )
            paused = None
            if gate is Gate.PROBE and outcome.reached_api:
                resume(*scopes_for(serializer_cls), wake=False)
            self.report.add(outcome)
            progressed = True
            if outcome.stop is not None:
                return outcome.stop.value
        return None if progressed else "empty"

    def release_stuck(self) -> None:
        """Take back the rows of dead drains: in the first round, after each wait, and once a
        beat in between, so at most a beat after their lease ended (a lease runs a whole
        SENDING_LEASE past its drain's last beat). Not every round: a backlog's rounds read
        the sending rows again and again, and on PostgreSQL each row sent since the last
        vacuum leaves an entry behind in the index that read walks."""
        beat = lease_seconds() / BEATS_PER_LEASE
        if self.released_at is None or time.monotonic() - self.released_at >= beat:
            release_stuck()
            self.released_at = time.monotonic()

    def wake_sibling(self) -> None:
        """More than one batch is due: one more drain, on another worker, shares them."""
        if self.wakes_sibling and slots.any_free():
            request_drain()  # or a drain is already waiting to start: that one is the sibling
            self.wakes_sibling = False

    def wait(self, stopped: str) -> bool:
        """Wait for the next thing worth a round; False when there is none within reach."""
        if self.clock.remaining <= 0 or stopped in ("budget", "max_batches"):
            return False
        self.released_at = None  # a lease that expires meanwhile may be what it waits for
        now = timezone.now()
        if stopped in (Verdict.RETRY.value, Verdict.DEFER.value):
            # A breather, jittered so that workers failing together do not retry together.
            self.clock.sleep_until(now + timedelta(seconds=backoff(1)))
            return True
        moment = self.next_event(now)
        if moment is None:
            return False
        self.clock.sleep_until(moment)
        return True

    def next_event(self, now: datetime) -> datetime | None:
        horizon = now + timedelta(seconds=min(self.clock.remaining, LONGEST_WAIT))
        labels = [serializer_cls.label() for serializer_cls in all_serializers()]
        # Rows due since the round began were not seen by its claims; rows due before it and
        # still pending are held by a pause: waiting for them would only spin.
        due = OutboxEntry.objects.filter(
            serializer__in=labels,
            state=OutboxState.PENDING,
            next_attempt_at__gt=self.round_started,
        ).aggregate(first=Min("next_attempt_at"))["first"]
        events = [due, throttle.held_until(), self.leases.next_event(now)]
        upcoming = [moment for moment in events if moment is not None and moment <= horizon]
        return min(upcoming, default=None)


def drain(
    *,
    max_batches: int | None = None,
    client: BubblehouseClient | None = None,
    budget: float | None = None,
    patient: bool = False,
) -> DrainReport:
    """Push due rows, one request per batch, until none is left or the budget is spent.

    ``budget`` defaults to what the running cluster's task timeout allows
    (:func:`task_budget`); ``patient`` waits for rows about to be due and wakes a sibling
    drain for a backlog (see above).
    """
    drain_started()
    clock = Clock(task_budget(cluster_timeout()) if budget is None else budget)
    slot = slots.start() or (_slot_of_a_dead_drain(clock) if patient else None)
    if slot is None:
        return DrainReport(stopped="busy")
    try:
        with Heartbeat(slot) as heartbeat:
            wakes_sibling = patient and get_settings().drain_parallelism > 1
            run = _Drain(client or get_client(), clock, max_batches, heartbeat, wakes_sibling)
            while True:
                try:
                    stopped = run.round()
                except DatabaseError as error:
                    if not is_infrastructure(error):
                        raise
                    stopped = _database_trouble(error)
                if stopped is None:
                    continue
                if patient and run.wait(stopped):
                    continue
                if not _hand_over(slot, go_on=stopped == "empty" and clock.remaining > 0):
                    break
    finally:
        with suppress(DatabaseError):  # a slot left held frees itself when its lease ends
            slot.release()
    report = run.report
    report.stopped = stopped
    if stopped == "budget" and _due_now():
        report.follow_up = request_drain()
    return report


def _slot_of_a_dead_drain(clock: Clock) -> slots.Slot | None:
    """Every slot is held: wait, within the budget, until the first one is free if its drain
    stopped beating (a killed worker's), and try once more; None when they are all alive
    (their drains take the request over when they end)."""
    moment = slots.first_free_at()
    if moment is not None:
        clock.sleep_until(moment)
    return slots.take_late()


def _hand_over(slot: slots.Slot, *, go_on: bool) -> bool:
    """End the drain (True: go on instead, for a drain that found every slot held)."""
    try:
        return slots.hand_over(slot, go_on=go_on)
    except DatabaseError as error:
        if not is_infrastructure(error):
            raise
        _database_trouble(error)  # the lease frees the slot; the sweep drains what is owed
        return False


def _database_trouble(error: DatabaseError) -> str:
    """A locked, restarting or dropped database: stop sending; rows keep their state."""
    logger.warning("Bubblehouse drain stopped by a database error (rows stay pending): %s", error)
    connection = connections[router.db_for_write(OutboxEntry)]
    if not connection.in_atomic_block:  # a dropped connection reconnects on the next query
        connection.close_if_unusable_or_obsolete()
    return Verdict.DEFER.value


def _due_now() -> bool:
    labels = [serializer_cls.label() for serializer_cls in all_serializers()]
    return OutboxEntry.objects.filter(
        serializer__in=labels, state=OutboxState.PENDING, next_attempt_at__lte=timezone.now()
    ).exists()

"""After a commit that wrote outbox rows: make sure a drain runs, cheaply.

**The flag.** The :class:`~django_bubblehouse.models.DrainRequest` row says "a
drain is enqueued and has not started yet". The check after a commit
(:func:`request_drain`) reads it and, when it is clear, sets it with a
conditional UPDATE and enqueues a drain only if it was the one that set it; a
drain clears it *before* its first claim (:func:`drain_started`). So a commit
that finds the flag set is covered by a drain that will claim after that
commit: no wake-up is lost, and a burst of commits costs one enqueue per drain.
A flag left set by a lost enqueue (broker down, worker killed) counts as clear
once older than :data:`STALE_AFTER`, and the minute sweep drains anyway. A
drain that finds every drain slot held sets the flag again without enqueueing
(:func:`owe_drain`): a running drain takes it over when it ends
(:func:`take_request`; see :mod:`.slots`).

**The thread.** Nothing says the committing thread has to wait for the check,
so after commit the host only signals this process's waker thread (started on
first use, and again in a forked child), which runs the check on its own
connection. Invariant: every commit is followed by a check that *starts* after
it. A signal sets ``pending`` under the lock; the thread clears ``pending``
under the same lock before it starts a check, after letting a burst go on for
:data:`COALESCE_WINDOW` (cut short by :func:`flush`), so a busy process pays one
check per window, not one per commit. The check runs inline when another
connection could not see the commit (:func:`_runs_inline`); at interpreter exit
a pending check is run (bounded by :data:`EXIT_TIMEOUT`).
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from datetime import datetime, timedelta
from typing import Any

from django.db import close_old_connections, connections, router
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper
from django.db.models import Q
from django.utils import timezone
from django_q.conf import Conf

from ..conf import get_settings
from ..models import DrainRequest

logger = logging.getLogger("django_bubblehouse")

DRAIN_TASK = "django_bubblehouse.tasks.drain_task"
STALE_AFTER = timedelta(seconds=60)
EXIT_TIMEOUT = 5.0  # seconds an exiting process waits for its last check
COALESCE_WINDOW = 0.05  # seconds; delays a drain by at most this, next to the broker's polling


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

    async_task(DRAIN_TASK, task_name="bubblehouse drain", cluster=get_settings().q_cluster_name)


def drain_started() -> None:
    """Clear the flag and stamp the drain's start; called by a drain before its first claim."""
    DrainRequest.objects.filter(pk=DrainRequest.SINGLETON).update(
        requested=False, last_drain_at=timezone.now()
    )


def owe_drain() -> None:
    """Set the flag without enqueueing: a drain is owed to the commits that find it set."""
    DrainRequest.objects.filter(pk=DrainRequest.SINGLETON).update(
        requested=True, requested_at=timezone.now()
    )


def take_request() -> bool:
    """Clear the flag if it is set; True when this call cleared it, and so owes a drain."""
    flag = DrainRequest.objects.filter(pk=DrainRequest.SINGLETON, requested=True)
    return bool(flag.update(requested=False))


def last_drain_at() -> datetime | None:
    """When a drain (the minute sweep's included) last started: is a worker draining at all."""
    return (
        DrainRequest.objects.filter(pk=DrainRequest.SINGLETON)
        .values_list("last_drain_at", flat=True)
        .first()
    )


def ensure_drain_request_row(using: str | None = None) -> None:
    """Create the flag row if it is missing (the sweep, and after migrate or a test flush)."""
    DrainRequest.objects.db_manager(using).get_or_create(pk=DrainRequest.SINGLETON)


def create_drain_request_row(*, using: str, **kwargs: Any) -> None:
    """post_migrate receiver; skipped while this app's tables are not migrated yet."""
    if DrainRequest._meta.db_table in connections[using].introspection.table_names():
        ensure_drain_request_row(using)


def wake_after_commit(using: str) -> None:
    """The on-commit wake-up: signal the waker, or run the check here when it must."""
    if _runs_inline(using):
        request_drain()
        return
    try:
        _current().signal()
    except RuntimeError:  # no new threads once the interpreter is shutting down
        request_drain()


def _runs_inline(using: str) -> bool:
    """Whether the check must run on this thread, because another connection could not see
    the commit.

    Inside an atomic block the "commit" is one only to this connection: test harnesses
    such as ``django_capture_on_commit_callbacks(execute=True)`` run the callbacks inside
    the test's transaction. An in-memory SQLite database is private to its connection.
    With django-q2's ``sync`` option the drain runs on the enqueuing thread whatever we
    do, and its queue needs a new thread, which Python 3.12+ refuses at interpreter exit.
    """
    if Conf.SYNC:
        return True
    for alias in {using, router.db_for_write(DrainRequest)}:
        connection = connections[alias]
        if connection.in_atomic_block:
            return True
        if isinstance(connection, SQLiteDatabaseWrapper) and connection.is_in_memory_db():
            return True
    return False


def flush(timeout: float) -> bool:
    """Wait until this process's waker has no check pending or running; False on timeout."""
    waker = _waker
    if waker is None or waker.pid != os.getpid():
        return True
    return waker.idle(timeout)


class _Waker:
    """One process's waker thread and its state, all guarded by ``condition``."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.condition = threading.Condition()
        self.pending = False
        self.hurry = False  # flush() is waiting: skip the coalescing window
        self.running = False
        self.thread: threading.Thread | None = None

    def signal(self) -> None:
        with self.condition:
            if self.thread is None:
                thread = threading.Thread(target=self.run, name="bubblehouse-waker", daemon=True)
                thread.start()  # before ``pending``: a thread that cannot start leaves none
                self.thread = thread
            if not self.pending:  # a pending signal is seen by the thread without a wake-up
                self.pending = True
                self.condition.notify_all()

    def idle(self, timeout: float) -> bool:
        with self.condition:
            if self.pending:
                self.hurry = True
                self.condition.notify_all()
            return self.condition.wait_for(lambda: not self.pending and not self.running, timeout)

    def run(self) -> None:
        while True:
            with self.condition:
                self.condition.wait_for(lambda: self.pending)
                self.condition.wait_for(lambda: self.hurry, COALESCE_WINDOW)
                self.pending = self.hurry = False  # before the check: a later signal gets another
                self.running = True
            try:
                check()
            finally:
                with self.condition:
                    self.running = False
                    self.condition.notify_all()


def check() -> None:
    """One wake-up check on the waker's own connection; errors are logged, never raised."""
    try:
        request_drain()
    except Exception:
        logger.exception("Bubblehouse wake-up check failed; the sweep will pick the rows up")
    try:
        close_old_connections()  # honours the host's CONN_MAX_AGE, drops broken connections
    except Exception:
        logger.exception("Bubblehouse waker could not close its database connection")


_waker: _Waker | None = None
_creating = threading.Lock()


def _current() -> _Waker:
    """This process's waker; a forked child gets a fresh one (its parent's thread is gone)."""
    global _waker
    waker = _waker
    if waker is not None and waker.pid == os.getpid():
        return waker
    with _creating:
        if _waker is None or _waker.pid != os.getpid():
            _waker = _Waker()
        return _waker


def _after_fork_in_child() -> None:
    # A lock held by another thread at fork time would stay held forever in the child.
    global _creating
    _creating = threading.Lock()


os.register_at_fork(after_in_child=_after_fork_in_child)
atexit.register(flush, EXIT_TIMEOUT)

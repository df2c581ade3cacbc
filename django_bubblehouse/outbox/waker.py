"""Running the post-commit wake-up check off the host's thread.

The check (:func:`.wake.request_drain`: read the drain-request flag, set it and
enqueue a drain if it was clear) must run *after* the commit that wrote outbox
rows, but nothing says the committing thread has to wait for it. So after
commit the host only signals this process's waker, a daemon thread (started on
first use, and again in a forked child, which inherits no threads) that runs
the check on its own database connection.

The invariant that keeps "no wake-up is lost" true: **every commit is followed
by a check that starts after that commit.** A signal sets ``pending`` under the
lock after the commit; the thread clears ``pending`` under the same lock
*before* it starts a check. So whichever check consumes a signal started after
it: if a check is already running when a signal arrives, ``pending`` stays set
and exactly one more check runs afterwards. Before clearing ``pending`` the
thread lets a burst go on for :data:`COALESCE_WINDOW` (cut short by
:func:`flush`): the signals of that window are all consumed by one check that
starts after the last of them, so a busy process pays one check (and one
thread wake-up, which under the GIL costs the host thread about as much as the
check's round trip) per window instead of one per commit. Only the first
signal of a window notifies the thread.

The check runs inline instead when another connection could not see the
commit (:func:`_runs_inline`). At interpreter exit a pending check is run
(bounded by :data:`EXIT_TIMEOUT`), so a short-lived process does not leave its
last commit to the minute sweep.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading

from django.db import close_old_connections, connections, router
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper
from django_q.conf import Conf

from ..models import DrainRequest
from . import wake

logger = logging.getLogger("django_bubblehouse")

EXIT_TIMEOUT = 5.0  # seconds an exiting process waits for its last check
COALESCE_WINDOW = 0.05  # seconds; delays a drain by at most this, next to the broker's polling


def wake_after_commit(using: str) -> None:
    """The on-commit wake-up: signal the waker, or run the check here when it must."""
    if _runs_inline(using):
        wake.request_drain()
        return
    try:
        _current().signal()
    except RuntimeError:  # no new threads once the interpreter is shutting down
        wake.request_drain()


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
        wake.request_drain()
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

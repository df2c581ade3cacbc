"""The wake-up thread: the post-commit check runs off the host's thread, and none is lost."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.conf import settings
from django.db import connection, connections, transaction
from django.db.backends.sqlite3.base import DatabaseWrapper as SQLiteDatabaseWrapper
from django.db.utils import ConnectionHandler
from django.test.utils import CaptureQueriesContext, override_settings
from django_q.conf import Conf

from django_bubblehouse.models import DrainRequest, OutboxEntry
from django_bubblehouse.outbox import wakeup
from tests import shop_factories as shop
from tests.worker_support import WorkerShop

TIMEOUT = 30.0  # an upper bound for flush(), never a wait
ENQUEUE = "django_bubblehouse.outbox.wakeup.enqueue_drain"
DEFAULT = connections["default"]
PRIVATE_MEMORY_DB = isinstance(DEFAULT, SQLiteDatabaseWrapper) and DEFAULT.is_in_memory_db()


@pytest.fixture
def fresh_waker() -> Iterator[None]:
    """A waker of this test's own, as with a real broker (the test settings run django-q2
    in sync mode, where checks run inline); the previous waker is left idle."""
    assert wakeup.flush(TIMEOUT)
    with mock.patch.object(wakeup, "_waker", None), mock.patch.object(Conf, "SYNC", False):
        yield
        assert wakeup.flush(TIMEOUT)


@pytest.fixture
def off_thread(fresh_waker: None) -> Iterator[None]:
    """Every wake-up goes to the waker, whatever the test database is."""
    with mock.patch.object(wakeup, "_runs_inline", return_value=False):
        yield


@pytest.fixture
def checks() -> Iterator[mock.Mock]:
    """Stands in for the flag check, recording the thread each call ran on."""
    with mock.patch("django_bubblehouse.outbox.wakeup.request_drain") as request_drain:
        request_drain.threads = []
        request_drain.side_effect = lambda: request_drain.threads.append(threading.get_ident())
        yield request_drain


# Scenarios on a database other connections can see; they also run in a subprocess on a
# file SQLite database (test_on_a_file_sqlite_database), so they return plain data.


def commit_once() -> int:
    """One host transaction, then the waker's check; the number of drains enqueued."""
    order = shop.order()
    assert wakeup.flush(TIMEOUT)
    DrainRequest.objects.update(requested=False)
    with mock.patch(ENQUEUE) as enqueued:
        with transaction.atomic():
            order.status = "paid"
            order.save()
        assert wakeup.flush(TIMEOUT)
    assert DrainRequest.objects.get().requested
    return enqueued.call_count


def commit_burst(count: int) -> dict[str, Any]:
    """``count`` transactions saving an order, with AUTO_SYNC off then on: the drains
    enqueued and the host thread's statements."""
    order = shop.order()
    assert wakeup.flush(TIMEOUT)
    DrainRequest.objects.update(requested=False)

    def burst() -> list[str]:
        with CaptureQueriesContext(connection) as queries:
            for number in range(count):
                with transaction.atomic():
                    order.store_location = str(number)
                    order.save()
            assert wakeup.flush(TIMEOUT)
        return [query["sql"] for query in queries.captured_queries]

    with mock.patch(ENQUEUE) as enqueued:
        with override_settings(BUBBLEHOUSE={**settings.BUBBLEHOUSE, "AUTO_SYNC": False}):
            without_app = burst()
        with_app = burst()
    return {"enqueued": enqueued.call_count, "without_app": without_app, "with_app": with_app}


def assert_burst(result: dict[str, Any], count: int) -> None:
    assert result["enqueued"] == 1
    with_app, without_app = result["with_app"], result["without_app"]
    assert len(with_app) == len(without_app) + count  # one more statement per transaction:
    assert len([sql for sql in with_app if OutboxEntry._meta.db_table in sql]) == count  # upsert
    assert not [sql for sql in with_app if DrainRequest._meta.db_table in sql]


@pytest.mark.skipif(PRIVATE_MEMORY_DB, reason="another connection cannot see it; see below")
@pytest.mark.django_db(transaction=True)
def test_a_commit_enqueues_one_drain_after_flush(fresh_waker: None) -> None:
    assert commit_once() == 1


@pytest.mark.skipif(PRIVATE_MEMORY_DB, reason="another connection cannot see it; see below")
@pytest.mark.django_db(transaction=True)
def test_a_burst_enqueues_once_and_the_host_never_reads_the_flag(fresh_waker: None) -> None:
    assert_burst(commit_burst(50), 50)


def test_on_a_file_sqlite_database(tmp_path: Path) -> None:
    shop_process = WorkerShop(tmp_path, "http://127.0.0.1:9", {"name": "waker", "orm": "default"})
    output = shop_process.run("""
        import json
        from tests.test_outbox_wakeup_thread import commit_burst, commit_once
        print(json.dumps({"once": commit_once(), "burst": commit_burst(50)}))
    """)
    result = json.loads(output)
    assert result["once"] == 1
    assert_burst(result["burst"], 50)


def test_the_last_commit_of_a_process_is_checked_at_exit(tmp_path: Path) -> None:
    shop_process = WorkerShop(tmp_path, "http://127.0.0.1:9", {"name": "waker", "orm": "default"})
    shop_process.run("""
        import atexit, threading
        from django_bubblehouse.models import DrainRequest
        from django_bubblehouse.outbox import wakeup
        from tests import shop_factories as shop

        exiting = threading.Event()
        check = wakeup.request_drain

        def check_once_exiting():
            assert exiting.wait(60)
            return check()

        wakeup.request_drain = check_once_exiting
        atexit.register(exiting.set)  # runs before the waker's hook: registered after it
        DrainRequest.objects.update(requested=False)
        shop.order()
    """)  # exits right after its commit; only the waker's exit hook waits for the check
    assert shop_process.query("SELECT requested FROM django_bubblehouse_drainrequest") == [(1,)]
    assert shop_process.query("SELECT COUNT(*) FROM django_q_ormq") == [(1,)]


@pytest.mark.usefixtures("off_thread")
def test_a_signal_during_a_check_runs_exactly_one_more(checks: mock.Mock) -> None:
    started, release = threading.Event(), threading.Event()

    def first_blocks() -> None:
        if checks.call_count == 1:
            started.set()
            assert release.wait(TIMEOUT)

    checks.side_effect = first_blocks
    wakeup.wake_after_commit("default")
    assert started.wait(TIMEOUT)
    wakeup.wake_after_commit("default")  # this commit came after the running check started
    wakeup.wake_after_commit("default")
    assert not wakeup.flush(0.01)  # bounded: the first check is still blocked
    release.set()
    assert wakeup.flush(TIMEOUT)
    assert checks.call_count == 2


@pytest.mark.usefixtures("off_thread")
def test_checks_run_on_the_waker_thread(checks: mock.Mock) -> None:
    wakeup.wake_after_commit("default")
    assert wakeup.flush(TIMEOUT)
    assert checks.call_count == 1
    assert checks.threads[0] != threading.get_ident()


@pytest.mark.usefixtures("off_thread")
def test_a_failed_check_is_logged_and_the_next_signal_works(
    checks: mock.Mock, caplog: pytest.LogCaptureFixture
) -> None:
    checks.side_effect = [ConnectionError("database gone"), None]
    with caplog.at_level(logging.ERROR, logger="django_bubblehouse"):
        wakeup.wake_after_commit("default")
        assert wakeup.flush(TIMEOUT)
        assert "wake-up check failed" in caplog.text
        wakeup.wake_after_commit("default")
        assert wakeup.flush(TIMEOUT)
    assert checks.call_count == 2


@pytest.mark.usefixtures("off_thread")
def test_a_forked_process_starts_its_own_thread(checks: mock.Mock) -> None:
    wakeup.wake_after_commit("default")
    assert wakeup.flush(TIMEOUT)
    parent = wakeup._waker
    assert parent is not None
    assert parent.thread is not None
    with mock.patch.object(parent, "pid", parent.pid + 1):  # as if this process were a child
        wakeup.wake_after_commit("default")
        child = wakeup._waker
        assert child is not parent
        assert wakeup.flush(TIMEOUT)
    assert child is not None
    assert child.thread is not None
    assert child.thread is not parent.thread
    assert child.thread.is_alive()
    assert checks.call_count == 2
    assert checks.threads[1] == child.thread.ident


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_waker")
def test_inside_an_atomic_block_the_check_runs_inline(
    checks: mock.Mock, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):  # callbacks run inside the test's
        shop.order()  # transaction, which another connection cannot see
    assert checks.threads == [threading.get_ident()]
    assert wakeup._waker is None


@pytest.mark.django_db
def test_with_django_q_in_sync_mode_the_check_runs_inline(checks: mock.Mock) -> None:
    with mock.patch.object(Conf, "SYNC", True), mock.patch.object(wakeup, "_waker", None):
        wakeup.wake_after_commit("default")
        assert checks.threads == [threading.get_ident()]
        assert wakeup._waker is None


@pytest.mark.parametrize(
    ("name", "inline"),
    [(":memory:", True), ("file:memorydb?mode=memory&cache=shared", True), ("shop.db", False)],
)
def test_in_memory_sqlite_runs_inline(name: str, inline: bool) -> None:
    handler = ConnectionHandler(
        {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": name, "TEST": {}}}
    )
    with mock.patch.object(wakeup, "connections", handler), mock.patch.object(Conf, "SYNC", False):
        assert wakeup._runs_inline("default") is inline

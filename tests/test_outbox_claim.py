"""Claiming a batch: one statement where the database returns updated rows, a read and a
guarded write where it cannot (MySQL, MariaDB), the same rows either way."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_bubblehouse.models import OutboxEntry, OutboxState
from django_bubblehouse.outbox import claim, mark_dirty
from django_bubblehouse.outbox.claim import ClaimedRow, claim_batch
from tests.delivery_support import ORDERS
from tests.testapp.bubblehouse import OrderSerializer
from tests.worker_support import ROOT

FAILED_AT = dt.datetime(2026, 3, 1, 12, 30, 5, 250000, tzinfo=dt.UTC)


@pytest.fixture(params=["one statement", "read, then write"])
def one_statement(request: pytest.FixtureRequest) -> Iterator[bool]:
    """Each test runs with both ways of claiming the backend can do."""
    wanted = request.param == "one statement"
    if wanted and not claim._updates_return_rows(connection):
        pytest.skip("MySQL and MariaDB have no UPDATE ... RETURNING")
    with mock.patch.object(claim, "_updates_return_rows", return_value=wanted):
        yield wanted


@pytest.mark.django_db
def test_claimed_rows_carry_what_their_drain_needs(one_statement: bool) -> None:
    mark_dirty(OrderSerializer, ["7", "8"])
    OutboxEntry.objects.filter(object_key="7").update(
        attempts=2, first_failure_at=FAILED_AT, delete_payload={"id": "7", "deleted": True}
    )
    batch = claim_batch(ORDERS, 10)
    assert batch is not None
    pks = dict(OutboxEntry.objects.values_list("object_key", "pk"))
    assert batch.rows == [
        ClaimedRow(pks["7"], "7", {"id": "7", "deleted": True}, 2, FAILED_AT),
        ClaimedRow(pks["8"], "8", None, 0, None),
    ]
    claimed = OutboxEntry.objects.filter(state=OutboxState.SENDING, generation=batch.token)
    assert claimed.count() == 2
    assert all(row.lease_until and row.lease_until > timezone.now() for row in claimed)


@pytest.mark.django_db
def test_a_claim_takes_the_rows_due_first(one_statement: bool) -> None:
    mark_dirty(OrderSerializer, ["1", "2", "3", "4"])
    now = timezone.now()
    for key, seconds_ago in {"1": 1, "2": 3, "3": 2}.items():
        OutboxEntry.objects.filter(object_key=key).update(
            next_attempt_at=now - dt.timedelta(seconds=seconds_ago)
        )
    OutboxEntry.objects.filter(object_key="4").update(
        next_attempt_at=now + dt.timedelta(seconds=60)  # backing off
    )
    first = claim_batch(ORDERS, 2)
    second = claim_batch(ORDERS, 2)
    assert first is not None
    assert second is not None
    assert (first.keys, second.keys) == (["2", "3"], ["1"])
    assert claim_batch(ORDERS, 2) is None


@pytest.mark.django_db
def test_a_claim_is_one_statement_where_the_database_returns_updated_rows() -> None:
    if not claim._updates_return_rows(connection):
        pytest.skip("MySQL and MariaDB have no UPDATE ... RETURNING")
    mark_dirty(OrderSerializer, ["1", "2", "3"])
    with CaptureQueriesContext(connection) as queries:
        batch = claim_batch(ORDERS, 2)
    assert batch is not None
    assert len(batch.rows) == 2
    assert len(queries.captured_queries) == 1


def on_a_sqlite_file(tmp_path: Path, code: str) -> str:
    """What ``code`` prints, run in a process of its own over a SQLite file with Django's
    default (deferred) transactions and an empty outbox table (``database`` is its path)."""
    if sqlite3.sqlite_version_info < (3, 35):
        pytest.skip("SQLite before 3.35 has no UPDATE ... RETURNING: claims read, then write")
    database = tmp_path / "shop.sqlite3"
    (tmp_path / "claim_settings.py").write_text(
        textwrap.dedent(f"""
            from tests.settings import *  # noqa: F403

            DATABASES = {{"default": {{"ENGINE": "django.db.backends.sqlite3",
                                       "NAME": {str(database)!r}}}}}
        """)
    )
    preamble = textwrap.dedent(f"""
        import django

        django.setup()
        from django.db import connection
        from django_bubblehouse.models import OutboxEntry

        database = {str(database)!r}
        with connection.schema_editor() as editor:
            editor.create_model(OutboxEntry)
    """)
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "claim_settings",
    }
    done = subprocess.run(
        [sys.executable, "-c", preamble + textwrap.dedent(code)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_a_claim_waits_for_another_writer_on_sqlite(tmp_path: Path) -> None:
    """SQLite's default (deferred) transactions: a transaction that has read cannot wait for
    another connection's write lock, it fails at once ("database is locked"); the single
    claiming statement waits for the writer's commit and claims."""
    printed = on_a_sqlite_file(
        tmp_path,
        """
        import sqlite3, threading
        from django_bubblehouse.outbox.claim import claim_batch

        OutboxEntry.objects.create(kind="order", serializer="shop.Orders", object_key="1")
        OutboxEntry.objects.create(kind="order", serializer="shop.Other", object_key="2")
        connection.close()
        writer = sqlite3.connect(database, isolation_level=None)
        writer.execute("BEGIN")
        writer.execute("UPDATE django_bubblehouse_outboxentry SET attempts = 1 WHERE id = 2")
        writing = threading.Event()
        result = []

        def claimer():
            connection.ensure_connection()
            connection.connection.set_trace_callback(
                lambda sql: sql.startswith("UPDATE") and writing.set()
            )
            try:
                batch = claim_batch("shop.Orders", 10)
                result.append(batch.keys if batch else None)
            except Exception as error:
                result.append(repr(error))
                writing.set()
            finally:
                connection.close()

        thread = threading.Thread(target=claimer)
        thread.start()
        assert writing.wait(30)
        # Our commit needs every reader gone: a claim holding a read lock makes it wait.
        writer.execute("COMMIT")
        thread.join(30)
        print(result)
        """,
    )
    assert printed == "[['1']]"


def test_concurrent_claimers_on_sqlite_take_disjoint_batches(tmp_path: Path) -> None:
    """Without row locks or IMMEDIATE transactions: each claim waits for the one before it
    instead of failing with "database is locked"."""
    printed = on_a_sqlite_file(
        tmp_path,
        """
        import json
        from tests.claim_support import claim_concurrently

        OutboxEntry.objects.bulk_create(
            OutboxEntry(kind="order", serializer="shop.Orders", object_key=str(n))
            for n in range(300)
        )
        connection.close()
        print(json.dumps(claim_concurrently("shop.Orders", 3, 7)))
        """,
    )
    claimed: list[list[str]] = json.loads(printed)
    keys = [key for mine in claimed for key in mine]
    assert sorted(keys, key=int) == [str(n) for n in range(300)]  # each row once

"""The outbox upsert and the raw flag read: same rows as before, fewer queries, never
breaking the host's save."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from unittest import mock

import pytest
from django.db import NotSupportedError, connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_bubblehouse.checks.delivery import check_outbox_database
from django_bubblehouse.models import DrainRequest, OutboxEntry, OutboxState
from django_bubblehouse.outbox import mark_dirty, record
from django_bubblehouse.outbox.record import mark_deleted
from django_bubblehouse.outbox.wakeup import STALE_AFTER, request_drain
from tests import shop_factories as shop
from tests.delivery_support import ORDERS, entry, forget_outbox_memo, reset_outbox
from tests.testapp.bubblehouse import OrderSerializer
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db


def test_a_change_resets_the_attempt_budget_and_keeps_the_rest() -> None:
    mark_deleted(OrderSerializer, "7", {"id": "7", "total": Decimal("1.50")})
    later = timezone.now() + timedelta(hours=1)
    OutboxEntry.objects.filter(object_key="7").update(
        kind="customers",
        state=OutboxState.DEAD,
        attempts=5,
        first_failure_at=timezone.now(),
        next_attempt_at=later,
        last_error="boom",
        last_status=503,
    )
    before = entry(7)
    forget_outbox_memo()
    assert mark_dirty(OrderSerializer, ["7", "7"]) == 1
    after = entry(7)
    assert OutboxEntry.objects.count() == 1
    assert (after.kind, after.state, after.attempts, after.first_failure_at) == (
        "orders",
        OutboxState.PENDING,
        0,
        None,
    )
    assert after.generation != before.generation
    assert after.updated_at > before.updated_at
    # Backoff, last error, delete payload and creation time belong to the row, not the change.
    assert (after.next_attempt_at, after.last_error, after.last_status) == (later, "boom", 503)
    assert after.delete_payload == {"id": "7", "total": "1.50"}
    assert after.created_at == before.created_at


def test_a_new_row_is_pending_and_due_now() -> None:
    started = timezone.now()
    mark_dirty(OrderSerializer, ["1"])
    row = entry(1)
    assert (row.state, row.attempts, row.first_failure_at, row.last_error) == (
        OutboxState.PENDING,
        0,
        None,
        "",
    )
    assert (row.delete_payload, row.lease_until, row.sent_at) == (None, None, None)
    assert started <= row.next_attempt_at == row.updated_at == row.created_at


def test_a_delete_is_written_again_with_its_payload() -> None:
    mark_dirty(OrderSerializer, ["3"])
    mark_deleted(OrderSerializer, "3", {"id": "3", "deleted": True})
    assert entry(3).delete_payload == {"id": "3", "deleted": True}


def test_more_keys_than_one_statement_holds() -> None:
    keys = [str(number) for number in range(700)]
    assert mark_dirty(OrderSerializer, [*keys, *keys[:10]]) == 700
    assert OutboxEntry.objects.filter(serializer=ORDERS).count() == 700
    assert len(set(OutboxEntry.objects.values_list("generation", flat=True))) == 700


def test_a_save_adds_one_statement_to_the_transaction() -> None:
    order = shop.order()
    reset_outbox()
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        order.save()
        order.save()
    outbox = [query for query in queries if "bubblehouse_outboxentry" in query["sql"]]
    assert len(outbox) == 1  # on PostgreSQL the savepoint travels in the same statement
    assert entry(order.pk).state == OutboxState.PENDING


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="prepared statements are PostgreSQL's"
)


def forget_prepared() -> None:
    """Make the connection one on which the outbox has prepared nothing yet."""
    with connection.cursor() as cursor:
        cursor.execute("DEALLOCATE ALL")
    record._prepared_on.pop(connection.connection, None)


@pytest.fixture
def prepared_afresh() -> Iterator[None]:
    """Later tests get a connection that prepares again."""
    yield
    forget_prepared()


def outbox_statements(order: Order) -> list[str]:
    """What a later transaction's save of ``order`` sends for the outbox."""
    forget_outbox_memo()
    with CaptureQueriesContext(connection) as queries:
        order.save()
    return [query["sql"] for query in queries if "bubblehouse_outboxentry" in query["sql"]]


@postgresql_only
@pytest.mark.usefixtures("prepared_afresh")
def test_a_save_runs_a_statement_prepared_once_per_connection() -> None:
    order = shop.order()
    forget_prepared()
    (first,) = outbox_statements(order)
    generation = entry(order.pk).generation
    (second,) = outbox_statements(order)
    assert "PREPARE" in first
    assert "PREPARE" not in second
    assert "EXECUTE" in second
    assert entry(order.pk).generation != generation


@postgresql_only
@pytest.mark.usefixtures("prepared_afresh")
@pytest.mark.parametrize("lost", ["dropped", "prepared-by-another-client"])
def test_a_session_that_does_not_keep_prepared_statements_gets_plain_ones(lost: str) -> None:
    order = shop.order()
    outbox_statements(order)
    if lost == "dropped":  # a pooler's DISCARD ALL
        with connection.cursor() as cursor:
            cursor.execute("DEALLOCATE ALL")
    else:  # transaction pooling: another client's session prepared it on this server
        record._prepared_on.pop(connection.connection)
    generation = entry(order.pk).generation

    failed, plain = outbox_statements(order)

    assert "EXECUTE" in failed
    assert "EXECUTE" not in plain
    assert entry(order.pk).generation != generation
    assert ["EXECUTE" in sql for sql in outbox_statements(order)] == [False]


@pytest.fixture(params=[True, False], ids=["one-round-trip", "server-side-binding"])
def binding(request: pytest.FixtureRequest) -> Iterator[None]:
    with mock.patch.object(record, "_binds_client_side", return_value=request.param):
        yield


@pytest.fixture
def outbox_table_missing() -> Iterator[None]:
    quote = connection.ops.quote_name
    table = OutboxEntry._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {quote(table)} RENAME TO {quote(table + '_away')}")
    yield
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {quote(table + '_away')} RENAME TO {quote(table)}")


# Not inside the test's transaction: MySQL commits it implicitly on ALTER TABLE.
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("binding", "outbox_table_missing")
def test_a_failing_outbox_write_does_not_break_the_host_transaction(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.ERROR, logger="django_bubblehouse"), transaction.atomic():
        order = shop.order(status="paid")
        order.status = "shipped"
        order.save()
        # On PostgreSQL an unshielded failure would make every later statement fail.
        assert Order.objects.get(pk=order.pk).status == "shipped"
    assert Order.objects.get(pk=order.pk).status == "shipped"
    assert "could not record a change" in caplog.text


def test_a_flag_set_recently_is_settled_by_one_read() -> None:
    DrainRequest.objects.update(requested=True, requested_at=timezone.now())
    with (
        mock.patch("django_bubblehouse.outbox.wakeup.enqueue_drain") as enqueued,
        CaptureQueriesContext(connection) as queries,
    ):
        assert request_drain() is False
    assert len(queries) == 1
    enqueued.assert_not_called()


@pytest.mark.parametrize(
    ("requested", "age"), [(False, timedelta()), (True, STALE_AFTER + timedelta(seconds=1))]
)
def test_a_clear_or_stale_flag_enqueues(requested: bool, age: timedelta) -> None:
    DrainRequest.objects.update(requested=requested, requested_at=timezone.now() - age)
    with mock.patch("django_bubblehouse.outbox.wakeup.enqueue_drain") as enqueued:
        assert request_drain() is True
    enqueued.assert_called_once()
    assert DrainRequest.objects.get().requested


def test_a_database_without_upserts_is_refused_clearly() -> None:
    features = connections["default"].features
    with (
        mock.patch.object(features, "supports_update_conflicts", False),
        pytest.raises(NotSupportedError, match="E031"),
    ):
        mark_dirty(OrderSerializer, ["1"])


def test_check_outbox_database() -> None:
    assert check_outbox_database(None) == []
    features = connections["default"].features
    with mock.patch.object(features, "supports_update_conflicts", False):
        [error] = check_outbox_database(None)
    assert error.id == "bubblehouse.E031"

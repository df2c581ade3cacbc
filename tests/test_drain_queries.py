"""A drain spends no query on serializers with nothing due."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_bubblehouse import outbox
from django_bubblehouse.models import OutboxEntry, OutboxState, Pause
from django_bubblehouse.outbox.claim import claim_batch, due_counts
from tests import shop_factories as shop
from tests.bubblehouse_overrides import bubblehouse_settings
from tests.delivery_support import ORDERS
from tests.testapp.bubblehouse import CustomerSerializer

pytestmark = pytest.mark.django_db

CUSTOMERS = CustomerSerializer.label()


def due_again() -> None:
    """Every row pending and due, as after a burst of changes."""
    OutboxEntry.objects.update(
        state=OutboxState.PENDING, next_attempt_at=timezone.now() - dt.timedelta(seconds=1)
    )


def drain_queries(batches: int) -> int:
    due_again()
    with CaptureQueriesContext(connection) as queries:
        report = outbox.drain()
    assert (report.batches, report.failed, report.dead) == (batches, 0, 0)
    return len(queries.captured_queries)


def test_serializers_with_nothing_due_cost_no_queries(api: responses.RequestsMock) -> None:
    customer = shop.customer()
    for number in range(6):
        shop.order(customer=customer, number=f"Q{number}")
    OutboxEntry.objects.exclude(serializer=ORDERS).delete()
    registered = list(settings.BUBBLEHOUSE["SERIALIZERS"])
    assert len(registered) == 6  # five of them have nothing due
    with bubblehouse_settings(BATCH_SIZE=2):
        drain_queries(3)  # the first drain ever also creates the drain slots
        among_six = drain_queries(3)
    # Orders and the customers they name (the order serializer needs it), nothing due for it.
    with bubblehouse_settings(BATCH_SIZE=2, SERIALIZERS=[registered[0], registered[1]]):
        assert CustomerSerializer.label() == registered[1]
        among_two = drain_queries(3)
    assert among_six == among_two


def test_due_counts_counts_claimable_rows_up_to_the_limit() -> None:
    customer = shop.customer()
    for number in range(5):
        shop.order(customer=customer, number=f"D{number}")
    due_again()
    with CaptureQueriesContext(connection) as queries:
        counts = due_counts([ORDERS, CUSTOMERS, "gone.Serializer"], 3)
    assert counts == {ORDERS: 3, CUSTOMERS: 1}
    assert len(queries.captured_queries) == 1
    assert claim_batch(ORDERS, 4) is not None  # leased: not claimable
    assert due_counts([ORDERS], 3) == {ORDERS: 1}
    OutboxEntry.objects.filter(serializer=CUSTOMERS).update(
        next_attempt_at=timezone.now() + dt.timedelta(seconds=30)  # backing off
    )
    assert due_counts([CUSTOMERS], 3) == {}
    assert due_counts([], 3) == {}


def test_a_batch_reads_the_pauses_once_before_its_claim_and_the_hold_once_before_it_leaves(
    api: responses.RequestsMock,
) -> None:
    shop.order(customer=shop.customer(), number="P1")
    OutboxEntry.objects.exclude(serializer=ORDERS).delete()
    due_again()
    with CaptureQueriesContext(connection) as queries:
        report = outbox.drain()
    assert (report.batches, report.sent) == (1, 1)
    reads = [query for query in queries.captured_queries if Pause._meta.db_table in query["sql"]]
    assert len(reads) == 2

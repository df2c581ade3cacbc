"""The reconciliation: writes that moved updated_field without a signal are marked dirty."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from django_bubblehouse import tasks
from django_bubblehouse.models import OutboxEntry, ReconcileMark
from django_bubblehouse.reconcile import OVERLAP, reconcile
from django_bubblehouse.sync import disable_sync
from tests import shop_factories as shop
from tests.testapp.bubblehouse import CollectionSerializer, OrderSerializer
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db

ORDERS = OrderSerializer.label()


def pending_orders() -> set[str]:
    rows = OutboxEntry.objects.filter(serializer=ORDERS)
    return set(rows.values_list("object_key", flat=True))


def silent_orders(count: int) -> list[Order]:
    with disable_sync():
        start = Order.objects.count()
        return [shop.order(number=f"R{start + i}") for i in range(count)]


def test_rows_changed_without_a_signal_are_marked_and_signalled_ones_are_not() -> None:
    silent = silent_orders(2)
    signalled = shop.order(number="S1")
    report = reconcile()
    assert pending_orders() == {str(silent[0].pk), str(silent[1].pk), str(signalled.pk)}
    assert report.marked == 2  # the signalled order's row was already written
    assert report.checked >= 3


def test_only_the_window_since_the_watermark_is_read() -> None:
    reconcile()  # first run: sets the watermark
    old = silent_orders(1)[0]
    Order.objects.filter(pk=old.pk).update(updated_at=timezone.now() - 3 * OVERLAP)
    fresh = silent_orders(1)[0]
    report = reconcile()
    assert pending_orders() == {str(fresh.pk)}
    assert report.checked == 1


def test_the_watermark_is_kept_per_serializer_with_an_updated_field() -> None:
    until = timezone.now()
    reconcile(now=until)
    marks = dict(ReconcileMark.objects.values_list("serializer", "reconciled_until"))
    assert marks[ORDERS] == until
    assert CollectionSerializer.label() not in marks  # no updated_field: nothing to reconcile
    reconcile(now=until - dt.timedelta(minutes=1))  # a late, overlapping run
    assert ReconcileMark.objects.get(serializer=ORDERS).reconciled_until == until


def test_the_cost_does_not_grow_with_the_rows_changed() -> None:
    reconcile()
    costs = []
    for count in (2, 40):
        silent_orders(count)
        with CaptureQueriesContext(connection) as queries:
            marked = reconcile().marked
        assert marked == count
        costs.append(len(queries))
    assert costs[0] == costs[1]


def test_the_task_reports_what_it_did() -> None:
    silent_orders(1)
    assert tasks.reconcile_task()["marked"] == 1

"""Sweep, prune and manual retry."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
from django.utils import timezone

from django_bubblehouse import outbox, tasks
from django_bubblehouse.models import DrainRequest, OutboxEntry, OutboxState
from django_bubblehouse.outbox.claim import claim_batch
from tests import shop_factories as shop
from tests.delivery_support import ORDERS, answer, entry, pushed_ids

pytestmark = pytest.mark.django_db


def test_sweep_recovers_a_lost_wake_up(api: responses.RequestsMock) -> None:
    # The order committed but its enqueue was lost: no callback ran, the flag is stuck set.
    order = shop.order(customer=shop.customer())
    DrainRequest.objects.update(requested=True, requested_at=timezone.now())
    result = tasks.sweep_task()
    assert pushed_ids(api) == [str(order.pk)]
    assert result["sent"] == 2  # the order and its customer
    assert not DrainRequest.objects.get().requested


def test_sweep_releases_a_row_stuck_in_sending(api: responses.RequestsMock) -> None:
    order = shop.order(customer=shop.customer())
    batch = claim_batch(ORDERS, 10)  # a worker claimed, then died
    assert batch is not None
    assert entry(order.pk).state == OutboxState.SENDING
    tasks.sweep_task()
    assert pushed_ids(api) == []  # the lease still runs
    OutboxEntry.objects.filter(pk__in=batch.pks).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    tasks.sweep_task()
    # A push cut off by its worker's death counts as a transient failure: backoff, attempt 1.
    row = entry(order.pk)
    assert (row.state, row.attempts) == (OutboxState.PENDING, 1)
    assert "cut off" in row.last_error
    OutboxEntry.objects.update(next_attempt_at=timezone.now())
    tasks.sweep_task()
    assert pushed_ids(api) == [str(order.pk)]
    assert entry(order.pk).state == OutboxState.SENT


def test_leased_rows_are_not_claimed_twice() -> None:
    shop.order(customer=shop.customer())
    assert claim_batch(ORDERS, 10) is not None
    assert claim_batch(ORDERS, 10) is None


def test_prune_keeps_failures_and_recent_rows(api: responses.RequestsMock) -> None:
    customer = shop.customer()
    old, recent = (
        shop.order(number="OLD", customer=customer),
        shop.order(number="NEW", customer=customer),
    )
    failed = shop.order(number="BAD", customer=customer)
    outbox.drain()
    assert entry(old.pk).state == OutboxState.SENT
    OutboxEntry.objects.filter(object_key=str(failed.pk), serializer=ORDERS).update(
        state=OutboxState.FAILED
    )
    eight_days_ago = timezone.now() - dt.timedelta(days=8)
    OutboxEntry.objects.filter(
        object_key__in=[str(old.pk), str(failed.pk)], serializer=ORDERS
    ).update(updated_at=eight_days_ago, sent_at=eight_days_ago)
    assert tasks.prune_task() >= 1
    remaining = set(
        OutboxEntry.objects.filter(serializer=ORDERS).values_list("object_key", flat=True)
    )
    assert remaining == {str(recent.pk), str(failed.pk)}


def test_retry_sends_failed_rows_again(
    api: responses.RequestsMock, django_capture_on_commit_callbacks: object
) -> None:
    order = shop.order(customer=shop.customer())
    answer(api, "UpdateOrders4", 422, json={"id": "invalid", "message": "nope"})
    outbox.drain()
    assert entry(order.pk).state == OutboxState.FAILED
    answer(api, "UpdateOrders4", 200, json={"ok": True})
    with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
        assert outbox.retry_entries(OutboxEntry.objects.filter(serializer=ORDERS)) == 1
    row = entry(order.pk)
    assert (row.state, row.attempts) == (OutboxState.SENT, 0)

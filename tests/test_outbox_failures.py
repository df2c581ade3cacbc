"""record_failures and resolve_failures: pushes made outside the drain, in the drain's terms."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
from django.utils import timezone

from django_bubblehouse import outbox
from django_bubblehouse.exceptions import (
    BubblehouseAPIError,
    ConfigurationAPIError,
    RejectedAPIError,
    SerializationError,
    TransientAPIError,
)
from django_bubblehouse.models import OutboxEntry, OutboxState, Pause
from django_bubblehouse.outbox.failures import failed_generations, record_failures, resolve_failures
from tests import shop_factories as shop
from tests.bubblehouse_overrides import bubblehouse_settings
from tests.delivery_support import entry, pushed_ids, reset_outbox
from tests.testapp.bubblehouse import OrderSerializer
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db

CALL = "UpdateOrders4"


def saved_order() -> Order:
    order = shop.order([(None, 1, "10.00", "0")], customer=shop.customer())
    reset_outbox()
    return order


def record(order: Order, error: BaseException) -> OutboxEntry:
    record_failures(OrderSerializer, {str(order.pk): error})
    return entry(order.pk)


def test_transient_error_is_left_pending_with_backoff_and_the_drain_retries_it(
    api: responses.RequestsMock,
) -> None:
    order = saved_order()
    before = timezone.now()
    error = TransientAPIError("try later", call=CALL, status=503, retry_after=30)

    row = record(order, error)

    assert (row.state, row.attempts, row.last_status) == (OutboxState.PENDING, 1, 503)
    assert "try later" in row.last_error
    assert row.first_failure_at is not None
    assert row.next_attempt_at >= before + dt.timedelta(seconds=30)  # Retry-After is a floor
    outbox.drain()
    assert pushed_ids(api) == []  # not due yet

    # A 503 with Retry-After also held the whole shop back; end both waits.
    assert Pause.objects.get(scope=Pause.THROTTLE).probe_at >= before + dt.timedelta(seconds=30)
    OutboxEntry.objects.update(next_attempt_at=timezone.now())
    Pause.objects.update(probe_at=timezone.now())
    outbox.drain()
    assert pushed_ids(api) == [str(order.pk)]
    assert entry(order.pk).state == OutboxState.SENT


def test_transient_error_follows_the_attempt_cap() -> None:
    order = saved_order()
    with bubblehouse_settings(MAX_ATTEMPTS=1):
        row = record(order, TransientAPIError("down", call=CALL, status=502))
    assert row.state == OutboxState.DEAD


def test_untyped_retryable_api_error_is_transient() -> None:
    order = saved_order()
    error = BubblehouseAPIError("rate limited", call=CALL, status=429)
    error.retryable = True
    row = record(order, error)
    assert (row.state, row.attempts, row.last_status) == (OutboxState.PENDING, 1, 429)


def test_rejection_fails_with_status_error_id_and_message() -> None:
    order = saved_order()
    error = RejectedAPIError("customer is required", call=CALL, status=400, error_id="invalid")

    row = record(order, error)

    assert (row.state, row.last_status, row.last_error_id) == (OutboxState.FAILED, 400, "invalid")
    assert "customer is required" in row.last_error
    assert row.attempts == 1


def test_serialization_error_fails_naming_the_field() -> None:
    order = saved_order()
    error = SerializationError(
        "no mapping", serializer="OrderSerializer", model="testapp.Order", pk=1, field="status"
    )

    row = record(order, error)

    assert (row.state, row.last_status) == (OutboxState.FAILED, None)
    assert row.last_error_id == "SerializationError"
    assert "field status: no mapping" in row.last_error


def test_configuration_error_stays_pending_without_spending_an_attempt() -> None:
    order = saved_order()
    error = ConfigurationAPIError("bad token", call=CALL, status=401, error_id="invalid_token")

    row = record(order, error)

    assert (row.state, row.attempts, row.last_error_id) == (
        OutboxState.PENDING,
        0,
        "invalid_token",
    )
    assert row.next_attempt_at <= timezone.now()


def test_recording_starts_a_fresh_change_that_a_later_save_overrides() -> None:
    order = saved_order()
    dead = record(order, TransientAPIError("down", call=CALL, status=502))
    OutboxEntry.objects.update(state=OutboxState.DEAD, attempts=11)

    row = record(order, RejectedAPIError("bad", call=CALL, status=422))
    assert (row.state, row.attempts) == (OutboxState.FAILED, 1)
    assert row.generation != dead.generation

    order.save()  # same transaction: the failure must not hide the change
    assert entry(order.pk).state == OutboxState.PENDING


def test_resolve_marks_only_unchanged_failed_rows_sent() -> None:
    resolved, changed, pending = saved_order(), saved_order(), saved_order()
    for order in (resolved, changed):
        record(order, RejectedAPIError("bad", call=CALL, status=400, error_id="invalid"))
    outbox.mark_dirty(OrderSerializer, [str(pending.pk)])
    keys = [str(order.pk) for order in (resolved, changed, pending)]
    generations = failed_generations(OrderSerializer, keys)
    assert sorted(generations) == sorted(keys[:2])

    changed.save()  # a newer change since the snapshot: it still has to be pushed

    assert resolve_failures(OrderSerializer, generations, keys) == 1
    row = entry(resolved.pk)
    assert (row.state, row.last_status, row.last_error_id, row.last_error) == (
        OutboxState.SENT,
        200,
        "",
        "",
    )
    assert row.sent_at is not None
    assert entry(changed.pk).state == OutboxState.PENDING
    assert entry(pending.pk).state == OutboxState.PENDING


def test_resolve_ignores_keys_that_were_not_sent() -> None:
    order = saved_order()
    record(order, RejectedAPIError("bad", call=CALL, status=400))
    generations = failed_generations(OrderSerializer, [str(order.pk)])
    assert resolve_failures(OrderSerializer, generations, []) == 0
    assert entry(order.pk).state == OutboxState.FAILED

"""A flaky database is transient: rows stay pending with backoff, never failed."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
import responses
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from django_bubblehouse import outbox
from django_bubblehouse.exceptions import SerializationError
from django_bubblehouse.models import OutboxEntry, OutboxState
from django_bubblehouse.outbox.failures import record_failures
from django_bubblehouse.serializers import Serializer
from tests import shop_factories as shop
from tests.delivery_support import entry

pytestmark = pytest.mark.django_db
drain_module = importlib.import_module("django_bubblehouse.outbox.drain")


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("database is locked"),
        OperationalError("server closed the connection unexpectedly"),
        InterfaceError("connection already closed"),
    ],
)
def test_a_database_error_while_building_a_batch_leaves_it_pending_with_backoff(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    order = shop.order(customer=shop.customer())

    def broken(self: Serializer, keys: Any) -> Any:
        raise error

    monkeypatch.setattr(Serializer, "serialize_keys", broken)
    before = timezone.now()
    report = outbox.drain()
    assert report.stopped == "defer"  # the first one stops the drain
    row = entry(order.pk)
    assert (row.state, row.attempts, row.lease_until) == (OutboxState.PENDING, 0, None)
    assert row.last_error_id == type(error).__name__
    assert str(error) in row.last_error
    assert row.next_attempt_at >= before
    assert len(api.calls) == 0
    assert not OutboxEntry.objects.filter(state__in=[OutboxState.FAILED, OutboxState.DEAD])


def test_a_database_error_while_claiming_stops_the_drain_and_loses_nothing(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = shop.order(customer=shop.customer())

    def locked(*args: Any) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr(drain_module, "claim_batch", locked)
    report = outbox.drain()
    assert (report.stopped, report.batches) == ("defer", 0)
    assert entry(order.pk).state == OutboxState.PENDING
    monkeypatch.undo()
    OutboxEntry.objects.update(next_attempt_at=timezone.now())
    outbox.drain()
    assert entry(order.pk).state == OutboxState.SENT


def test_a_bug_in_host_code_still_fails_the_batch(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    order = shop.order(customer=shop.customer())

    def buggy(self: Serializer, keys: Any) -> Any:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(Serializer, "serialize_keys", buggy)
    outbox.drain()
    row = entry(order.pk)
    assert (row.state, row.last_error_id) == (OutboxState.FAILED, "ZeroDivisionError")


def test_database_errors_recorded_outside_the_drain_stay_pending() -> None:
    from tests.testapp.bubblehouse import OrderSerializer

    order = shop.order(customer=shop.customer())
    record_failures(OrderSerializer, {str(order.pk): OperationalError("locked")})
    assert entry(order.pk).state == OutboxState.PENDING
    record_failures(
        OrderSerializer,
        {
            str(order.pk): SerializationError(
                "bad", serializer="s", model="testapp.Order", pk=order.pk
            )
        },
    )
    assert entry(order.pk).state == OutboxState.FAILED

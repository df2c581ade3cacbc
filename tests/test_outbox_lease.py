"""Leases: a live drain's heartbeat keeps its batch; a dead drain's batch is free in seconds."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import time
from typing import Any
from unittest import mock

import pytest
import responses
from django.db import connection
from django.utils import timezone

from django_bubblehouse import outbox
from django_bubblehouse.models import OutboxEntry, OutboxState
from django_bubblehouse.outbox.claim import claim_batch
from django_bubblehouse.outbox.lease import LeaseWatch, lease_seconds, release_stuck
from tests import shop_factories as shop
from tests.bubblehouse_overrides import bubblehouse_settings
from tests.delivery_support import API, ORDERS, entry

drain_module = importlib.import_module("django_bubblehouse.outbox.drain")


def in_memory() -> bool:
    return connection.vendor == "sqlite" and bool(connection.is_in_memory_db())  # type: ignore[attr-defined]


@pytest.mark.django_db(transaction=True)
def test_a_slow_push_keeps_its_lease_through_heartbeats(api: responses.RequestsMock) -> None:
    if in_memory():
        pytest.skip("another connection cannot see an in-memory database's rows")
    renewed: list[dt.datetime] = []

    def slow(request: Any) -> tuple[int, dict[str, str], str]:
        claimed = OutboxEntry.objects.get(serializer=ORDERS).lease_until
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # wait for the heartbeat, bounded
            current = OutboxEntry.objects.get(serializer=ORDERS).lease_until
            if current is not None and claimed is not None and current > claimed:
                renewed.append(current)
                break
            time.sleep(0.1)
        return 200, {}, json.dumps({"ok": True})

    api.remove(responses.POST, API + "UpdateOrders4")
    api.add_callback(responses.POST, API + "UpdateOrders4", slow)
    with bubblehouse_settings(SENDING_LEASE=6):  # a beat every 2 s
        order = shop.order(customer=shop.customer())  # its commit runs a drain (sync mode)
    assert renewed, "the lease was never renewed while the push was in flight"
    assert entry(order.pk).state == OutboxState.SENT


@pytest.mark.django_db
def test_a_dead_drains_lease_is_an_event_a_live_one_is_not() -> None:
    shop.order(customer=shop.customer())
    batch = claim_batch(ORDERS, 10)
    assert batch is not None
    watch = LeaseWatch()
    now = timezone.now()
    lease = dt.timedelta(seconds=lease_seconds())
    # Just claimed: unknown yet; look again once it would have been renewed.
    first = watch.next_event(now)
    assert first is not None
    assert first < now + lease
    # Renewed since: alive, no event.
    OutboxEntry.objects.update(lease_until=timezone.now() + lease + dt.timedelta(seconds=1))
    assert watch.next_event(timezone.now()) is None


@pytest.mark.django_db
def test_a_lease_that_missed_its_beats_is_waited_for_until_it_expires() -> None:
    shop.order(customer=shop.customer())
    assert claim_batch(ORDERS, 10) is not None
    until = timezone.now() + dt.timedelta(seconds=2)
    OutboxEntry.objects.filter(state=OutboxState.SENDING).update(lease_until=until)
    assert LeaseWatch().next_event(timezone.now()) == until


@pytest.mark.django_db
def test_a_patient_drain_takes_a_dead_drains_batch_when_its_lease_expires(
    api: responses.RequestsMock,
) -> None:
    order = shop.order(customer=shop.customer())
    assert claim_batch(ORDERS, 10) is not None  # its drain was killed a while ago
    OutboxEntry.objects.filter(state=OutboxState.SENDING).update(
        lease_until=timezone.now() + dt.timedelta(seconds=0.5)
    )
    with bubblehouse_settings(BACKOFF_BASE=0.1, BACKOFF_CAP=0.1):
        report = outbox.drain(patient=True, budget=5)
    assert entry(order.pk).state == OutboxState.SENT, report
    assert entry(order.pk).attempts == 1  # the cut-off push counted
    assert report.stopped == "empty"


@pytest.mark.django_db
def test_a_drain_looks_for_a_dead_drains_rows_once_a_beat_not_every_round(
    api: responses.RequestsMock,
) -> None:
    customer = shop.customer()
    for number in range(6):
        shop.order(customer=customer, number=f"S{number}")
    OutboxEntry.objects.exclude(serializer=ORDERS).delete()
    with (
        bubblehouse_settings(BATCH_SIZE=2, SENDING_LEASE=600),  # a beat: 200 s
        mock.patch.object(drain_module, "release_stuck", wraps=release_stuck) as released,
    ):
        report = outbox.drain()
    assert (report.batches, report.sent) == (3, 6)
    assert released.call_count == 1  # four rounds: three batches, then none left

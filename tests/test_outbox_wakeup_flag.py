"""The wake-up flag: one enqueue per burst of commits, and never a lost one."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest
from django.db import transaction
from django.utils import timezone

from django_bubblehouse.models import DrainRequest, OutboxEntry
from django_bubblehouse.outbox.wakeup import drain_started, request_drain
from tests import shop_factories as shop

pytestmark = pytest.mark.django_db


@pytest.fixture
def enqueued_drains() -> Any:
    """Counts enqueues; the drains themselves never run (a busy or slow worker)."""
    with mock.patch("django_bubblehouse.outbox.wakeup.enqueue_drain") as enqueue:
        yield enqueue


def test_a_burst_of_commits_enqueues_one_drain(
    enqueued_drains: mock.Mock, django_capture_on_commit_callbacks: Any
) -> None:
    customer = shop.customer()
    for number in range(1000):
        with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            shop.order(customer=customer, number=f"X{number}")
    assert OutboxEntry.objects.count() == 1001
    assert enqueued_drains.call_count == 1


def test_a_commit_after_the_drain_started_enqueues_again(
    enqueued_drains: mock.Mock, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        order = shop.order()
    drain_started()  # the drain may already have claimed: this commit needs another one
    with django_capture_on_commit_callbacks(execute=True):
        order.save()
    with django_capture_on_commit_callbacks(execute=True):
        order.save()
    assert enqueued_drains.call_count == 2


def test_one_wake_up_per_transaction(django_capture_on_commit_callbacks: Any) -> None:
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        customer = shop.customer()
        for number in range(20):
            shop.order(customer=customer, number=f"Y{number}")
    assert len(callbacks) == 1


def test_a_stale_request_is_enqueued_again(enqueued_drains: mock.Mock) -> None:
    DrainRequest.objects.update(
        requested=True, requested_at=timezone.now() - dt.timedelta(minutes=5)
    )
    assert request_drain()
    assert not request_drain()
    assert enqueued_drains.call_count == 1


def test_a_failed_enqueue_leaves_the_flag_clear(enqueued_drains: mock.Mock) -> None:
    enqueued_drains.side_effect = ConnectionError("broker down")
    assert not request_drain()
    assert not DrainRequest.objects.get().requested
    enqueued_drains.side_effect = None
    assert request_drain()

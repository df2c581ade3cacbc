"""A drain never outlives its task: a time budget, a follow-up drain, cut-off pushes counted."""

from __future__ import annotations

import datetime as dt
import importlib
from typing import Any

import pytest
import responses
from django.utils import timezone

from django_bubblehouse import outbox
from django_bubblehouse.models import OutboxEntry, OutboxState
from django_bubblehouse.outbox.claim import claim_batch
from django_bubblehouse.outbox.drain import SERIALIZATION_ALLOWANCE, UNBOUNDED_BUDGET, task_budget
from django_bubblehouse.outbox.lease import release_stuck
from tests import shop_factories as shop
from tests.bubblehouse_overrides import bubblehouse_settings
from tests.delivery_support import ORDERS, entry

drain_module = importlib.import_module("django_bubblehouse.outbox.drain")
pytestmark = pytest.mark.django_db


def orders(count: int) -> list[Any]:
    customer = shop.customer()
    return [shop.order(customer=customer, number=f"B{n}") for n in range(count)]


def test_the_budget_leaves_one_request_and_serialization_free() -> None:
    with bubblehouse_settings(TIMEOUT=(5, 30)):
        assert task_budget(60) == 60 - 35 - SERIALIZATION_ALLOWANCE
        assert task_budget(None) == UNBOUNDED_BUDGET  # never killed, still ends
        assert task_budget(20) == 0


def test_a_spent_budget_stops_claiming_and_requests_a_follow_up(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders(3)
    follow_ups: list[bool] = []

    def request_drain() -> bool:
        follow_ups.append(True)
        return True

    monkeypatch.setattr(drain_module, "request_drain", request_drain)
    with bubblehouse_settings(BATCH_SIZE=1):
        report = outbox.drain(budget=0)
    assert len(api.calls) == 1  # a drain always sends its first batch, then checks the clock
    assert (report.stopped, report.follow_up, follow_ups) == ("budget", True, [True])
    assert OutboxEntry.objects.filter(state=OutboxState.PENDING).count() == 3  # + the customer


def test_no_follow_up_when_nothing_is_left(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders(1)
    monkeypatch.setattr(drain_module, "request_drain", lambda: pytest.fail("no follow-up"))
    report = outbox.drain(budget=60)
    assert (report.sent, report.stopped, report.follow_up) == (2, "empty", False)


def test_a_cut_off_push_counts_an_attempt_and_backs_off(api: responses.RequestsMock) -> None:
    [order] = orders(1)
    batch = claim_batch(ORDERS, 10)  # the task was killed mid-push
    assert batch is not None
    OutboxEntry.objects.filter(pk__in=batch.pks).update(
        lease_until=timezone.now() - dt.timedelta(seconds=1)
    )
    before = timezone.now()
    assert release_stuck() == 1
    row = entry(order.pk)
    assert (row.state, row.attempts, row.lease_until) == (OutboxState.PENDING, 1, None)
    assert row.first_failure_at is not None
    assert row.next_attempt_at >= before
    assert "cut off" in row.last_error


def test_a_batch_always_cut_off_dead_letters(api: responses.RequestsMock) -> None:
    [order] = orders(1)
    with bubblehouse_settings(MAX_ATTEMPTS=2):
        for _ in range(2):
            OutboxEntry.objects.update(next_attempt_at=timezone.now())
            batch = claim_batch(ORDERS, 10)
            assert batch is not None
            OutboxEntry.objects.filter(pk__in=batch.pks).update(
                lease_until=timezone.now() - dt.timedelta(seconds=1)
            )
            release_stuck()
    row = entry(order.pk)
    assert (row.state, row.attempts) == (OutboxState.DEAD, 2)

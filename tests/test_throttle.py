"""A 429 (or a 503 with Retry-After) holds back every request of the shop, and spends no attempt."""

from __future__ import annotations

import datetime as dt

import pytest
import responses
from django.utils import timezone

from django_bubblehouse import outbox, throttle
from django_bubblehouse.exceptions import RateLimitedAPIError
from django_bubblehouse.models import OutboxEntry, OutboxState, Pause
from django_bubblehouse.outbox.failures import record_failures
from django_bubblehouse.outbox.maintenance import sweep
from tests import shop_factories as shop
from tests.bubblehouse_overrides import bubblehouse_settings
from tests.delivery_support import CALLS, answer, entry
from tests.testapp.bubblehouse import CustomerSerializer

pytestmark = pytest.mark.django_db

LIMITED = {"json": {"id": "rate_limit_exceeded"}, "headers": {"Retry-After": "120"}}


def hold_ends_now() -> None:
    Pause.objects.filter(scope=Pause.THROTTLE).update(probe_at=timezone.now())
    OutboxEntry.objects.update(next_attempt_at=timezone.now())


def test_a_429_holds_every_kind_and_sends_nothing_until_retry_after(
    api: responses.RequestsMock,
) -> None:
    order = shop.order(customer=shop.customer())
    shop.product()
    for call in CALLS:
        answer(api, call, 429, **LIMITED)
    before = timezone.now()
    report = outbox.drain()
    assert len(api.calls) == 1  # the first 429 stops the drain: no other kind is tried
    assert report.stopped == "throttle"
    hold = Pause.objects.get(scope=Pause.THROTTLE)
    assert hold.status == 429
    assert hold.probe_at >= before + dt.timedelta(seconds=120)
    assert "rate_limit_exceeded" in hold.reason

    # Every row is due (a retry by hand, a new change): still nothing leaves.
    OutboxEntry.objects.update(next_attempt_at=timezone.now())
    outbox.drain()
    outbox.drain()
    assert len(api.calls) == 1
    row = entry(order.pk)
    assert (row.state, row.attempts, row.first_failure_at) == (OutboxState.PENDING, 0, None)

    for call in CALLS:
        answer(api, call, 200, json={"ok": True})
    hold_ends_now()
    outbox.drain()
    assert OutboxEntry.objects.exclude(state=OutboxState.SENT).count() == 0


def test_rate_limits_never_dead_letter(api: responses.RequestsMock) -> None:
    order = shop.order(customer=shop.customer())
    answer(api, "UpdateOrders4", 429, **LIMITED)
    answer(api, "UpdateCustomers3", 429, **LIMITED)
    with bubblehouse_settings(MAX_ATTEMPTS=2):
        for _ in range(5):
            hold_ends_now()
            outbox.drain()
    assert len(api.calls) == 5
    row = entry(order.pk)
    assert (row.state, row.attempts) == (OutboxState.PENDING, 0)


def test_a_503_with_retry_after_holds_the_shop_and_spends_an_attempt(
    api: responses.RequestsMock,
) -> None:
    order = shop.order(customer=shop.customer())
    answer(api, "UpdateOrders4", 503, json={"id": "maintenance"}, headers={"Retry-After": "60"})
    answer(api, "UpdateCustomers3", 503, json={"id": "maintenance"}, headers={"Retry-After": "60"})
    before = timezone.now()
    outbox.drain()
    assert len(api.calls) == 1
    assert Pause.objects.get(scope=Pause.THROTTLE).probe_at >= before + dt.timedelta(seconds=60)
    row = entry(order.pk)  # an outage, not a rate limit: it counts towards dead-lettering
    assert (row.state, row.attempts) == (OutboxState.PENDING, 1)
    assert row.next_attempt_at >= before + dt.timedelta(seconds=60)


def test_a_503_without_retry_after_holds_only_its_rows(api: responses.RequestsMock) -> None:
    shop.order(customer=shop.customer())
    answer(api, "UpdateOrders4", 503, json={"id": "unavailable"})
    outbox.drain()
    assert not Pause.objects.filter(scope=Pause.THROTTLE).exists()


def test_a_429_without_retry_after_holds_for_a_growing_backoff() -> None:
    error = RateLimitedAPIError("slow down", call="UpdateOrders4", status=429)
    with bubblehouse_settings(BACKOFF_BASE=2.0, BACKOFF_CAP=60.0):
        first = throttle.hold(error)
        assert first - timezone.now() <= dt.timedelta(seconds=2)
        Pause.objects.filter(scope=Pause.THROTTLE).update(
            since=timezone.now() - dt.timedelta(seconds=20), probe_at=timezone.now()
        )
        second = throttle.hold(error)  # still limited 20 s later: hold about 20 s more
    assert second - timezone.now() >= dt.timedelta(seconds=19)


def test_a_hold_is_never_shortened_by_another_worker() -> None:
    long = RateLimitedAPIError("slow", call="UpdateOrders4", status=429, retry_after=100)
    short = RateLimitedAPIError("slow", call="UpdateOrders4", status=429, retry_after=1)
    until = throttle.hold(long)
    throttle.hold(short)
    assert Pause.objects.get(scope=Pause.THROTTLE).probe_at == until


def test_a_backfill_waits_the_hold_out(monkeypatch: pytest.MonkeyPatch) -> None:
    slept: list[float] = []
    monkeypatch.setattr("django_bubblehouse.throttle.time.sleep", slept.append)
    throttle.hold(RateLimitedAPIError("slow", call="UpdateOrders4", status=429, retry_after=30))
    throttle.wait_out()
    assert len(slept) == 1
    assert 29 <= slept[0] <= 30


def test_held_back_pushes_outside_the_drain_stay_pending() -> None:
    customer = shop.customer()
    throttle.hold(RateLimitedAPIError("slow", call="UpdateCustomers3", status=429, retry_after=30))
    with pytest.raises(RateLimitedAPIError, match="held back") as held:
        throttle.check("UpdateCustomers3")
    record_failures(CustomerSerializer, {str(customer.pk): held.value})
    row = entry(customer.pk, CustomerSerializer.label())
    assert (row.state, row.attempts) == (OutboxState.PENDING, 0)
    assert row.next_attempt_at >= timezone.now() + dt.timedelta(seconds=25)


def test_an_ended_hold_is_forgotten_by_the_sweep() -> None:
    throttle.hold(RateLimitedAPIError("slow", call="UpdateOrders4", status=429, retry_after=1))
    with bubblehouse_settings(BACKOFF_CAP=10.0):
        Pause.objects.update(probe_at=timezone.now() - dt.timedelta(seconds=11))
        sweep()
    assert not Pause.objects.exists()

"""--concurrency: requests in flight while the next batch is prepared; outcomes in batch order."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import responses
from django.core.management import CommandError

from django_bubblehouse.models import BackfillRange, OutboxEntry
from tests.backfill_support import BASE_URL, backfill, make_orders

pytestmark = pytest.mark.django_db

URL = f"{BASE_URL}/api/v2023061/testshop/UpdateOrders4"
DEADLINE = 10.0  # bound on waiting for the other requests to arrive


class Gathering:
    """Holds each request until ``size`` requests are in flight at once (or the deadline)."""

    def __init__(
        self,
        size: int,
        answers: dict[int, tuple[int, dict[str, Any]]] | None = None,
        deadline: float = DEADLINE,
    ) -> None:
        self.barrier = threading.Barrier(size, timeout=deadline)
        self.answers = answers or {}
        self.lock = threading.Lock()
        self.arrived: list[list[str]] = []
        self.gathered = 0

    def __call__(self, request: Any) -> tuple[int, dict[str, str], str]:
        with self.lock:
            number = len(self.arrived)
            self.arrived.append([order["id"] for order in json.loads(request.body)["orders"]])
        if number < self.barrier.parties:
            self.barrier.wait()  # BrokenBarrierError if fewer requests are ever in flight
            with self.lock:
                self.gathered += 1
        status, body = self.answers.get(number, (200, {"ok": True}))
        return status, {}, json.dumps(body)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def test_requests_overlap_up_to_the_concurrency(api: responses.RequestsMock) -> None:
    orders = make_orders(8)
    gathering = Gathering(4)
    api.add_callback(responses.POST, URL, gathering)

    backfill("orders", batch_size=2, concurrency=4, no_progress=True)

    assert gathering.gathered == 4  # four requests were in flight together
    assert sorted(key for batch in gathering.arrived for key in batch) == sorted(
        str(order.pk) for order in orders
    )
    [backfill_range] = BackfillRange.objects.all()
    assert (backfill_range.sent, backfill_range.cursor) == (8, str(orders[-1].pk))


def test_one_request_in_flight_by_default(api: responses.RequestsMock) -> None:
    make_orders(4)
    api.add_callback(responses.POST, URL, Gathering(2, deadline=0.5))

    # Two requests never meet: the second one waits for the first one's outcome.
    with pytest.raises(threading.BrokenBarrierError):
        backfill("orders", batch_size=2, no_progress=True)


def test_outcomes_are_recorded_in_batch_order(api: responses.RequestsMock) -> None:
    orders = make_orders(6)
    rejected = (422, {"ok": False, "id": "invalid_order", "message": "no"})
    api.add_callback(responses.POST, URL, Gathering(3, answers={1: rejected}))

    with pytest.raises(CommandError, match="2 object"):
        backfill("orders", batch_size=2, concurrency=3, no_progress=True)

    [backfill_range] = BackfillRange.objects.all()
    assert (backfill_range.sent, backfill_range.failed) == (4, 2)
    assert backfill_range.cursor == str(orders[-1].pk)
    assert OutboxEntry.objects.count() == 2  # the rejected batch, whichever arrived second


def test_configuration_error_keeps_the_cursor_before_its_batch(
    api: responses.RequestsMock,
) -> None:
    orders = make_orders(6)
    refused = (401, {"ok": False, "id": "invalid_token", "message": "bad token"})
    api.add_callback(responses.POST, URL, lambda request: (refused[0], {}, json.dumps(refused[1])))

    with pytest.raises(CommandError, match="invalid_token"):
        backfill("orders", batch_size=2, concurrency=3, no_progress=True)

    [backfill_range] = BackfillRange.objects.all()
    assert backfill_range.cursor is None  # the first batch failed: nothing is done
    assert backfill_range.sent == 0
    assert len(orders) == 6


def test_a_429_holds_the_next_requests_until_retry_after(api: responses.RequestsMock) -> None:
    make_orders(4)
    sent_at: list[float] = []

    def throttled(request: Any) -> tuple[int, dict[str, str], str]:
        sent_at.append(time.monotonic())
        if len(sent_at) == 1:
            return 429, {"Retry-After": "0.3"}, json.dumps({"ok": False, "message": "slow down"})
        return 200, {}, json.dumps({"ok": True})

    api.add_callback(responses.POST, URL, throttled)

    with pytest.raises(CommandError, match="1 object"):
        backfill("orders", batch_size=1, concurrency=2, no_progress=True)

    assert len(sent_at) == 4
    # Requests already in flight when the 429 came are not held; every later one is.
    assert sent_at[-1] - sent_at[0] >= 0.3
    [backfill_range] = BackfillRange.objects.all()
    assert (backfill_range.sent, backfill_range.failed) == (3, 1)

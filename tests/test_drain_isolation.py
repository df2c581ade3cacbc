"""One rejected object never fails its batch-mates: a rejected batch is split until it is found."""

from __future__ import annotations

import importlib
import json
import math
from typing import Any

import pytest
import responses

from django_bubblehouse import outbox
from django_bubblehouse.models import OutboxEntry, OutboxState
from tests import shop_factories as shop
from tests.bubblehouse_overrides import bubblehouse_settings, with_serializers
from tests.delivery_support import API, ORDERS, entry
from tests.testapp.bubblehouse import EligibleDealerSerializer
from tests.testapp.models import Dealer

pytestmark = pytest.mark.django_db


def rejecting(bad: set[str], listing: str, requests: list[list[str]]) -> Any:
    """An API that refuses every request carrying one of the ``bad`` ids, like Bubblehouse."""

    def answer(request: Any) -> tuple[int, dict[str, str], str]:
        ids = [str(item["id"]) for item in json.loads(request.body)[listing]]
        requests.append(ids)
        if bad & set(ids):
            body = {"id": "invalid_request", "message": "items[0].quantity: must be positive"}
            return 400, {}, json.dumps(body)
        return 200, {}, json.dumps({"ok": True})

    return answer


def rejecting_orders(api: responses.RequestsMock, bad: set[str]) -> list[list[str]]:
    """Orders with these ids are refused; returns the ids of every request, as it is made."""
    requests: list[list[str]] = []
    api.remove(responses.POST, API + "UpdateOrders4")
    api.add_callback(responses.POST, API + "UpdateOrders4", rejecting(bad, "orders", requests))
    return requests


def test_one_bad_order_among_100_fails_alone_in_a_bounded_number_of_requests(
    api: responses.RequestsMock,
) -> None:
    customer = shop.customer()
    orders = [shop.order(customer=customer, number=f"N{n}") for n in range(100)]
    bad = str(orders[37].pk)
    requests = rejecting_orders(api, {bad})
    with with_serializers(ORDERS, "tests.testapp.bubblehouse.CustomerSerializer"):
        report = outbox.drain()

    worst = 1 + 2 * math.ceil(math.log2(100))
    assert len(requests) <= worst == 15
    print(f"isolating 1 bad order among 100: {len(requests)} requests (bound {worst})")
    failed = entry(bad)
    assert failed.state == OutboxState.FAILED
    assert (failed.last_status, failed.last_error_id) == (400, "invalid_request")
    assert "must be positive" in failed.last_error
    others = OutboxEntry.objects.filter(serializer=ORDERS).exclude(object_key=bad)
    assert set(others.values_list("state", flat=True)) == {OutboxState.SENT}
    assert report.failed == 1
    # Every good order was delivered exactly once: accepted halves are never sent again.
    accepted = [key for ids in requests if bad not in ids for key in ids]
    assert sorted(accepted) == sorted(str(o.pk) for o in orders if str(o.pk) != bad)


def test_a_stale_bhid_in_an_atomic_secondary_set_request_fails_only_its_row(
    api: responses.RequestsMock,
) -> None:
    dealers = [
        Dealer.objects.create(code=f"D{n}", name=f"Dealer {n}", spring_campaign=True)
        for n in range(100)
    ]
    Dealer.objects.filter(pk=dealers[5].pk).update(bhid="stale-bhid")
    requests: list[list[str]] = []
    api.remove(responses.POST, API + "UpdateEntities1")
    api.add_callback(
        responses.POST, API + "UpdateEntities1", rejecting({"D5"}, "entities", requests)
    )
    label = EligibleDealerSerializer.label()
    with with_serializers(label):
        OutboxEntry.objects.exclude(serializer=label).delete()
        outbox.drain()
    assert entry(dealers[5].pk, label).state == OutboxState.FAILED
    assert OutboxEntry.objects.filter(serializer=label, state=OutboxState.SENT).count() == 99
    assert len(requests) <= 15


def test_isolation_stops_when_the_budget_is_spent_and_the_next_drain_goes_on(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    drain_module = importlib.import_module("django_bubblehouse.outbox.drain")
    monkeypatch.setattr(drain_module, "request_drain", lambda: False)  # no inline follow-up
    customer = shop.customer()
    orders = [shop.order(customer=customer, number=f"N{n}") for n in range(8)]
    bad = str(orders[0].pk)
    requests = rejecting_orders(api, {bad})
    with with_serializers(ORDERS, "tests.testapp.bubblehouse.CustomerSerializer"):
        outbox.drain(budget=0)  # one request, then no budget left to split
        assert len(requests) == 1
        rows = OutboxEntry.objects.filter(serializer=ORDERS)
        assert set(rows.values_list("state", flat=True)) == {OutboxState.PENDING}
        assert set(rows.values_list("attempts", flat=True)) == {0}
        outbox.drain()
    assert entry(bad).state == OutboxState.FAILED
    assert OutboxEntry.objects.filter(serializer=ORDERS, state=OutboxState.SENT).count() == 7


def test_a_single_rejected_object_is_not_sent_twice(api: responses.RequestsMock) -> None:
    order = shop.order(customer=shop.customer())
    requests = rejecting_orders(api, {str(order.pk)})
    with bubblehouse_settings():
        outbox.drain()
        outbox.drain()
    assert len(requests) == 1  # a 4xx is final: the same request is never retried

"""Shared pieces of the delivery tests: a mocked Order API and outbox readers."""

from __future__ import annotations

import json
from typing import Any

import responses

from django_bubblehouse.models import OutboxEntry
from tests.testapp.bubblehouse import OrderSerializer

API = "https://bubblehouse.test/api/v2023061/testshop/"
CALLS = ("UpdateOrders4", "UpdateCustomers3", "UpdateProducts3", "UpdateEntities1")
ORDERS = OrderSerializer.label()


def answer(mock: responses.RequestsMock, call: str, status: int, **kwargs: Any) -> None:
    mock.replace(responses.POST, API + call, status=status, **kwargs)


def bodies(mock: responses.RequestsMock, call: str = "UpdateOrders4") -> list[dict[str, Any]]:
    return [
        json.loads(c.request.body or b"{}")
        for c in mock.calls
        if c.request.url and c.request.url.endswith(call)
    ]


def pushed_ids(mock: responses.RequestsMock, call: str = "UpdateOrders4") -> list[str]:
    key = {"UpdateOrders4": "orders", "UpdateCustomers3": "customers"}.get(call, "products")
    return [item["id"] for body in bodies(mock, call) for item in body[key]]


def entry(key: object, label: str = ORDERS) -> OutboxEntry:
    return OutboxEntry.objects.get(serializer=label, object_key=str(key))


def reset_outbox() -> None:
    """Empty the outbox as if the test's transaction had committed and drained.

    A test runs inside one transaction, where repeated saves of an object are
    (rightly) written once; this makes the next save write again.
    """
    OutboxEntry.objects.all().delete()
    forget_outbox_memo()


def forget_outbox_memo() -> None:
    """Make the next save in this (test) transaction write its outbox row again."""
    from django.db import connection

    from django_bubblehouse.outbox.record import _live_wakes

    for wake in _live_wakes(connection):
        wake.written.clear()

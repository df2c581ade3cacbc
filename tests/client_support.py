"""Shared pieces of the client tests: a client on its own settings and a mocked API."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
import responses
from django.test import override_settings

from django_bubblehouse.client import BubblehouseClient
from django_bubblehouse.conf import get_settings
from django_bubblehouse.exceptions import BubblehouseAPIError

SECRET = "bXktdmVyeS1vd24tc2hhcmVkLXNlY3JldC0zMi1ieXRlcyE="
BASE = "https://api.bubblehouse.test/api/v2023061/acme"
ORDERS_URL = f"{BASE}/UpdateOrders4"
CONFIG: dict[str, Any] = {
    "SHOP": "acme",
    "KID": "kid-7",
    "SHARED_SECRET": SECRET,
    "API_HOST": "api.bubblehouse.test",
    "TIMEOUT": (3, 17),
    "TOKEN_TTL": 240,
}
ORDER = {"id": "1001", "customer": {"id": "c1"}, "amount_spent": Decimal("12.50")}


def make_client(**changes: Any) -> BubblehouseClient:
    with override_settings(BUBBLEHOUSE={**CONFIG, **changes}):
        return BubblehouseClient(get_settings())


def sent_body(api: responses.RequestsMock, index: int = -1) -> Any:
    body = api.calls[index].request.body
    assert body is not None
    return json.loads(body)


def bearer(api: responses.RequestsMock, index: int = -1) -> str:
    return api.calls[index].request.headers["Authorization"].removeprefix("Bearer ")


def raised(api: responses.RequestsMock, call: Any, **response: Any) -> BubblehouseAPIError:
    api.post(ORDERS_URL, **response)
    with pytest.raises(BubblehouseAPIError) as caught:
        call()
    return caught.value

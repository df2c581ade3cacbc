"""The worker's log tells the truth: what failed and why, dead as dead, the host, no secrets."""

from __future__ import annotations

import logging
from decimal import Decimal

import pytest
import requests
import responses

from django_bubblehouse import outbox
from django_bubblehouse.auth import mint_shop_token
from django_bubblehouse.conf import get_settings
from django_bubblehouse.fields import IdField, MethodField, MoneyField
from django_bubblehouse.models import OutboxEntry, OutboxState
from tests import shop_factories as shop
from tests.bubblehouse_overrides import bubblehouse_settings, with_serializers
from tests.delivery_support import API, answer
from tests.testapp import bubblehouse as test_shop
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.INFO, logger="django_bubblehouse")
    return caplog


def warnings(log: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in log.records if r.levelno >= logging.WARNING]


def test_an_object_that_fails_to_serialize_is_logged_with_serializer_object_and_field(
    api: responses.RequestsMock, log: pytest.LogCaptureFixture
) -> None:
    order = shop.order(customer=shop.customer(), status="on_hold")  # not in ORDER_STATUS_MAP
    outbox.drain()
    [line] = [m for m in warnings(log) if "could not serialize" in m]
    assert f"could not serialize {test_shop.__name__}.OrderSerializer on testapp.Order" in line
    assert line.count(f"pk={order.pk}") == 1  # the error names the object; once is enough
    assert "field status" in line
    assert "'on_hold'" in line
    [record] = [r for r in log.records if "could not serialize" in r.getMessage()]
    assert record.exc_info is None  # the app's own finding: no traceback to read


class OrdersWithABug(test_shop.OrderSerializer):
    amount_full = MethodField(MoneyField())

    def get_amount_full(self, order: Order) -> Decimal:
        raise ValueError("no price list for this order")


def test_a_bug_in_a_method_field_is_logged_with_its_traceback(
    api: responses.RequestsMock, log: pytest.LogCaptureFixture
) -> None:
    with with_serializers(f"{__name__}.OrdersWithABug", f"{test_shop.__name__}.CustomerSerializer"):
        shop.order(customer=shop.customer())
        outbox.drain()
    [record] = [r for r in log.records if "could not serialize" in r.getMessage()]
    assert "field amount_full: ValueError: no price list for this order" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)
    assert "in get_amount_full" in logging.Formatter().formatException(record.exc_info)


def test_a_rejected_object_is_logged_with_bubblehouses_reason(
    api: responses.RequestsMock, log: pytest.LogCaptureFixture
) -> None:
    order = shop.order(customer=shop.customer())
    answer(api, "UpdateOrders4", 400, json={"id": "invalid_request", "message": "bad amount"})
    outbox.drain()
    [line] = [m for m in warnings(log) if "rejected" in m]
    assert f"object {order.pk}" in line
    assert "HTTP 400 invalid_request: bad amount" in line


class OrdersByNumber(test_shop.OrderSerializer):
    id = IdField(source="number")


def test_a_rejected_object_is_named_by_its_bubblehouse_id(
    api: responses.RequestsMock, log: pytest.LogCaptureFixture
) -> None:
    with with_serializers(f"{__name__}.OrdersByNumber", f"{test_shop.__name__}.CustomerSerializer"):
        order = shop.order(customer=shop.customer(), number="N-7001")
        answer(api, "UpdateOrders4", 400, json={"id": "invalid_request", "message": "bad amount"})
        outbox.drain()
    [line] = [m for m in warnings(log) if "rejected" in m]
    assert f"object N-7001 (pk {order.pk})" in line


def test_a_dead_lettered_row_is_logged_as_dead_not_as_retried(
    api: responses.RequestsMock, log: pytest.LogCaptureFixture
) -> None:
    shop.order(customer=shop.customer())
    answer(api, "UpdateOrders4", 503, json={"id": "unavailable"})
    with bubblehouse_settings(MAX_ATTEMPTS=1):
        outbox.drain()
    orders = [m for m in warnings(log) if "orders" in m]
    assert any("are dead" in m for m in orders)
    assert not any("will be retried" in m for m in orders)


def test_a_connection_failure_names_the_host_and_never_a_token(
    api: responses.RequestsMock, log: pytest.LogCaptureFixture
) -> None:
    shop.order(customer=shop.customer())
    api.replace(
        responses.POST, API + "UpdateOrders4", body=requests.ConnectionError("Connection refused")
    )
    outbox.drain()
    [line] = [m for m in warnings(log) if "will be retried" in m and "UpdateOrders4" in m]
    assert "connection to bubblehouse.test failed: Connection refused" in line
    token = mint_shop_token(get_settings())
    secret = get_settings().keys[0].secret
    assert token.split(".")[0] not in log.text  # not even the JWT header's prefix
    assert secret not in log.text
    # Left for a retry, one attempt spent (its jittered delay may be close to zero).
    [row] = OutboxEntry.objects.filter(kind="orders")
    assert (row.state, row.attempts, row.last_status) == (OutboxState.PENDING, 1, None)

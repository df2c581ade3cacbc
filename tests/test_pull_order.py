import json
from typing import Any

import pytest
from django.test import override_settings

from tests.bubblehouse_overrides import with_serializers
from tests.pull_support import make_order, pull
from tests.testapp import bubblehouse
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db


class PaidOrdersOnly(bubblehouse.OrderSerializer):
    def should_sync(self, order: Any) -> bool:
        return bool(order.status != "pending")


def only_paid_orders() -> override_settings:
    paths = [f"{__name__}.PaidOrdersOnly", "tests.testapp.bubblehouse.CustomerSerializer"]
    return with_serializers(*paths)


def url(key: object) -> str:
    return f"/bubblehouse/orders/{key}/"


def assert_not_found(response: Any) -> None:
    assert response.status_code == 404
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response.content) == {"id": "not_found", "message": "no such order"}


def test_known_order_is_its_order2_payload(client):
    make_order("A0")
    order = make_order("A1", lines=2)
    response = pull(client, url(order.pk))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    payload = json.loads(response.content)
    assert payload == bubblehouse.OrderSerializer().serialize(Order.objects.get(pk=order.pk))
    assert payload["id"] == str(order.pk)
    assert payload["amount_spent"] == "43.50"


def test_guest_order(client):
    order = make_order("G1", guest=True)
    payload = json.loads(pull(client, url(order.pk)).content)
    assert payload["customer"] == {"email": "guest-G1@example.com"}


def test_key_is_read_as_the_primary_key_spells_it(client):
    order = make_order("A1")
    response = pull(client, url(f"00{order.pk}"))
    assert json.loads(response.content)["id"] == str(order.pk)


@pytest.mark.parametrize("key", ["999", "abc", "1.5", "-", "9" * 30])
def test_unknown_order(client, key):
    make_order("A1")
    assert_not_found(pull(client, url(key)))


def test_order_that_should_not_sync_is_not_found(client):
    pending = make_order("P1", status="pending")
    paid = make_order("A1", status="paid")
    with only_paid_orders():
        assert_not_found(pull(client, url(pending.pk)))
        assert pull(client, url(paid.pk)).status_code == 200


def test_order_that_cannot_be_serialized_is_a_500_naming_the_field(client, caplog):
    order = make_order("H1", status="on_hold")
    response = pull(client, url(order.pk))
    assert response.status_code == 500
    body = json.loads(response.content)
    assert body["id"] == "serialization_error"
    assert "on_hold" in body["message"]
    assert "status" in body["message"]
    assert f"pull order {order.pk}" in caplog.text


def test_no_order_serializer_registered(client):
    order = make_order("A1")
    with with_serializers("tests.testapp.bubblehouse.CustomerSerializer"):
        assert_not_found(pull(client, url(order.pk)))

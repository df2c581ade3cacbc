"""One identity per object: the order number is what every user-facing surface speaks,
and a batch of the framework shop's serializers costs the same queries at any size."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from django_bubblehouse.exceptions import SerializationError
from django_bubblehouse.fields import MethodField
from django_bubblehouse.serializers import Serializer
from django_bubblehouse.testing.emulator import EmulatorState
from tests.backfill_support import backfill
from tests.bubblehouse_overrides import with_serializers
from tests.framework_shop import bubblehouse as fw
from tests.framework_shop.models import Order, Product
from tests.framework_support import (
    FRAMEWORK_SERIALIZERS,
    category,
    link,
    order,
    parent_with_variants,
    quietly,
)
from tests.pull_support import pull

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("framework_shop")]


class ComputedId(fw.OrderSerializer):
    id = MethodField()  # type: ignore[assignment]

    def get_id(self, placed: Order) -> str:
        return f"WEB-{placed.number}"


def orders(count: int) -> list[Order]:
    users = [User.objects.create_user(f"u{i}", email=f"u{i}@example.com") for i in range(3)]
    tee, mug = parent_with_variants("Tee"), Product.objects.create(title="Mug")
    shirts = category()
    link(tee, shirts)
    link(mug, shirts)
    link(mug, category("Mugs", parent=shirts))
    tee_variant = tee.children.first()
    assert tee_variant is not None
    return [
        order(f"10{i:04d}", user=users[i % 3], products=(tee_variant, mug), voucher="V")
        for i in range(count)
    ]


def test_bubblehouse_id_and_keys_for_ids_speak_the_order_number() -> None:
    first, second = quietly(lambda: orders(2))
    serializer = fw.OrderSerializer()
    assert serializer.bubblehouse_id(first) == "100000"
    assert serializer.keys_for_ids(["100001", "nope", "100000"]) == {
        "100001": str(second.pk),
        "100000": str(first.pk),
    }


def test_a_computed_id_cannot_be_looked_up_and_says_what_to_do() -> None:
    assert ComputedId.id_lookup() is None
    with pytest.raises(ImproperlyConfigured, match=r"override id_lookup\(\)"):
        ComputedId().keys_for_ids(["WEB-1"])


def test_errors_name_the_order_number_first() -> None:
    [placed] = quietly(lambda: orders(1))
    Order.objects.filter(pk=placed.pk).update(status="On hold")
    with pytest.raises(SerializationError) as caught:
        fw.OrderSerializer().serialize(Order.objects.get(pk=placed.pk))
    assert f"on framework_shop.Order id='100000' (pk={placed.pk}), field status" in str(
        caught.value
    )


def test_backfill_ids_are_order_numbers(emulator: EmulatorState) -> None:
    quietly(lambda: orders(3))
    backfill("orders", ids=["100002,100000"], no_progress=True)
    sent = [o["id"] for call in emulator.calls("UpdateOrders4") for o in call.body["orders"]]
    assert sorted(sent) == ["100000", "100002"]


def test_the_single_order_pull_url_takes_the_order_number(client: Client) -> None:
    [placed] = quietly(lambda: orders(1))
    response = pull(client, "/bubblehouse/orders/100000/")
    assert response.status_code == 200
    assert response.json()["id"] == "100000"
    assert pull(client, f"/bubblehouse/orders/{placed.pk}/").status_code == 404


def test_a_computed_id_without_a_lookup_is_an_api_shaped_500(client: Client) -> None:
    quietly(lambda: orders(1))
    paths = [f"{__name__}.ComputedId", *FRAMEWORK_SERIALIZERS[1:]]
    with with_serializers(*paths):
        response = pull(client, "/bubblehouse/orders/WEB-100000/")
    assert response.status_code == 500
    assert response.json()["id"] == "configuration_error"
    assert "override id_lookup()" in response.json()["message"]


@pytest.mark.parametrize(
    "serializer",
    [fw.OrderSerializer, fw.ProductSerializer, fw.CustomerSerializer, fw.CategorySerializer],
)
def test_a_batch_costs_the_same_queries_at_any_size(serializer: type[Serializer]) -> None:
    quietly(lambda: orders(30))
    pks = [str(pk) for pk in serializer().get_queryset().values_list("pk", flat=True)]
    assert len(pks) >= 2
    counts = []
    for size in (1, len(pks)):
        with CaptureQueriesContext(connection) as queries:
            result = serializer().serialize_keys(pks[:size])
        assert not result.errors
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    # Orders: orders+users (a join), discounts, lines joined with their products and those
    # products' parents, the parents' categories, the standalone products' categories.
    # Products: products, categories, stock records, children, the children's stock records.
    expected = {"orders": 5, "products": 5, "customers": 1, "collections": 1}
    assert counts[0] == expected[serializer.kind.value]


def test_line_amounts_are_decimal_strings() -> None:
    [placed] = quietly(lambda: orders(1))
    items = fw.OrderSerializer().serialize(placed)["items"]
    assert [item["amount_spent"] for item in items] == [str(Decimal("24.00"))] * 2


def test_a_feed_reports_a_broken_order_by_its_number(client: Client) -> None:
    first, second = quietly(lambda: orders(2))
    Order.objects.filter(pk=second.pk).update(status="On hold")
    page = pull(client, "/bubblehouse/orders.json").json()
    assert [item["id"] for item in page["items"]] == [first.number]
    assert [error["key"] for error in page["errors"]] == [second.number]

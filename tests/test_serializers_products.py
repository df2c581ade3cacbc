"""Products (with variants and collection ids), collections, and the send() mapping."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from django_bubblehouse.kinds import Kind
from django_bubblehouse.serializers import send
from django_bubblehouse.validation import validate
from tests import shop_factories as make
from tests.testapp.bubblehouse import (
    CollectionSerializer,
    CustomerSerializer,
    DealerSerializer,
    OrderSerializer,
    ProductSerializer,
)
from tests.testapp.models import Collection, Product, Variant

pytestmark = pytest.mark.django_db


def test_product_payload_with_variants_and_collection_ids() -> None:
    summer, sale = (Collection.objects.create(title=t, slug=t.lower()) for t in ("Summer", "Sale"))
    shoe = make.product("Supershoe", [summer, sale], sku="P123", active=False)
    red = Variant.objects.create(product=shoe, title="Red", price=Decimal("19.90"), stock=3)
    free = Variant.objects.create(product=shoe, title="Sample", price=Decimal("0"), stock=0)
    blue = Variant.objects.create(product=shoe, title="Blue", sku="B", price=Decimal("19.90"))

    payload = ProductSerializer().serialize(ProductSerializer().get_queryset().get(pk=shoe.pk))

    stamp = {"created_at": payload["created_at"], "updated_at": payload["updated_at"]}
    assert payload == {
        "id": str(shoe.pk),
        "title": "Supershoe",
        "slug": "supershoe",
        "sku": "P123",
        "inactive": True,
        **stamp,
        "collection_ids": [str(summer.pk), str(sale.pk)],
        "variants": [
            {
                "id": str(red.pk),
                "title": "Red",
                "price": "19.90",
                "price_known": True,
                "in_stock": True,
            },
            {
                "id": str(free.pk),
                "title": "Sample",
                "price": "0.00",
                "price_known": True,
                "in_stock": False,
            },
            {
                "id": str(blue.pk),
                "title": "Blue",
                "sku": "B",
                "price": "19.90",
                "price_known": True,
            },
        ],
    }
    assert validate(Kind.PRODUCTS, payload) == []


def test_active_product_says_inactive_false() -> None:
    assert ProductSerializer().serialize(make.product())["inactive"] is False


def test_deleted_product_and_collection() -> None:
    shoe = make.product()
    summer = Collection.objects.create(title="Summer", slug="summer")
    assert ProductSerializer().serialize_deleted(shoe) == {"id": str(shoe.pk), "deleted": True}
    assert CollectionSerializer().serialize_deleted(summer) == {
        "id": str(summer.pk),
        "deleted": True,
    }


def test_collection_payload() -> None:
    summer = Collection.objects.create(title="Summer", slug="summer")
    payload = CollectionSerializer().serialize(summer)
    assert payload == {"id": str(summer.pk), "title": "Summer", "slug": "summer"}
    assert validate(Kind.COLLECTIONS, payload) == []


def test_untitled_product_fails_validation_with_its_field() -> None:
    shoe = Product.objects.create(title="", slug="x")
    with pytest.raises(Exception, match=r"field title: is required") as caught:
        ProductSerializer().serialize(shoe)
    assert caught.value.field == "title"  # type: ignore[attr-defined]


class RecordingClient:
    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: self.calls.append((name, args, kwargs))


P = [{"id": "1"}]


@pytest.mark.parametrize(
    ("serializer", "replace", "expected"),
    [
        (OrderSerializer, False, ("update_orders", (P,), {})),
        (CustomerSerializer, False, ("update_customers", (P,), {})),
        (
            ProductSerializer,
            True,
            ("update_products", (), {"products": P, "replace_products": True}),
        ),
        (
            CollectionSerializer,
            False,
            ("update_products", (), {"collections": P, "replace_collections": False}),
        ),
        (DealerSerializer, True, ("update_entities", ("authorized-dealers", P), {"replace": True})),
    ],
)
def test_send_maps_each_kind_to_its_call(serializer: Any, replace: bool, expected: Any) -> None:
    client = RecordingClient()
    send(serializer, client, P, replace=replace)  # type: ignore[arg-type]
    assert client.calls == [expected]


def test_orders_and_customers_have_no_replace_mode() -> None:
    with pytest.raises(ValueError, match="UpdateOrders4 has no replace mode"):
        send(OrderSerializer, RecordingClient(), P, replace=True)  # type: ignore[arg-type]

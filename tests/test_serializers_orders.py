"""Orders: golden payloads, guests, line filtering, statuses, deletes and error messages."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest

from django_bubblehouse import serializers
from django_bubblehouse.exceptions import SerializationError
from django_bubblehouse.fields import Field, IdField, ListField, MethodField, StringField
from django_bubblehouse.kinds import Kind
from django_bubblehouse.validation import validate
from tests import shop_factories as make
from tests.bubblehouse_overrides import bubblehouse_settings, with_serializers
from tests.testapp.bubblehouse import LineSerializer, OrderSerializer, ProductSerializer
from tests.testapp.models import Collection, Order, OrderLine

pytestmark = pytest.mark.django_db
LABEL = "tests.testapp.bubblehouse.OrderSerializer"


class SeedProduct(ProductSerializer):
    """The seed's ids are SKUs and slugs; the test shop's are primary keys."""

    id = IdField(source="sku")
    collection_ids = ListField(IdField(source="slug"), source="collections")


class SeedLine(LineSerializer):
    product_serializer = SeedProduct
    id = MethodField()

    def get_id(self, line: OrderLine) -> str:
        return f"xyz{line.pk}"


def test_typical_order_item_matches_the_seed() -> None:
    collections = [Collection.objects.create(title=s, slug=s) for s in ("C42", "C1")]
    shoe = make.product("Supershoe", collections, sku="P123")
    row = make.order()
    line = OrderLine.objects.create(
        pk=101, order=row, product=shoe, quantity=2, unit_price=Decimal("6.00"), discount=4
    )
    assert SeedLine().to_representation(line) == {
        "id": "xyz101",
        "product": {"id": "P123", "title": "Supershoe", "collection_ids": ["C42", "C1"]},
        "quantity": 2,
        "amount_full": "12.00",
        "amount_spent": "8.00",
    }


def test_order_carries_full_customer_product_lines_codes_and_amounts() -> None:
    buyer = make.customer(phone="+44 1", loyalty_tier="gold", internal_notes="VIP, rude")
    summer = Collection.objects.create(title="Summer", slug="summer")
    shoe, ebook = make.product("Shoe", [summer]), make.product("E-book")
    row = make.order(
        [(shoe, 2, "6.00", "1.00"), (ebook, 1, "9.99", "0")],
        customer=buyer,
        codes=["SPRING", "FRIEND-7"],
        shipping_total=Decimal("4.50"),
        tax_total=Decimal("2.00"),
        store_location="LDN-1",
    )
    make.line(row, "discount", "3.00")
    make.line(row, "shipping", "4.50")
    make.line(row, "tax", "2.00")
    OrderLine.objects.filter(product=ebook).update(digital=True)
    shoe_line, ebook_line = row.lines.filter(kind="product").order_by("pk")

    payload = OrderSerializer().serialize(Order.objects.get(pk=row.pk))

    assert payload == {
        "id": str(row.pk),
        "status": "confirmed",
        "customer": {
            "id": str(buyer.pk),
            "email": "ada@example.com",
            "first_name": "Ada",
            "last_name": "Lovelace",
            "phone": "+44 1",
            "extras": {"loyalty_tier": "gold"},
        },
        "items": [
            {
                "id": str(shoe_line.pk),
                "product": {
                    "id": str(shoe.pk),
                    "title": "Shoe",
                    "collection_ids": [str(summer.pk)],
                },
                "quantity": 2,
                "amount_full": "12.00",
                "amount_spent": "11.00",
            },
            {
                "id": str(ebook_line.pk),
                "product": {"id": str(ebook.pk), "title": "E-book", "collection_ids": []},
                "quantity": 1,
                "amount_full": "9.99",
                "amount_spent": "9.99",
                "is_unfulfillable": True,
            },
        ],
        "order_time": "2026-03-02T14:05:11Z",
        "update_time": payload["update_time"],
        "discount_codes": ["SPRING", "FRIEND-7"],
        "amount_full": "28.49",  # 12.00 + 9.99 + 4.50 shipping + 2.00 tax
        "amount_spent": "24.49",  # 11.00 + 9.99 - 3.00 order discount + 4.50 + 2.00
        "amount_taxes": "2.00",
        "amount_shipping": "4.50",
        "store_location": "LDN-1",
    }
    assert payload["update_time"].endswith("Z")
    assert validate(Kind.ORDERS, payload) == []


def test_guest_order_identifies_the_customer_by_email_and_names() -> None:
    row = make.order(guest_email="guest@example.com", guest_first_name="Grace")
    payload = OrderSerializer().serialize(row)
    assert payload["customer"] == {"email": "guest@example.com", "first_name": "Grace"}


def test_order_without_customer_or_guest_email_names_everything() -> None:
    row = make.order()
    with pytest.raises(SerializationError) as caught:
        OrderSerializer().serialize(row)
    assert str(caught.value) == (
        f"{LABEL} on testapp.Order pk={row.pk}, field customer: "
        "the order has no customer and no guest email to identify one (set "
        "guest_customer_fields, or override customer_fallback())"
    )


def test_unmapped_status_names_the_status_and_the_setting() -> None:
    row = make.order(customer=make.customer(), status="on_hold")
    with pytest.raises(SerializationError) as caught:
        OrderSerializer().serialize(row)
    error = caught.value
    assert (error.serializer, error.model, error.pk, error.field) == (
        LABEL,
        "testapp.Order",
        row.pk,
        "status",
    )
    assert "order status 'on_hold' is not in BUBBLEHOUSE[\"ORDER_STATUS_MAP\"]" in str(error)


class FloatLine(LineSerializer):
    def get_amount_full(self, line: OrderLine) -> Any:
        return float(line.unit_price) if line.quantity == 3 else line.unit_price


class FloatOrder(OrderSerializer):
    line_serializer = FloatLine


def test_a_float_amount_is_an_error_at_its_item_path() -> None:
    shoe = make.product()
    row = make.order([(shoe, 1, "1.00", "0"), (shoe, 2, "1.00", "0"), (shoe, 3, "1.10", "0")])
    row.customer = make.customer()
    make.line(row, "discount", "1.00")  # filtered out: does not shift the index
    with pytest.raises(SerializationError) as caught:
        FloatOrder().serialize(row)
    assert caught.value.field == "items[2].amount_full"
    assert str(caught.value).startswith(
        f"tests.test_serializers_orders.FloatOrder on testapp.Order pk={row.pk}, "
        "field items[2].amount_full: money must be a Decimal, got float 1.1"
    )


class NoSpentLine(serializers.OrderItemSerializer):
    product = MethodField()
    quantity = Field()
    amount_full = MethodField()

    def get_product(self, line: OrderLine) -> dict[str, str]:
        return {"id": str(line.product_id)}

    def get_amount_full(self, line: OrderLine) -> str:
        return "1.00"


class IncompleteOrder(serializers.OrderSerializer):
    model = Order
    line_serializer = NoSpentLine
    id = Field(source="pk")


def test_payload_validation_failures_name_every_path() -> None:
    row = make.order([(make.product(), 1, "1.00", "0")], customer=make.customer())
    with pytest.raises(SerializationError) as caught:
        IncompleteOrder().serialize(row)
    assert caught.value.field == "id"
    assert caught.value.reason == (
        f"must be a non-empty string id, got int {row.pk} (ids are always strings: send str(pk)) "
        "(and 1 more: items[0].amount_spent: is required)"
    )


def test_a_line_whose_product_was_deleted_is_still_sent() -> None:
    shoe = make.product("Old shoe")
    row = make.order([(shoe, 1, "5.00", "0")], customer=make.customer())
    shoe.delete()
    items = OrderSerializer().serialize(Order.objects.get(pk=row.pk))["items"]
    assert items[0]["product"] == {"id": "deleted:Old shoe", "title": "Old shoe"}


def test_deleted_order_is_canceled_with_the_customer_identity() -> None:
    buyer = make.customer()
    row = make.order(customer=buyer)
    guest = make.order(guest_email="guest@example.com")
    serializer = OrderSerializer()
    assert serializer.serialize_deleted(row) == {
        "id": str(row.pk),
        "customer": {"id": str(buyer.pk), "email": buyer.email},
        "status": "canceled",
    }
    assert serializer.serialize_deleted(guest)["customer"] == {"email": "guest@example.com"}


def test_deleted_order_is_deleted_only_when_allowed() -> None:
    row = make.order(guest_email="guest@example.com")
    with bubblehouse_settings(ALLOW_ORDER_DELETE=True):
        payload = OrderSerializer().serialize_deleted(row)
    assert payload == {
        "id": str(row.pk),
        "customer": {"email": "guest@example.com"},
        "deleted": True,
    }


class CancelledAreDeleted(OrderSerializer):
    def should_sync(self, order: Order) -> bool:
        return order.number != "SKIP"

    def is_deleted(self, order: Order) -> bool:
        return order.status == "cancelled"


def test_batch_isolates_errors_skips_and_deletes() -> None:
    buyer = make.customer()
    good = make.order(customer=buyer)
    held = make.order(customer=buyer, status="on_hold")
    skipped = make.order(customer=buyer, number="SKIP")
    gone = make.order(customer=buyer, status="cancelled")
    keys = [str(o.pk) for o in (good, held, skipped, gone)] + ["999999"]

    result = CancelledAreDeleted().serialize_keys(keys)

    assert list(result.payloads) == [str(good.pk), str(gone.pk)]
    assert result.payloads[str(gone.pk)]["status"] == "canceled"
    assert list(result.errors) == [str(held.pk)]
    assert result.errors[str(held.pk)].field == "status"
    assert result.skipped == [str(skipped.pk), "999999"]


class Typo(OrderSerializer):
    store = StringField(source="store_location")


def test_unknown_fields_warn_and_fail_only_in_debug_mode(caplog: pytest.LogCaptureFixture) -> None:
    row = make.order(customer=make.customer(), store_location="LDN")
    with caplog.at_level(logging.WARNING):
        assert Typo().serialize(row)["store"] == "LDN"
    assert "field store: unknown Order2 field (ignored by Bubblehouse)" in caplog.text
    with bubblehouse_settings(DEBUG_MODE=True), pytest.raises(SerializationError) as caught:
        Typo().serialize(row)
    assert caught.value.field == "store"


def test_customer_without_a_registered_serializer_is_an_error() -> None:
    row = make.order(customer=make.customer())
    with with_serializers(LABEL), pytest.raises(SerializationError) as caught:
        OrderSerializer().serialize(row)
    assert caught.value.field == "customer"
    assert "no customer serializer is registered for testapp.Customer" in str(caught.value)

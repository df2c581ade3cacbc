"""A framework-shaped shop wired by serializers and settings alone: every change reaches
Bubblehouse (the emulator) with the right payload, including changes no signal reports."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import User, update_last_login
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

import django_bubblehouse
from django_bubblehouse.models import OutboxEntry
from django_bubblehouse.reconcile import reconcile
from django_bubblehouse.serializers import Serializer
from django_bubblehouse.testing.emulator import EmulatorState
from tests.delivery_support import reset_outbox
from tests.framework_shop.bubblehouse import (
    ERASED_ACCOUNT,
    CustomerSerializer,
    OrderSerializer,
    ProductSerializer,
)
from tests.framework_shop.models import Order, Product, ProductCategory, StockRecord
from tests.framework_support import (
    category,
    drain,
    link,
    order,
    parent_with_variants,
    quietly,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("framework_shop")]


def dirty(serializer: type[Serializer]) -> set[str]:
    rows = OutboxEntry.objects.filter(serializer=serializer.label(), state="pending")
    return set(rows.values_list("object_key", flat=True))


def variants(state: EmulatorState, product: Product) -> dict[str, Any]:
    found: dict[str, Any] = state.products[str(product.pk)]["variants"]
    return found


def test_a_variants_price_on_its_stock_record_re_pushes_the_parent(
    emulator: EmulatorState,
) -> None:
    parent = quietly(parent_with_variants)
    child = parent.children.order_by("pk").first()
    record = StockRecord.objects.get(product=child)
    record.price = Decimal("15.50")
    record.save()
    assert str(parent.pk) in dirty(ProductSerializer)  # two hops: record -> variant -> parent
    drain()
    assert variants(emulator, parent)[str(child.pk)]["price"] == "15.50"
    assert variants(emulator, parent)[str(child.pk)]["sku"] == record.partner_sku


def test_a_standalone_products_stock_record_pushes_that_product(emulator: EmulatorState) -> None:
    product = quietly(lambda: Product.objects.create(title="Mug"))
    StockRecord.objects.create(product=product, partner_sku="MUG", price=Decimal("0"))
    drain()
    pushed = emulator.products[str(product.pk)]
    assert pushed["variants"][str(product.pk)]["price"] == "0.00"
    assert pushed["variants"][str(product.pk)]["price_known"] is True


def test_a_category_link_written_on_the_through_model(emulator: EmulatorState) -> None:
    parent = quietly(parent_with_variants)
    shirts = quietly(category)
    row = link(parent, shirts)
    drain()
    assert emulator.products[str(parent.pk)]["collection_ids"] == [str(shirts.pk)]
    tops = quietly(lambda: category("Tops"))
    row.category = tops  # the back office moves the link
    row.save()
    drain()
    assert emulator.products[str(parent.pk)]["collection_ids"] == [str(tops.pk)]
    reset_outbox()
    ProductCategory.objects.filter(pk=row.pk).delete()  # also written directly
    assert dirty(ProductSerializer) == {str(parent.pk)}
    drain()
    assert emulator.products[str(parent.pk)]["collection_ids"] == []


def test_a_login_records_nothing_and_a_name_change_does(emulator: EmulatorState) -> None:
    user = quietly(lambda: User.objects.create_user("ada", email="ada@example.com"))
    update_last_login(User, user)  # what django.contrib.auth does on every login
    assert not OutboxEntry.objects.exists()
    user.first_name = "Ada"
    user.save(update_fields=["first_name"])
    drain()
    assert emulator.customers[str(user.pk)]["first_name"] == "Ada"


def test_a_status_change_is_pushed_under_the_order_number(emulator: EmulatorState) -> None:
    user = quietly(lambda: User.objects.create_user("ada", email="ada@example.com"))
    placed = quietly(lambda: order("100042", user=user, products=(quietly(parent_with_variants),)))
    placed.status = "Being processed"
    placed.save()
    drain()
    pushed = emulator.orders["100042"]
    assert pushed["status"] == "confirmed"
    assert pushed["customer"]["email"] == "ada@example.com"
    placed.status = "Refunded"
    placed.save(update_fields=["status"])
    drain()
    assert emulator.orders["100042"]["status"] == "canceled"


def test_a_guest_order_is_identified_by_its_guest_email(emulator: EmulatorState) -> None:
    order("100043", guest_email="guest@example.com", voucher="SPRING")
    drain()
    pushed = emulator.orders["100043"]
    assert pushed["customer"] == {"email": "guest@example.com"}
    assert pushed["discount_codes"] == ["SPRING"]


def test_a_deleted_user_leaves_its_orders_pushable(emulator: EmulatorState) -> None:
    user = quietly(lambda: User.objects.create_user("ada", email="ada@example.com"))
    quietly(lambda: order("100044", user=user))
    user_id = str(user.pk)
    user.delete()  # SET_NULL on the order: an UPDATE that sends no signal
    assert dirty(OrderSerializer) == {str(Order.objects.get(number="100044").pk)}
    drain()
    assert emulator.orders["100044"]["customer"] == {"id": ERASED_ACCOUNT}
    assert emulator.customers[user_id]["deleted"] is True


def test_a_deleted_product_leaves_its_lines_product_id_unchanged(
    emulator: EmulatorState,
) -> None:
    parent = quietly(parent_with_variants)
    child = parent.children.order_by("pk").first()
    order("100045", guest_email="g@example.com", products=(child,))
    drain()
    before = emulator.orders["100045"]["items"][0]["product"]
    assert before["id"] == str(parent.pk)  # the parent: lines do not track variants
    reset_outbox()
    emulator.requests.clear()
    parent.delete()  # cascades to the variant; the line's product is SET_NULL
    drain()
    sent = [body for call in emulator.calls("UpdateOrders4") for body in call.body["orders"]]
    assert [o["id"] for o in sent] == ["100045"]
    assert sent[0]["items"][0]["product"] == {"id": before["id"], "title": before["title"]}


def test_a_queryset_delete_cascades_with_signals_and_set_null_without(
    emulator: EmulatorState,
) -> None:
    parent = quietly(parent_with_variants)
    child = parent.children.order_by("pk").first()
    placed = quietly(lambda: order("100048", guest_email="g@example.com", products=(child,)))
    Product.objects.filter(pk=parent.pk).delete()  # cascades to the variants and stock
    rows = OutboxEntry.objects.filter(serializer=ProductSerializer.label())
    deletes = rows.filter(delete_payload__isnull=False)
    assert dict(deletes.values_list("object_key", "delete_payload")) == {
        str(parent.pk): {"id": str(parent.pk), "deleted": True}  # children are variants
    }
    assert dirty(OrderSerializer) == {str(placed.pk)}  # its line's product was SET_NULL
    drain()
    assert emulator.products[str(parent.pk)]["deleted"] is True
    assert emulator.orders["100048"]["items"][0]["product"]["id"] == str(parent.pk)


def test_a_queryset_update_is_caught_by_the_reconciliation(emulator: EmulatorState) -> None:
    first = order("100046", guest_email="g@example.com")
    order("100047", guest_email="h@example.com")
    drain()
    assert reconcile().marked == 0  # every recent row was recorded by its own save
    # Another service moves the status and the update time; no signal reports it.
    Order.objects.filter(pk=first.pk).update(status="Complete", date_updated=timezone.now())
    assert not dirty(OrderSerializer)
    report = reconcile()
    assert report.marked == 1
    assert dirty(OrderSerializer) == {str(first.pk)}
    drain()
    assert emulator.orders["100046"]["status"] == "completed"
    assert emulator.orders["100047"]["status"] == "unconfirmed"
    assert reconcile().marked == 0  # recorded since: nothing to do until the next write


def test_mark_dirty_pushes_a_bulk_update_and_what_it_leads_to(emulator: EmulatorState) -> None:
    parent = quietly(parent_with_variants)
    records = StockRecord.objects.filter(product__parent=parent)
    records.update(price=Decimal("9.99"))
    assert not OutboxEntry.objects.exists()
    with CaptureQueriesContext(connection) as queries:
        django_bubblehouse.mark_dirty(records)
    assert len(queries) <= 4  # one query per path, one upsert per serializer
    drain()
    prices = {v["price"] for v in variants(emulator, parent).values()}
    assert prices == {"9.99"}


def test_mark_dirty_takes_instances_too(emulator: EmulatorState) -> None:
    user = quietly(lambda: User.objects.create_user("bob", email="bob@example.com"))
    User.objects.filter(pk=user.pk).update(last_name="Builder")
    user.refresh_from_db()
    assert django_bubblehouse.mark_dirty([user]) == 1
    drain()
    assert emulator.customers[str(user.pk)]["last_name"] == "Builder"


def test_customer_watches_only_the_fields_it_reads() -> None:
    watched = CustomerSerializer.watched()
    assert watched is not None
    assert {"email", "first_name", "last_name"} <= watched
    assert "last_login" not in watched
    assert OrderSerializer.watched() is None  # method fields hide what they read

"""Receivers: which changes reach the outbox, in the host's transaction, without breaking it."""

from __future__ import annotations

import logging
from collections.abc import Callable
from decimal import Decimal
from unittest import mock

import pytest
from django.contrib.auth.models import User
from django.core import serializers as django_serializers
from django.db import connection, models, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_bubblehouse.models import OutboxEntry, OutboxState
from django_bubblehouse.sync import disable_sync
from tests import shop_factories as shop
from tests.delivery_support import ORDERS, entry, reset_outbox
from tests.testapp.bubblehouse import (
    CollectionSerializer,
    CustomerSerializer,
    ProductSerializer,
)
from tests.testapp.models import Collection, Customer, Order, OrderLine, Product

pytestmark = pytest.mark.django_db

PRODUCTS = ProductSerializer.label()
CUSTOMERS = CustomerSerializer.label()


def keys(label: str) -> set[str]:
    return set(OutboxEntry.objects.filter(serializer=label).values_list("object_key", flat=True))


def test_save_marks_the_object_dirty() -> None:
    order = shop.order()
    row = entry(order.pk)
    assert (row.state, row.kind, row.delete_payload) == (OutboxState.PENDING, "orders", None)


def save_then_fail(save: Callable[[], object]) -> None:
    with transaction.atomic():
        save()
        raise RuntimeError("rollback")


def test_rolled_back_save_leaves_nothing() -> None:
    with pytest.raises(RuntimeError):
        save_then_fail(shop.order)
    assert not OutboxEntry.objects.exists()


def test_rolled_back_savepoint_is_written_again_by_a_later_save() -> None:
    with transaction.atomic():
        order = shop.order()
        reset_outbox()  # forget the creation, keep the transaction open
        with pytest.raises(RuntimeError):
            save_then_fail(order.save)
        assert not OutboxEntry.objects.filter(serializer=ORDERS).exists()
        order.save()
    assert entry(order.pk).state == OutboxState.PENDING


def test_many_saves_in_one_transaction_cost_one_write() -> None:
    order = shop.order()
    reset_outbox()
    with transaction.atomic():
        with CaptureQueriesContext(connection) as synced:
            for status in ["paid", "shipped"] * 25:
                order.status = status
                order.save()
        with disable_sync(), CaptureQueriesContext(connection) as unsynced:
            for status in ["paid", "shipped"] * 25:
                order.status = status
                order.save()
    added = len(synced) - len(unsynced)
    assert 1 <= added <= 3  # one upsert (+ a savepoint pair on PostgreSQL)


def test_raw_saves_are_ignored() -> None:
    order = shop.order()
    dumped = django_serializers.serialize("json", [order])
    reset_outbox()
    for obj in django_serializers.deserialize("json", dumped):
        obj.save()
    assert not OutboxEntry.objects.exists()


def test_related_line_marks_its_order() -> None:
    order = shop.order()
    reset_outbox()
    OrderLine.objects.create(order=order, unit_price=Decimal("1.00"))
    assert keys(ORDERS) == {str(order.pk)}


def test_deleting_a_line_marks_its_order() -> None:
    order = shop.order([(None, 1, "5.00", "0")])
    reset_outbox()
    order.lines.get().delete()
    assert keys(ORDERS) == {str(order.pk)}


def test_a_delete_that_nulls_a_key_without_reverse_accessor_marks_the_order() -> None:
    order = shop.order()
    wrap = shop.product("Gift wrap")
    OrderLine.objects.create(order=order, unit_price=Decimal("1.00"), gift_wrap=wrap)
    reset_outbox()
    wrap.delete()  # related_name="+": SET_NULL all the same, in an UPDATE with no signal
    assert keys(ORDERS) == {str(order.pk)}


class _NoLines(models.Manager[OrderLine]):
    """A default manager that hides rows (as a soft-delete manager hides deleted ones)."""

    def get_queryset(self) -> models.QuerySet[OrderLine]:
        return super().get_queryset().none()


def test_rows_a_default_manager_hides_are_still_marked_when_a_delete_nulls_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    order = shop.order()
    product = shop.product()
    OrderLine.objects.create(order=order, unit_price=Decimal("1.00"), product=product)
    reset_outbox()
    hiding = _NoLines()
    hiding.model = OrderLine
    monkeypatch.setattr(OrderLine._meta, "default_manager", hiding)
    product.delete()  # the collector nulls the line through the base manager
    assert keys(ORDERS) == {str(order.pk)}


def test_delete_records_the_delete_payload() -> None:
    customer = shop.customer()
    key = str(customer.pk)
    customer.delete()
    row = entry(key, CustomerSerializer.label())
    assert row.delete_payload == {"id": key, "deleted": True}
    assert row.state == OutboxState.PENDING


def test_deleting_an_order_with_lines_keeps_the_delete_payload() -> None:
    order = shop.order([(None, 1, "5.00", "0")], guest_email="guest@example.com")
    key = str(order.pk)
    order.delete()
    assert entry(key).delete_payload is not None


@pytest.mark.parametrize("reverse", [False, True])
def test_m2m_add_and_remove_mark_the_products(reverse: bool) -> None:
    product, other = shop.product("A"), shop.product("B")
    collection = Collection.objects.create(title="Sale", slug="sale")
    reset_outbox()
    if reverse:
        collection.products.add(product, other)
    else:
        product.collections.add(collection)
    assert keys(PRODUCTS) == ({str(product.pk), str(other.pk)} if reverse else {str(product.pk)})
    reset_outbox()
    if reverse:
        collection.products.remove(other)
    else:
        product.collections.remove(collection)
    assert keys(PRODUCTS) == {str(other.pk) if reverse else str(product.pk)}
    assert keys(CollectionSerializer.label()) == set()


def test_m2m_clear_from_either_side() -> None:
    collection = Collection.objects.create(title="Sale", slug="sale")
    first, second = shop.product("A", [collection]), shop.product("B", [collection])
    reset_outbox()
    collection.products.clear()
    assert keys(PRODUCTS) == {str(first.pk), str(second.pk)}
    first.collections.add(collection)
    reset_outbox()
    first.collections.clear()
    assert keys(PRODUCTS) == {str(first.pk)}


def test_disable_sync_and_auto_sync_record_nothing() -> None:
    with disable_sync(Order):
        order = shop.order()
    assert keys(ORDERS) == set()
    with override_settings(BUBBLEHOUSE={"AUTO_SYNC": False}):
        order.save()
    assert keys(ORDERS) == set()
    order.save()
    assert keys(ORDERS) == {str(order.pk)}


def test_receiver_error_is_logged_and_recorded_not_raised(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = mock.patch(
        "django_bubblehouse.receivers.mark_dirty", side_effect=RuntimeError("outbox broken")
    )
    with broken, caplog.at_level(logging.ERROR, logger="django_bubblehouse"):
        order = shop.order()
    assert Order.objects.filter(pk=order.pk).exists()
    assert "outbox broken" in caplog.text
    row = entry(order.pk)
    assert row.state == OutboxState.FAILED
    assert "outbox broken" in row.last_error


def test_unserializable_delete_is_recorded_as_failed() -> None:
    product = shop.product()
    key = str(product.pk)
    with mock.patch.object(ProductSerializer, "serialize_deleted", side_effect=ValueError("no id")):
        product.delete()
    assert not Product.objects.filter(pk=key).exists()
    row = entry(key, PRODUCTS)
    assert (row.state, row.last_error) == (OutboxState.FAILED, "no id")


def test_strict_mode_raises() -> None:
    strict = override_settings(BUBBLEHOUSE={"STRICT": True, "SERIALIZERS": [ORDERS]})
    broken = mock.patch(
        "django_bubblehouse.receivers.mark_dirty", side_effect=RuntimeError("outbox broken")
    )
    with strict, broken, pytest.raises(RuntimeError, match="outbox broken"):
        shop.order()


def test_broken_serializer_setting_does_not_break_saves(caplog: pytest.LogCaptureFixture) -> None:
    with override_settings(BUBBLEHOUSE={"SERIALIZERS": ["nowhere.Missing"]}):
        order = shop.order()
    assert Order.objects.filter(pk=order.pk).exists()
    assert "No module named 'nowhere'" in caplog.text


def test_user_edit_marks_its_customer_through_the_reverse_one_to_one() -> None:
    user = User.objects.create_user("ada", email="ada@example.com")
    customer = shop.customer(user=user)
    other = shop.customer(email="bob@example.com")
    reset_outbox()
    fresh = User.objects.get(pk=user.pk)  # the customer is not cached on it
    fresh.email = "ada@lovelace.example"
    with CaptureQueriesContext(connection) as queries:
        fresh.save()
    assert keys(CUSTOMERS) == {str(customer.pk)}
    assert str(other.pk) not in keys(CUSTOMERS)
    lookups = [q["sql"] for q in queries if "testapp_customer" in q["sql"]]
    assert len(lookups) == 1  # one values_list of the customer's key


def test_user_with_a_cached_customer_costs_no_lookup() -> None:
    user = User.objects.create_user("ada", email="ada@example.com")
    customer = shop.customer(user=user)
    reset_outbox()
    loaded = User.objects.select_related("customer").get(pk=user.pk)
    with CaptureQueriesContext(connection) as queries:
        loaded.save()
    assert keys(CUSTOMERS) == {str(customer.pk)}
    assert not [q for q in queries if "testapp_customer" in q["sql"]]


def test_user_without_a_customer_is_ignored() -> None:
    shop.customer()  # a guest-like customer without a user
    reset_outbox()
    user = User.objects.create_user("staff", email="staff@example.com")
    user.first_name = "Grace"
    user.save()
    assert not OutboxEntry.objects.exists()


def test_user_edit_respects_disable_sync_of_the_customer() -> None:
    shop.customer(user=User.objects.create_user("ada"))
    reset_outbox()
    with disable_sync(Customer):
        User.objects.get(username="ada").save()
    assert not OutboxEntry.objects.exists()

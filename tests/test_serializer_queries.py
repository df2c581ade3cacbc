"""A batch costs a fixed number of queries, whatever its size."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.testapp.bubblehouse import OrderSerializer, ProductSerializer
from tests.testapp.models import (
    Collection,
    Customer,
    DiscountCode,
    Order,
    OrderLine,
    Product,
    Variant,
)

pytestmark = pytest.mark.django_db

# orders+customers (one join), lines joined with their products, those products' collections,
# codes.
ORDER_BATCH_QUERIES = 4


def build_shop(orders: int) -> list[str]:
    """``orders`` orders of 3 product lines and a code each, over shared customers/products."""
    collections = Collection.objects.bulk_create(
        Collection(title=f"C{i}", slug=f"c{i}") for i in range(4)
    )
    products = Product.objects.bulk_create(Product(title=f"P{i}", slug=f"p{i}") for i in range(12))
    for i, product in enumerate(products):
        product.collections.set(collections[i % 3 : i % 3 + 2])
    customers = Customer.objects.bulk_create(
        Customer(email=f"c{i}@example.com", first_name=f"C{i}") for i in range(25)
    )
    placed = dt.datetime(2026, 3, 2, tzinfo=dt.UTC)
    rows = Order.objects.bulk_create(
        Order(number=f"N{i}", customer=customers[i % 25], status="paid", placed_at=placed)
        for i in range(orders)
    )
    OrderLine.objects.bulk_create(
        OrderLine(
            order=row, product=products[(i + j) % 12], quantity=j + 1, unit_price=Decimal("2.50")
        )
        for i, row in enumerate(rows)
        for j in range(3)
    )
    DiscountCode.objects.bulk_create(DiscountCode(order=row, code="SPRING") for row in rows)
    return [str(row.pk) for row in rows]


def count_queries(keys: list[str]) -> int:
    with CaptureQueriesContext(connection) as queries:
        result = OrderSerializer().serialize_keys(keys)
    assert result.errors == {}
    assert len(result.payloads) == len(keys)
    assert all(len(payload["items"]) == 3 for payload in result.payloads.values())
    return len(queries)


def test_ten_and_five_hundred_orders_cost_the_same_queries() -> None:
    keys = build_shop(500)
    small, large = count_queries(keys[:10]), count_queries(keys)
    assert small == large == ORDER_BATCH_QUERIES


def test_product_batches_are_fixed_too() -> None:
    build_shop(0)
    for product in Product.objects.all():
        Variant.objects.create(product=product, title="One", price=Decimal("1.00"))
    keys = [str(pk) for pk in Product.objects.values_list("pk", flat=True)]
    with CaptureQueriesContext(connection) as few:
        ProductSerializer().serialize_keys(keys[:2])
    with CaptureQueriesContext(connection) as many:
        result = ProductSerializer().serialize_keys(keys)
    assert len(result.payloads) == 12
    assert len(few) == len(many) == 3  # products, collections, variants

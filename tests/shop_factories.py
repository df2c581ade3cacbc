"""Small builders of test-shop rows for the serializer tests."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from tests.testapp.models import (
    Collection,
    Customer,
    DiscountCode,
    Order,
    OrderLine,
    Product,
)

PLACED_AT = dt.datetime(2026, 3, 2, 14, 5, 11, tzinfo=dt.UTC)


def customer(**fields: Any) -> Customer:
    defaults = {"email": "ada@example.com", "first_name": "Ada", "last_name": "Lovelace"}
    return Customer.objects.create(**{**defaults, **fields})


def product(
    title: str = "Supershoe", collections: Iterable[Collection] = (), **fields: Any
) -> Product:
    row = Product.objects.create(title=title, slug=title.lower(), **fields)
    row.collections.set(list(collections))
    return row


def order(
    lines: Iterable[tuple[Product | None, int, str, str]] = (),
    *,
    codes: Iterable[str] = (),
    **fields: Any,
) -> Order:
    """``lines``: (product, quantity, unit price, discount) product lines."""
    defaults: dict[str, Any] = {"number": f"N{Order.objects.count() + 1}", "status": "paid"}
    row = Order.objects.create(placed_at=PLACED_AT, **{**defaults, **fields})
    for line_product, quantity, unit_price, discount in lines:
        OrderLine.objects.create(
            order=row,
            product=line_product,
            product_title=line_product.title if line_product else "Gone",
            quantity=quantity,
            unit_price=Decimal(unit_price),
            discount=Decimal(discount),
        )
    for code in codes:
        DiscountCode.objects.create(order=row, code=code)
    return row


def line(row: Order, kind: str, amount: str) -> OrderLine:
    """A non-product line (discount, shipping, tax) of ``amount``."""
    return OrderLine.objects.create(order=row, kind=kind, unit_price=Decimal(amount))

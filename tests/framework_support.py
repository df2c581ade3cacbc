"""The framework-shaped shop (tests/framework_shop) registered instead of the test shop."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from django_bubblehouse import outbox
from django_bubblehouse.sync import disable_sync
from tests.bubblehouse_overrides import bubblehouse_settings
from tests.delivery_support import forget_outbox_memo
from tests.framework_shop import config
from tests.framework_shop.models import (
    Category,
    Line,
    Order,
    OrderDiscount,
    Product,
    ProductCategory,
    StockRecord,
)

FRAMEWORK_SERIALIZERS = config.SERIALIZERS
FRAMEWORK_STATUS_MAP = config.ORDER_STATUS_MAP
PLACED = dt.datetime(2026, 5, 4, 10, 30, tzinfo=dt.UTC)


@contextmanager
def framework_settings() -> Iterator[None]:
    """The framework shop's serializers registered instead of the test shop's."""
    with bubblehouse_settings(
        SERIALIZERS=FRAMEWORK_SERIALIZERS, ORDER_STATUS_MAP=FRAMEWORK_STATUS_MAP
    ):
        yield


def drain() -> outbox.DrainReport:
    """Push what is due, as a worker would after the test's changes had committed.

    The next change then starts "a new transaction": it writes its outbox row again.
    """
    report = outbox.drain()
    assert (report.failed, report.retrying, report.dead) == (0, 0, 0), report
    forget_outbox_memo()
    return report


def parent_with_variants(
    title: str = "Tee", prices: tuple[str, ...] = ("10.00", "12.00")
) -> Product:
    parent = Product.objects.create(title=title, upc=f"{title}-P")
    for index, price in enumerate(prices):
        child = Product.objects.create(
            parent=parent, title=f"{title} {index}", upc=f"{title}-{index}"
        )
        StockRecord.objects.create(
            product=child, partner_sku=f"{title}-SKU-{index}", price=Decimal(price), num_in_stock=5
        )
    return parent


def category(name: str = "Shirts", parent: Category | None = None) -> Category:
    return Category.objects.create(name=name, slug=name.lower(), parent=parent)


def order(
    number: str,
    *,
    user: User | None = None,
    guest_email: str = "",
    status: str = "Pending",
    products: tuple[Product, ...] = (),
    voucher: str = "",
) -> Order:
    created = Order.objects.create(
        number=number,
        user=user,
        guest_email=guest_email,
        status=status,
        total_incl_tax=Decimal("24.00") * max(len(products), 1) + Decimal("4.00"),
        total_excl_tax=Decimal("20.00") * max(len(products), 1) + Decimal("4.00"),
        shipping_incl_tax=Decimal("4.00"),
        date_placed=PLACED,
    )
    for product in products:
        catalogue = product.parent or product
        Line.objects.create(
            order=created,
            product=product,
            product_reference=str(catalogue.pk),
            title=catalogue.title,
            partner_sku=f"SKU-{product.pk}",
            quantity=2,
            line_price_incl_tax=Decimal("24.00"),
            line_price_excl_tax=Decimal("20.00"),
            line_price_before_discounts_incl_tax=Decimal("26.00"),
            line_price_before_discounts_excl_tax=Decimal("21.50"),
        )
    if voucher:
        OrderDiscount.objects.create(order=created, voucher_code=voucher, amount=Decimal("2.00"))
    return created


def link(product: Product, target: Category) -> ProductCategory:
    """As the framework's back office does it: a row on the through model, not ``.add()``."""
    return ProductCategory.objects.create(product=product, category=target)


def quietly(build: Any) -> Any:
    """Data that already existed before the change under test: nothing recorded for it."""
    with disable_sync():
        return build()


def now() -> dt.datetime:
    return timezone.now()

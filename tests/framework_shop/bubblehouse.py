"""Serializers for the framework-shaped shop: configuration only, no receivers of its own.

Registered by ``tests/framework_support.py`` (``FRAMEWORK_SERIALIZERS``), with
the framework's free-text statuses in ``FRAMEWORK_STATUS_MAP``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet

from django_bubblehouse import serializers
from django_bubblehouse.fields import (
    BooleanField,
    DateTimeField,
    IdField,
    ListField,
    MethodField,
    MoneyField,
    QuantityField,
    StringField,
)

from .models import Category, Line, Order, Product

# Orders of an account deleted since (user SET_NULL) keep being pushed (a refund must still
# return points) under the one identity the shop gives erased accounts.
ERASED_ACCOUNT = "erased-account"


class CustomerSerializer(serializers.CustomerSerializer):
    """``auth.User`` itself: a login (``last_login`` only) reads none of these fields."""

    model = User

    email = StringField()
    first_name = StringField()
    last_name = StringField()


class CategorySerializer(serializers.CollectionSerializer):
    model = Category

    title = StringField(source="name")
    slug = StringField()


class VariantSerializer(serializers.VariantSerializer):
    """A child product (or a standalone product as its own only variant) with its stock."""

    title = StringField()
    sku = MethodField(StringField())
    price = MethodField(MoneyField())
    price_known = MethodField()
    in_stock = MethodField()

    def stock(self, product: Product) -> Any:
        records = list(product.stockrecords.all())  # prefetched: no query per variant
        return records[0] if records else None

    def get_sku(self, product: Product) -> str | None:
        record = self.stock(product)
        return None if record is None else record.partner_sku

    def get_price(self, product: Product) -> Decimal | None:
        record = self.stock(product)
        return None if record is None else record.price

    def get_price_known(self, product: Product) -> bool:
        record = self.stock(product)
        return record is not None and record.price is not None

    def get_in_stock(self, product: Product) -> bool | None:
        record = self.stock(product)
        if record is None or record.num_in_stock is None:
            return None
        return bool(record.num_in_stock > 0)


class ProductSerializer(serializers.ProductSerializer):
    """Parents and standalone products; children are their variants."""

    model = Product
    related = {
        # Two hops from the parent: the stock record's product is a child variant. For a
        # standalone product the second path ends at a NULL parent and adds nothing.
        "framework_shop.StockRecord": ("product", "product.parent"),
        "framework_shop.Product": "parent",  # a changed variant re-pushes its parent
    }
    # The through model is written directly by the back office: its rows re-push the product.
    m2m_fields = ("categories",)
    updated_field = "date_updated"

    title = StringField()
    description = StringField()
    inactive = BooleanField(source="is_public", invert=True)
    created_at = DateTimeField(source="date_created")
    updated_at = DateTimeField(source="date_updated")
    collection_ids = ListField(IdField(source="pk"), source="categories")
    variants = MethodField()

    def get_queryset(self) -> QuerySet[Product]:
        return Product.objects.filter(parent__isnull=True).prefetch_related(
            "categories", "stockrecords", "children__stockrecords"
        )

    def should_sync(self, product: Product) -> bool:
        return product.parent_id is None  # a child is pushed as its parent's variant

    def get_variants(self, product: Product) -> list[dict[str, Any]]:
        children = list(product.children.all()) or [product]
        return [VariantSerializer().to_representation(child) for child in children]


class LineSerializer(serializers.OrderItemSerializer):
    # The line's own snapshot, sent once its product is deleted: same id, same title.
    product_snapshot = {"id": "product_reference", "title": "title"}

    quantity = QuantityField()
    amount_full = MoneyField(source="line_price_before_discounts_incl_tax")
    amount_spent = MoneyField(source="line_price_incl_tax")

    def line_product(self, line: Line) -> Product | None:
        # Bubblehouse tracks products, not variants, on lines: a child stands for its parent.
        product = line.product
        if product is not None and product.parent_id is not None:
            return product.parent
        return product


class OrderSerializer(serializers.OrderSerializer):
    model = Order
    line_serializer = LineSerializer
    customer_source = "user"
    guest_customer_fields = {"email": "guest_email"}
    related = {"framework_shop.Line": "order", "framework_shop.OrderDiscount": "order"}
    updated_field = "date_updated"

    id = IdField(source="number")  # the order number is what Bubblehouse and staff know
    order_time = DateTimeField(source="date_placed")
    update_time = DateTimeField(source="date_updated")
    discount_codes = ListField(StringField(source="voucher_code"), source="discounts")
    amount_full = MethodField(MoneyField())
    amount_spent = MoneyField(source="total_incl_tax")
    amount_taxes = MethodField(MoneyField())
    amount_shipping = MoneyField(source="shipping_incl_tax")

    def get_queryset(self) -> QuerySet[Order]:
        return Order.objects.select_related("user").prefetch_related(
            "discounts",
            "lines__product__parent__categories",
            "lines__product__categories",
        )

    def customer_fallback(self, order: Order) -> dict[str, Any] | None:
        return super().customer_fallback(order) or {"id": ERASED_ACCOUNT}

    def get_amount_full(self, order: Order) -> Decimal:
        lines = self.product_lines(order)
        goods = sum((line.line_price_before_discounts_incl_tax for line in lines), Decimal(0))
        return goods + order.shipping_incl_tax

    def get_amount_taxes(self, order: Order) -> Decimal:
        return order.total_incl_tax - order.total_excl_tax

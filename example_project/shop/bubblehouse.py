"""How the example shop's models become Bubblehouse payloads.

Registered in ``config/settings.py`` (``BUBBLEHOUSE["SERIALIZERS"]``); each
class serves one (model, Bubblehouse kind) pair.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet

from django_bubblehouse import serializers
from django_bubblehouse.fields import (
    BooleanField,
    DateTimeField,
    ExtrasField,
    Field,
    IdField,
    ListField,
    MethodField,
    MoneyField,
    NestedField,
    QuantityField,
    StringField,
    StringListField,
)

from .models import Collection, Customer, Dealer, Order, OrderLine, Product, Variant

CENT = Decimal("0.01")


class CustomerSerializer(serializers.CustomerSerializer):
    model = Customer
    # Names and email live on auth.User: a user edit pushes its customer (Customer.user's
    # reverse accessor).
    related = {"auth.User": "customer"}
    updated_field = "updated_at"

    email = StringField(source="user.email")
    first_name = StringField(source="user.first_name")
    last_name = StringField(source="user.last_name")
    phone = StringField()
    # Only what the loyalty programme needs leaves the shop; never the whole user row.
    extras = ExtrasField({"tier": "tier", "marketing_opt_in": "marketing_opt_in"})

    def get_queryset(self) -> QuerySet[Customer]:
        return Customer.objects.select_related("user")


class CollectionSerializer(serializers.CollectionSerializer):
    model = Collection

    title = StringField()
    slug = StringField()


class VariantSerializer(serializers.VariantSerializer):
    title = StringField()
    sku = StringField()
    price = MoneyField()
    price_known = MethodField()
    in_stock = MethodField()

    def get_price_known(self, variant: Variant) -> bool:
        return True  # every variant has a price, so a zero price is a real zero

    def get_in_stock(self, variant: Variant) -> bool:
        return variant.stock > 0


class ProductSerializer(serializers.ProductSerializer):
    model = Product
    related = {"shop.Variant": "product"}
    m2m_fields = ("collections",)
    updated_field = "updated_at"

    title = StringField()
    slug = StringField()
    description = StringField()
    inactive = BooleanField(source="is_active", invert=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    collection_ids = ListField(IdField(source="pk"), source="collections")
    variants = NestedField(VariantSerializer, many=True)

    def get_queryset(self) -> QuerySet[Product]:
        return Product.objects.prefetch_related("collections", "variants")


class LineSerializer(serializers.OrderItemSerializer):
    """A product line net of refunds: a partial refund lowers quantity and amounts."""

    product = MethodField()
    quantity = MethodField(QuantityField())
    amount_full = MethodField(MoneyField())
    amount_spent = MethodField(MoneyField())

    def get_product(self, line: OrderLine) -> dict[str, Any]:
        if line.variant is None:
            # The variant was deleted after the sale; the line still earned points.
            return {"id": f"deleted:{line.title}", "title": line.title}
        # Title and collections travel with the order in case it is processed first.
        return ProductSerializer().represent(
            line.variant.product, ProductSerializer.reference_fields
        )

    def get_quantity(self, line: OrderLine) -> int:
        return line.quantity - line.refunded_quantity

    def get_amount_full(self, line: OrderLine) -> Decimal:
        return line.unit_price * self.get_quantity(line)

    def get_amount_spent(self, line: OrderLine) -> Decimal:
        if not line.quantity:
            return Decimal("0.00")
        # The line's discount shrinks with the refunded units, to the cent.
        kept = (line.line_discount * self.get_quantity(line) / line.quantity).quantize(CENT)
        return self.get_amount_full(line) - kept


class OrderSerializer(serializers.OrderSerializer):
    """Discount codes are OrderDiscount rows; their amounts are already in line_discount."""

    model = Order
    line_serializer = LineSerializer
    guest_customer_fields = {"email": "guest_email", "full_name": "guest_name"}
    related = {"shop.OrderLine": "order", "shop.OrderDiscount": "order"}
    updated_field = "updated_at"

    order_time = DateTimeField(source="placed_at")
    update_time = DateTimeField(source="updated_at")
    discount_codes = ListField(StringField(source="code"), source="discounts")
    amount_full = MethodField(MoneyField())
    amount_spent = MethodField(MoneyField())
    amount_taxes = MoneyField(source="tax")
    amount_shipping = MoneyField(source="shipping")

    def get_queryset(self) -> QuerySet[Order]:
        return Order.objects.select_related("customer__user").prefetch_related(
            "lines__variant__product__collections", "discounts"
        )

    def get_amount_full(self, order: Order) -> Decimal:
        return self._goods(order, LineSerializer.get_amount_full) + order.shipping + order.tax

    def get_amount_spent(self, order: Order) -> Decimal:
        return self._goods(order, LineSerializer.get_amount_spent) + order.shipping + order.tax

    def _goods(
        self, order: Order, amount: Callable[[LineSerializer, OrderLine], Decimal]
    ) -> Decimal:
        line = LineSerializer()
        return sum((amount(line, each) for each in self.product_lines(order)), Decimal("0.00"))


class DealerSerializer(serializers.EntitySerializer):
    """The primary set: every dealer; a deactivated dealer is deleted."""

    model = Dealer
    entity_set = "authorized-dealers"

    id = IdField(source="code")
    title = StringField(source="name")
    alt_titles = StringListField(source="alt_names", omit_empty=True)
    markets = StringListField(omit_empty=True)
    localizations = Field(source="localized_names", omit_empty=True)

    def is_deleted(self, dealer: Dealer) -> bool:
        return not dealer.is_active


class EligibleDealerSerializer(DealerSerializer):
    """A secondary set: a dealer leaves it (not the primary set) when no longer eligible."""

    entity_set = "spring-cleaning-eligible-dealers"
    parent_set = "authorized-dealers"

    def is_deleted(self, dealer: Dealer) -> bool:
        return not (dealer.is_active and dealer.spring_cleaning_eligible)

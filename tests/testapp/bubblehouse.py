"""The test shop's serializers, registered in tests/settings.py (and shown in the README)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, ClassVar

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


class CustomerSerializer(serializers.CustomerSerializer):
    model = Customer
    # Customer.user's reverse accessor: a user edit pushes the customer it belongs to.
    related = {"auth.User": "customer"}
    updated_field = "updated_at"

    email = StringField()
    first_name = StringField()
    last_name = StringField()
    phone = StringField()
    # internal_notes and birthday stay in the shop: only allow-listed extras leave it.
    extras = ExtrasField({"loyalty_tier": "loyalty_tier"})


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

    def get_in_stock(self, variant: Variant) -> bool | None:
        return None if variant.stock is None else variant.stock > 0


class ProductSerializer(serializers.ProductSerializer):
    model = Product
    related = {"testapp.Variant": "product"}
    m2m_fields = ("collections",)
    updated_field = "updated_at"

    title = StringField()
    slug = StringField()
    sku = StringField()
    description = StringField()
    inactive = BooleanField(source="active", invert=True)
    created_at = DateTimeField()
    updated_at = DateTimeField()
    collection_ids = ListField(IdField(source="pk"), source="collections")
    variants = NestedField(VariantSerializer, many=True)

    def get_queryset(self) -> QuerySet[Product]:
        return Product.objects.prefetch_related("collections", "variants")


class LineSerializer(serializers.OrderItemSerializer):
    product_serializer: ClassVar[type[serializers.ProductSerializer]] = ProductSerializer

    product = MethodField()
    quantity = QuantityField()
    amount_full = MethodField(MoneyField())
    amount_spent = MethodField(MoneyField())
    is_unfulfillable = MethodField()

    def get_product(self, line: OrderLine) -> dict[str, Any]:
        if line.product is None:
            # The product row was deleted after the sale; the line still earned points.
            return {"id": f"deleted:{line.product_title}", "title": line.product_title}
        # Title and collections travel with the order in case it is processed first.
        reference = self.product_serializer
        return reference().represent(line.product, reference.reference_fields)

    def get_amount_full(self, line: OrderLine) -> Decimal:
        return line.unit_price * line.quantity

    def get_amount_spent(self, line: OrderLine) -> Decimal:
        return line.unit_price * line.quantity - line.discount

    def get_is_unfulfillable(self, line: OrderLine) -> bool | None:
        return True if line.digital else None


class OrderSerializer(serializers.OrderSerializer):
    model = Order
    line_serializer = LineSerializer
    guest_customer_fields = {
        "email": "guest_email",
        "first_name": "guest_first_name",
        "last_name": "guest_last_name",
    }
    related = {"testapp.OrderLine": "order", "testapp.DiscountCode": "order"}
    updated_field = "updated_at"

    order_time = DateTimeField(source="placed_at")
    update_time = DateTimeField(source="updated_at")
    discount_codes = ListField(StringField(source="code"))
    amount_full = MethodField(MoneyField())
    amount_spent = MethodField(MoneyField())
    amount_taxes = MoneyField(source="tax_total")
    amount_shipping = MoneyField(source="shipping_total")
    store_location = StringField()

    def get_queryset(self) -> QuerySet[Order]:
        return Order.objects.select_related("customer").prefetch_related(
            "lines__product__collections", "discount_codes"
        )

    def include_line(self, line: OrderLine) -> bool:
        return line.kind == "product"

    def get_amount_full(self, order: Order) -> Decimal:
        return self._goods(order, discounted=False) + order.shipping_total + order.tax_total

    def get_amount_spent(self, order: Order) -> Decimal:
        # Order-level discounts are lines of their own, whose unit_price is the amount taken off.
        discounts = sum(
            (line.unit_price for line in order.lines.all() if line.kind == "discount"), Decimal(0)
        )
        goods = self._goods(order, discounted=True)
        return goods - discounts + order.shipping_total + order.tax_total

    def _goods(self, order: Order, *, discounted: bool) -> Decimal:
        item = LineSerializer()
        amount = item.get_amount_spent if discounted else item.get_amount_full
        return sum((amount(line) for line in self.product_lines(order)), Decimal(0))


class DealerSerializer(serializers.EntitySerializer):
    """The primary set: every dealer, deleted when deactivated."""

    model = Dealer
    entity_set = "authorized-dealers"

    id = IdField(source="code")
    title = StringField(source="name")
    alt_titles = StringListField(source="alt_names", omit_empty=True)
    markets = StringListField(omit_empty=True)
    localizations = Field(source="localized_names", omit_empty=True)
    bhid = StringField()

    def is_deleted(self, dealer: Dealer) -> bool:
        return not dealer.active


class EligibleDealerSerializer(DealerSerializer):
    """A secondary set: a dealer leaves it (not the primary set) when no longer eligible."""

    entity_set = "spring-cleaning-eligible-dealers"
    parent_set = "authorized-dealers"

    def is_deleted(self, dealer: Dealer) -> bool:
        return not (dealer.active and dealer.spring_campaign)

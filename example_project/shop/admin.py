"""The shop's admin, with the Bubblehouse actions mixed in (the outbox admin registers itself)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin

from django_bubblehouse.admin import BubblehouseAdminMixin

from .models import (
    Collection,
    Customer,
    Dealer,
    DiscountCode,
    Order,
    OrderDiscount,
    OrderLine,
    Product,
    Variant,
)

if TYPE_CHECKING:
    CustomerAdminBase = admin.ModelAdmin[Customer]
    CollectionAdminBase = admin.ModelAdmin[Collection]
    ProductAdminBase = admin.ModelAdmin[Product]
    OrderAdminBase = admin.ModelAdmin[Order]
    DealerAdminBase = admin.ModelAdmin[Dealer]
    DiscountCodeAdminBase = admin.ModelAdmin[DiscountCode]
    VariantInlineBase = admin.TabularInline[Variant, Product]
    OrderLineInlineBase = admin.TabularInline[OrderLine, Order]
    OrderDiscountInlineBase = admin.TabularInline[OrderDiscount, Order]
else:  # ModelAdmin and inlines are only generic in the stubs
    CustomerAdminBase = CollectionAdminBase = ProductAdminBase = admin.ModelAdmin
    OrderAdminBase = DealerAdminBase = DiscountCodeAdminBase = admin.ModelAdmin
    VariantInlineBase = OrderLineInlineBase = OrderDiscountInlineBase = admin.TabularInline


@admin.register(Customer)
class CustomerAdmin(BubblehouseAdminMixin, CustomerAdminBase):
    list_display = ("__str__", "tier", "phone", "marketing_opt_in", "updated_at")
    list_select_related = ("user",)
    search_fields = ("user__email", "user__first_name", "user__last_name", "phone")


@admin.register(Collection)
class CollectionAdmin(CollectionAdminBase):
    list_display = ("title", "slug")
    prepopulated_fields = {"slug": ("title",)}


class VariantInline(VariantInlineBase):
    model = Variant
    extra = 0


@admin.register(Product)
class ProductAdmin(BubblehouseAdminMixin, ProductAdminBase):
    list_display = ("title", "slug", "is_active", "updated_at")
    list_filter = ("is_active", "collections")
    filter_horizontal = ("collections",)
    prepopulated_fields = {"slug": ("title",)}
    inlines = (VariantInline,)


class OrderLineInline(OrderLineInlineBase):
    model = OrderLine
    extra = 0
    raw_id_fields = ("variant",)


class OrderDiscountInline(OrderDiscountInlineBase):
    model = OrderDiscount
    extra = 0


@admin.register(Order)
class OrderAdmin(BubblehouseAdminMixin, OrderAdminBase):
    list_display = ("number", "customer", "guest_email", "status", "placed_at")
    list_filter = ("status",)
    list_select_related = ("customer__user",)
    search_fields = ("number", "guest_email", "customer__user__email")
    raw_id_fields = ("customer",)
    date_hierarchy = "placed_at"
    inlines = (OrderLineInline, OrderDiscountInline)


@admin.register(Dealer)
class DealerAdmin(BubblehouseAdminMixin, DealerAdminBase):
    list_display = ("code", "name", "spring_cleaning_eligible", "is_active")
    list_filter = ("spring_cleaning_eligible", "is_active")
    search_fields = ("code", "name")


@admin.register(DiscountCode)
class DiscountCodeAdmin(DiscountCodeAdminBase):
    """Codes Bubblehouse created through the CreateDiscount4 hook."""

    list_display = ("code", "title", "amount", "percentage", "times_used", "max_uses", "ends_at")
    search_fields = ("code", "title")

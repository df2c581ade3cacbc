"""The test shop's admin: host ModelAdmins with the Bubblehouse actions mixed in."""

from django.contrib import admin

from django_bubblehouse.admin import BubblehouseAdminMixin

from .models import Customer, Dealer, Order


@admin.register(Order)
class OrderAdmin(BubblehouseAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["number", "status", "placed_at"]


@admin.register(Dealer)
class DealerAdmin(BubblehouseAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["code", "name", "active", "spring_campaign"]


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Without the mixin: no Bubblehouse actions."""

"""The framework's own admin registrations, then the one line a shop adds for the actions."""

from django.contrib import admin
from django.contrib.auth.models import User

from django_bubblehouse.admin import add_bubblehouse_actions

from .models import Order, Product


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Registered by the framework: the shop does not own this class."""

    list_display = ["number", "status", "date_placed"]
    search_fields = ["number"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ["title", "upc"]


# The shop's side: the push actions on the framework's admins, without re-registering them.
add_bubblehouse_actions(Order, Product, User)

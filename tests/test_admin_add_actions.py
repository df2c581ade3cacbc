"""add_bubblehouse_actions: the push action on a ModelAdmin someone else registered."""

from __future__ import annotations

import pytest
from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import ImproperlyConfigured
from django.test import Client
from django.urls import reverse

from django_bubblehouse.admin import BubblehouseAdminMixin, add_bubblehouse_actions
from django_bubblehouse.models import OutboxEntry
from tests.framework_shop.admin import OrderAdmin
from tests.framework_shop.bubblehouse import OrderSerializer
from tests.framework_shop.models import Category, Order
from tests.framework_support import order, quietly

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("framework_shop")]

PUSH = "push_to_bubblehouse"
ORDERS = reverse("admin:framework_shop_order_changelist")


def test_the_framework_admin_is_kept_as_the_base() -> None:
    registered = admin.site.get_model_admin(Order)
    assert type(registered).__mro__[1:3] == (BubblehouseAdminMixin, OrderAdmin)
    assert registered.search_fields == ["number"]  # the framework's own options survive


def test_calling_it_again_changes_nothing() -> None:
    before = admin.site.get_model_admin(Order)
    add_bubblehouse_actions(Order)
    assert admin.site.get_model_admin(Order) is before


def test_an_unregistered_model_is_a_clear_error() -> None:
    with pytest.raises(
        ImproperlyConfigured, match=r"framework_shop\.Category\): the model is not registered"
    ):
        add_bubblehouse_actions(Category)


def test_push_from_the_framework_admin(admin_client: Client) -> None:
    placed = quietly(lambda: [order("100001"), order("100002")])
    response = admin_client.get(ORDERS)
    assert PUSH in [value for value, _ in response.context["action_form"].fields["action"].choices]
    admin_client.post(ORDERS, {"action": PUSH, "_selected_action": [str(placed[1].pk)]})
    rows = OutboxEntry.objects.filter(serializer=OrderSerializer.label())
    assert list(rows.values_list("object_key", flat=True)) == [str(placed[1].pk)]


def test_the_user_admin_of_django_itself_gets_the_action(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:auth_user_changelist"))
    choices = [value for value, _ in response.context["action_form"].fields["action"].choices]
    assert PUSH in choices
    assert "delete_selected" in choices  # Django's own actions stay
    assert User.objects.count() == 1

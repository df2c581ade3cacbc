"""Watched fields: a save whose update_fields the serializer never reads records nothing."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User, update_last_login

from django_bubblehouse.fields import MethodField, StringField
from django_bubblehouse.models import OutboxEntry
from tests import shop_factories as shop
from tests.bubblehouse_overrides import with_serializers
from tests.delivery_support import reset_outbox
from tests.testapp import bubblehouse
from tests.testapp.models import Customer

HERE = "tests.test_watched_fields"


class ProfileSerializer(bubblehouse.CustomerSerializer):
    """The email and names live on the user; the profile only adds a phone."""

    email = StringField(source="user.email")
    first_name = StringField(source="user.first_name")


class DeclaredSerializer(bubblehouse.CustomerSerializer):
    watched_fields = ("email",)
    nickname = MethodField()

    def get_nickname(self, customer: Customer) -> str:
        return customer.first_name[:3]


class OpaqueSerializer(bubblehouse.CustomerSerializer):
    nickname = MethodField()

    def get_nickname(self, customer: Customer) -> str:
        return customer.first_name[:3]


def recorded() -> list[str]:
    return list(OutboxEntry.objects.values_list("object_key", flat=True))


def test_derived_from_sources_with_both_spellings_of_a_foreign_key() -> None:
    watched = ProfileSerializer.watched()
    assert watched is not None
    assert {"user", "user_id", "phone", "updated_at", "id", "loyalty_tier"} <= watched
    assert "internal_notes" not in watched


def test_a_method_field_watches_everything_unless_declared() -> None:
    assert OpaqueSerializer.watched() is None
    assert DeclaredSerializer.watched() == frozenset({"email"})


@pytest.mark.django_db
def test_update_fields_outside_the_watched_ones_record_nothing() -> None:
    with with_serializers(f"{HERE}.DeclaredSerializer"):
        customer = shop.customer()
        reset_outbox()
        customer.internal_notes = "VIP"
        customer.save(update_fields=["internal_notes"])
        assert recorded() == []
        customer.save(update_fields=["email", "internal_notes"])
        assert recorded() == [str(customer.pk)]


@pytest.mark.django_db
def test_a_login_on_the_user_of_a_profile_records_nothing() -> None:
    with with_serializers(f"{HERE}.ProfileSerializer"):
        user = User.objects.create_user("ada", email="ada@example.com")
        customer = shop.customer(user=user)
        reset_outbox()
        update_last_login(User, user)
        assert recorded() == []
        user.email = "ada@lovelace.example"
        user.save(update_fields=["email"])
        assert recorded() == [str(customer.pk)]


@pytest.mark.django_db
def test_a_save_without_update_fields_always_records() -> None:
    with with_serializers(f"{HERE}.DeclaredSerializer"):
        customer = shop.customer()
        reset_outbox()
        customer.save()
        assert recorded() == [str(customer.pk)]

"""Customers: the allow-listed payload, deletes, and a host whose customer is auth.User."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from django_bubblehouse import serializers
from django_bubblehouse.exceptions import SerializationError
from django_bubblehouse.fields import DateTimeField, ExtrasField, StringField
from django_bubblehouse.kinds import Kind
from django_bubblehouse.validation import validate
from tests import shop_factories as make
from tests.testapp.bubblehouse import CustomerSerializer
from tests.testapp.models import Customer

pytestmark = pytest.mark.django_db


def test_customer_payload_sends_only_declared_and_allow_listed_data() -> None:
    buyer = make.customer(loyalty_tier="silver", internal_notes="never send this", phone="")
    payload = CustomerSerializer().serialize(buyer)
    assert payload == {
        "id": str(buyer.pk),
        "email": "ada@example.com",
        "first_name": "Ada",
        "last_name": "Lovelace",
        "extras": {"loyalty_tier": "silver"},
    }
    assert validate(Kind.CUSTOMERS, payload) == []


def test_empty_extras_are_omitted() -> None:
    assert "extras" not in CustomerSerializer().serialize(make.customer())


def test_deleted_customer_is_id_and_deleted() -> None:
    buyer = make.customer()
    assert CustomerSerializer().serialize_deleted(buyer) == {"id": str(buyer.pk), "deleted": True}


class SoftDeleted(CustomerSerializer):
    def is_deleted(self, customer: Customer) -> bool:
        return customer.loyalty_tier == "closed"


def test_soft_deleted_customers_are_pushed_as_deletes_in_batches() -> None:
    kept, closed = make.customer(), make.customer(email="gone@example.com", loyalty_tier="closed")
    result = SoftDeleted().serialize_keys([str(kept.pk), str(closed.pk)])
    assert result.payloads[str(closed.pk)] == {"id": str(closed.pk), "deleted": True}
    assert result.payloads[str(kept.pk)]["email"] == "ada@example.com"


def test_customer_without_email_or_id_fails_validation() -> None:
    class Anonymous(CustomerSerializer):
        id = StringField(source="phone")

    buyer = make.customer(email="")
    with pytest.raises(SerializationError) as caught:
        Anonymous().serialize(buyer)
    assert str(caught.value) == (
        "tests.test_serializers_customers.test_customer_without_email_or_id_fails_validation."
        f"<locals>.Anonymous on testapp.Customer pk={buyer.pk}: "
        'needs at least one of "id" or "email", found none'
    )


def test_a_host_whose_customer_is_the_auth_user() -> None:
    class UserSerializer(serializers.CustomerSerializer):
        model = User
        updated_field = "last_login"

        email = StringField()
        first_name = StringField()
        last_name = StringField()
        extras = ExtrasField({"username": "username", "joined": "date_joined"})
        signed_up_at = DateTimeField(source="date_joined")

    user = User.objects.create_user("grace", "grace@example.com", "pw", first_name="Grace")
    payload = UserSerializer().serialize(user)
    joined = user.date_joined.isoformat().replace("+00:00", "Z")
    assert payload == {
        "id": str(user.pk),
        "email": "grace@example.com",
        "first_name": "Grace",
        "extras": {"username": "grace", "joined": joined},
        "signed_up_at": joined,
    }
    assert "password" not in str(payload)

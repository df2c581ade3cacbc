"""Each field's value rule, on plain objects (no database)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from django_bubblehouse.fields import (
    BooleanField,
    DateTimeField,
    ExtrasField,
    Field,
    FieldError,
    IdField,
    ListField,
    MethodField,
    MoneyField,
    NestedField,
    QuantityField,
    StringField,
    StringListField,
    resolve,
)
from django_bubblehouse.serializers import OrderStatusField, PayloadSerializer
from tests import shop_factories as shop
from tests.testapp.models import Order


def one(field: Field, value: Any) -> Any:
    """The payload value of ``field`` declared as ``x`` for an object whose ``x`` is ``value``."""

    class Holder(PayloadSerializer):
        x = field

    return Holder().to_representation(SimpleNamespace(x=value)).get("x", "<omitted>")


def error_of(field: Field, value: Any) -> FieldError:
    with pytest.raises(FieldError) as caught:
        one(field, value)
    return caught.value


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("12.00"), "12.00"),
        (Decimal("0.000012"), "0.000012"),
        (Decimal("1E+2"), "100"),
        (Decimal("-3.5"), "-3.5"),
        (12, "12"),
    ],
)
def test_money_is_a_decimal_string(value: Any, expected: str) -> None:
    assert one(MoneyField(), value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (12.0, "money must be a Decimal, got float 12.0 (a float is never exact"),
        (True, "money must be a Decimal, got bool True"),
        ("12.00", "money must be a Decimal, got str '12.00'"),
        (Decimal("NaN"), "money must be a finite Decimal, got NaN"),
    ],
)
def test_money_refuses_anything_inexact(value: Any, message: str) -> None:
    error = error_of(MoneyField(), value)
    assert error.message.startswith(message)
    assert error.path == "x"


def test_datetime_is_rfc3339_with_z_for_utc() -> None:
    when = dt.datetime(2026, 3, 2, 14, 5, 11, tzinfo=dt.UTC)
    assert one(DateTimeField(), when) == "2026-03-02T14:05:11Z"


def test_datetime_keeps_other_offsets() -> None:
    when = dt.datetime(2026, 3, 2, 14, 5, 11, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    assert one(DateTimeField(), when) == "2026-03-02T14:05:11.250000+02:00"


def test_naive_datetime_is_an_error() -> None:
    error = error_of(DateTimeField(), dt.datetime(2026, 3, 2, 14, 5))
    assert error.message == "is a naive datetime (2026-03-02T14:05:00); it needs a time zone"


def test_a_date_is_not_a_datetime() -> None:
    assert "must be a datetime, got date" in error_of(DateTimeField(), dt.date(2026, 3, 2)).message


@pytest.mark.parametrize(
    ("value", "expected"),
    [(5, "5"), ("P123", "P123"), (uuid.UUID(int=1), "00000000-0000-0000-0000-000000000001")],
)
def test_ids_are_strings(value: Any, expected: str) -> None:
    assert one(IdField(), value) == expected


@pytest.mark.parametrize(("value", "message"), [("  ", "non-empty"), (1.0, "got float")])
def test_bad_ids(value: Any, message: str) -> None:
    assert message in error_of(IdField(), value).message


@pytest.mark.parametrize(("value", "expected"), [(2, 2), (0, 0), (Decimal("3.000"), 3)])
def test_quantities(value: Any, expected: int) -> None:
    assert one(QuantityField(), value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (-1, "must not be negative, got -1"),
        (1.5, "must be a whole quantity, got float 1.5"),
        (Decimal("1.5"), "must be a whole quantity, got Decimal"),
        (True, "must be a whole quantity, got bool"),
    ],
)
def test_bad_quantities(value: Any, message: str) -> None:
    assert error_of(QuantityField(), value).message.startswith(message)


def test_booleans_and_inversion() -> None:
    assert one(BooleanField(), True) is True
    assert one(BooleanField(invert=True), True) is False
    assert "must be True or False, got int 1" in error_of(BooleanField(), 1).message


def test_none_and_blank_strings_are_omitted() -> None:
    assert one(Field(), None) == "<omitted>"
    assert one(StringField(), "") == "<omitted>"
    assert one(StringField(omit_empty=False), "") == ""
    assert one(ListField(), []) == []
    assert one(ListField(omit_empty=True), []) == "<omitted>"


def test_required_field_names_its_source() -> None:
    error = error_of(Field("x.email", required=True), None)
    assert (error.path, error.message) == ("x", "is required, but x.email is None")


def test_resolve_follows_attributes_keys_and_callables() -> None:
    obj = SimpleNamespace(a=SimpleNamespace(b={"c": 3}), f=lambda: "called", none=None)
    assert resolve(obj, "a.b.c") == 3
    assert resolve(obj, "f") == "called"
    assert resolve(obj, "none.anything") is None
    assert resolve(obj, "*") is obj


def test_list_errors_carry_the_index() -> None:
    error = error_of(ListField(MoneyField()), [Decimal(1), 2.5])
    assert error.path == "x[1]"
    assert error.message.startswith("money must be a Decimal, got float 2.5")


def test_list_elements_must_not_be_none() -> None:
    assert error_of(StringListField(), ["a", None]).path == "x[1]"


def test_a_string_is_not_a_list() -> None:
    assert "must be a list of values, got str" in error_of(StringListField(), "en-GB").message


class Line(PayloadSerializer):
    amount = MoneyField()


def test_nested_errors_carry_the_full_path() -> None:
    lines = [SimpleNamespace(amount=Decimal(1)), SimpleNamespace(amount=Decimal(2))]
    lines.append(SimpleNamespace(amount=3.0))
    error = error_of(NestedField(Line, many=True), lines)
    assert error.path == "x[2].amount"


def test_nested_only_limits_fields() -> None:
    class Both(PayloadSerializer):
        a = Field()
        b = Field()

    assert one(NestedField(Both, only=("a",)), SimpleNamespace(a=1, b=2)) == {"a": 1}


def test_method_field_converts_its_result() -> None:
    class Doubling(PayloadSerializer):
        total = MethodField(MoneyField())

        def get_total(self, obj: Any) -> Decimal:
            return Decimal(obj.price) * 2

    assert Doubling().to_representation(SimpleNamespace(price=Decimal("1.50"))) == {"total": "3.00"}


def test_method_field_bug_becomes_a_field_error() -> None:
    class Broken(PayloadSerializer):
        total = MethodField()

        def get_total(self, obj: Any) -> None:
            raise KeyError("price")

    with pytest.raises(FieldError) as caught:
        Broken().to_representation(object())
    assert (caught.value.path, caught.value.message) == ("total", "KeyError: 'price'")


def test_extras_send_only_the_allow_list() -> None:
    obj = SimpleNamespace(tier="gold", since=dt.date(2020, 1, 2), spent=Decimal("9.5"), secret="x")
    field = ExtrasField({"tier": "tier", "since": "since", "spent": "spent", "none": "missing"})

    class Holder(PayloadSerializer):
        extras = field

    payload = Holder().to_representation(SimpleNamespace(**vars(obj), missing=None))
    assert payload == {"extras": {"tier": "gold", "since": "2020-01-02", "spent": "9.5"}}


def test_extras_refuse_floats_with_their_key() -> None:
    class Holder(PayloadSerializer):
        extras = ExtrasField({"score": "score"})

    with pytest.raises(FieldError) as caught:
        Holder().to_representation(SimpleNamespace(score=0.5))
    assert caught.value.path == "extras.score"


@override_settings(BUBBLEHOUSE={"ORDER_STATUS_MAP": {"paid": "confirmed", "odd": "weird"}})
def test_order_status_goes_through_the_map() -> None:
    assert one(OrderStatusField(), "paid") == "confirmed"
    unmapped = error_of(OrderStatusField(), "on_hold").message
    assert unmapped == (
        "order status 'on_hold' is not in BUBBLEHOUSE[\"ORDER_STATUS_MAP\"] (mapped: odd, paid)"
    )
    assert (
        "maps 'odd' to 'weird', not one of unconfirmed"
        in error_of(OrderStatusField(), "odd").message
    )


@pytest.mark.django_db
def test_model_columns_and_loaded_relations_read_like_their_descriptors() -> None:
    customer = shop.customer(email="ann@example.com")
    order = shop.order(customer=customer)
    loaded = Order.objects.select_related("customer").get(pk=order.pk)
    with CaptureQueriesContext(connection) as queries:
        assert resolve(loaded, "customer.email") == "ann@example.com"
        assert resolve(loaded, "customer_id") == customer.pk
        assert resolve(loaded, "pk") == order.pk
    assert len(queries) == 0
    fresh = Order.objects.only("pk", "customer").get(pk=order.pk)
    with CaptureQueriesContext(connection) as queries:
        assert resolve(fresh, "customer.email") == "ann@example.com"  # loads the customer
        assert resolve(fresh, "number") == order.number  # a deferred column loads too
    assert len(queries) == 2

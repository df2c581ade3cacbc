"""bubblehouse_preflight: the mistakes `manage.py check` cannot see, found on real rows."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core import checks
from django.core.management import call_command
from django.core.management.base import CommandError

from django_bubblehouse.fields import StringField
from tests import shop_factories as shop
from tests.bubblehouse_overrides import with_serializers
from tests.testapp import bubblehouse
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db

ORDERS = bubblehouse.OrderSerializer.label()
CUSTOMERS = bubblehouse.CustomerSerializer.label()


class FloatTotal(bubblehouse.OrderSerializer):
    def get_amount_spent(self, order: Order) -> Any:
        return float(super().get_amount_spent(order))  # the mistake: money through a float


class MissingSource(bubblehouse.CustomerSerializer):
    phone = StringField(source="mobile")


class CustomerNowhere(bubblehouse.OrderSerializer):
    customer_source = "buyer"


def preflight(*paths: str, sample: int = 200) -> str:
    out = StringIO()
    if not paths:
        call_command("bubblehouse_preflight", sample=sample, stdout=out)
        return out.getvalue()
    with with_serializers(*paths):
        assert not [m for m in checks.run_checks(tags=["bubblehouse"]) if m.is_serious()]
        try:
            call_command("bubblehouse_preflight", sample=sample, stdout=out)
        except CommandError as error:
            return f"{out.getvalue()}\n{error}"
    return out.getvalue()


def paid_order(**fields: Any) -> Order:
    return shop.order([(shop.product(), 1, "10.00", "0")], customer=shop.customer(), **fields)


def test_a_clean_shop_passes() -> None:
    paid_order()
    output = preflight()
    assert f"{ORDERS}: 1 row(s) ok" in output
    assert "every sampled row serializes" in output


def test_an_unmapped_status_fails_naming_serializer_object_and_field() -> None:
    row = paid_order(status="on_hold")
    with pytest.raises(CommandError, match="problem"):
        preflight()
    output = preflight(ORDERS, CUSTOMERS)
    assert f"{ORDERS} on testapp.Order pk={row.pk}, field status: order status 'on_hold'" in (
        output
    )


def test_a_rare_status_outside_the_sample_is_still_found() -> None:
    paid_order(status="on_hold")
    paid_order()  # the newest: the only one sampled
    output = preflight(ORDERS, CUSTOMERS, sample=1)
    assert "order status 'on_hold' (1 order(s)) is not in BUBBLEHOUSE['ORDER_STATUS_MAP']" in (
        output
    )


def test_float_money() -> None:
    paid_order()
    output = preflight(f"{__name__}.FloatTotal", CUSTOMERS)
    assert "field amount_spent: money must be a Decimal, got float 10.0" in output


def test_a_source_that_does_not_exist_on_rows() -> None:
    customer = shop.customer()
    output = preflight(f"{__name__}.MissingSource")
    assert f"on testapp.Customer pk={customer.pk}, field phone: AttributeError" in output
    assert "'mobile'" in output


def test_a_missing_customer_serializer() -> None:
    paid_order()
    output = preflight(ORDERS)
    assert "field customer: no customer serializer is registered for testapp.Customer" in output


def test_customer_source_pointing_nowhere() -> None:
    paid_order()
    output = preflight(f"{__name__}.CustomerNowhere", CUSTOMERS)
    assert "field customer: AttributeError" in output
    assert "'buyer'" in output


def test_a_broken_delete_payload_is_reported() -> None:
    shop.order(status="paid")  # no customer, no guest email: its cancel cannot be sent either
    output = preflight(ORDERS, CUSTOMERS)
    assert "(in its delete payload)" in output


def test_no_rows_is_a_warning_not_a_failure() -> None:
    output = preflight(ORDERS, CUSTOMERS)
    assert f"{ORDERS}: no rows to check yet" in output
    assert "every sampled row serializes" in output

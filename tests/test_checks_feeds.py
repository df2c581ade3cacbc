"""bubblehouse.W060: an updated_field that no index leads makes every feed page a table sort."""

from __future__ import annotations

import pytest
from django.db import models

from django_bubblehouse.checks.feeds import check_feed_indexes
from django_bubblehouse.serializers import OrderSerializer
from tests.bubblehouse_overrides import with_serializers
from tests.testapp import bubblehouse as shop
from tests.testapp.models import Order

HERE = "tests.test_checks_feeds"


class OrdersByNumber(shop.OrderSerializer):
    updated_field = "number"  # unique, so indexed


class OrdersUntimed(OrderSerializer):
    model = Order


def warnings_for(path: str) -> list[str]:
    with with_serializers(path):
        return [str(message.msg) for message in check_feed_indexes(None)]


def test_an_unindexed_updated_field_warns_naming_serializer_field_and_fix() -> None:
    with with_serializers(f"{shop.__name__}.OrderSerializer"):
        [message] = check_feed_indexes(None)
    assert message.id == "bubblehouse.W060"
    assert "tests.testapp.bubblehouse.OrderSerializer.updated_field 'updated_at'" in message.msg
    assert "testapp.Order" in message.msg
    assert message.hint is not None
    assert 'models.Index(fields=["updated_at", "id"])' in message.hint


@pytest.mark.parametrize(
    "index",
    [
        models.Index(fields=["updated_at", "id"], name="o_updated"),
        models.Index(fields=["-updated_at"], name="o_updated_desc"),
    ],
)
def test_an_index_leading_with_the_field_satisfies_it(
    index: models.Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Order._meta, "indexes", [index])
    assert warnings_for(f"{shop.__name__}.OrderSerializer") == []


@pytest.mark.parametrize(
    "index",
    [
        models.Index(fields=["status", "updated_at"], name="o_status"),
        models.Index(fields=["updated_at"], name="o_paid", condition=models.Q(status="paid")),
    ],
)
def test_an_index_that_cannot_order_every_row_does_not(
    index: models.Index, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Order._meta, "indexes", [index])
    assert len(warnings_for(f"{shop.__name__}.OrderSerializer")) == 1


def test_a_unique_field_and_no_updated_field_are_clean() -> None:
    assert warnings_for(f"{HERE}.OrdersByNumber") == []
    assert warnings_for(f"{HERE}.OrdersUntimed") == []

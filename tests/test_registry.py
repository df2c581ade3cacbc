"""The registry: settings -> serializer classes, and model -> serializers lookups."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from django_bubblehouse.serializers import registry
from tests.bubblehouse_overrides import with_serializers
from tests.testapp import bubblehouse as shop
from tests.testapp.models import (
    Collection,
    Dealer,
    DiscountCode,
    Order,
    OrderLine,
    Product,
    Variant,
)


def test_all_serializers_follow_the_setting_in_order() -> None:
    assert registry.all_serializers() == (
        shop.OrderSerializer,
        shop.CustomerSerializer,
        shop.ProductSerializer,
        shop.CollectionSerializer,
        shop.DealerSerializer,
        shop.EligibleDealerSerializer,
    )


def test_cache_follows_setting_changes() -> None:
    assert len(registry.all_serializers()) == 6
    with with_serializers("tests.testapp.bubblehouse.CollectionSerializer"):
        assert registry.all_serializers() == (shop.CollectionSerializer,)
    assert len(registry.all_serializers()) == 6


def test_get_serializer_by_label() -> None:
    label = shop.EligibleDealerSerializer.label()
    assert label == "tests.testapp.bubblehouse.EligibleDealerSerializer"
    assert registry.get_serializer(label) is shop.EligibleDealerSerializer
    with pytest.raises(LookupError, match=r"no registered serializer is labelled 'x\.Y'"):
        registry.get_serializer("x.Y")


def test_serializers_for_model() -> None:
    assert registry.serializers_for_model(Order) == [shop.OrderSerializer]
    assert registry.serializers_for_model(Dealer) == [
        shop.DealerSerializer,
        shop.EligibleDealerSerializer,
    ]
    assert registry.serializers_for_model(OrderLine) == []


def test_serializers_for_related() -> None:
    assert registry.serializers_for_related(OrderLine) == [(shop.OrderSerializer, "order")]
    assert registry.serializers_for_related(DiscountCode) == [(shop.OrderSerializer, "order")]
    assert registry.serializers_for_related(Variant) == [(shop.ProductSerializer, "product")]
    assert registry.serializers_for_related(Order) == []


def test_serializers_for_m2m_through() -> None:
    through = Product.collections.through
    assert registry.serializers_for_m2m_through(through) == [
        (shop.ProductSerializer, "collections")
    ]
    assert registry.serializers_for_m2m_through(Collection) == []


def test_broken_entries_raise_improperly_configured() -> None:
    with with_serializers("tests.testapp.nope.X"), pytest.raises(ImproperlyConfigured):
        registry.all_serializers()
    with (
        with_serializers("tests.testapp.models.Order"),
        pytest.raises(ImproperlyConfigured, match="is not a Serializer subclass"),
    ):
        registry.all_serializers()

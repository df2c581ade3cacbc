"""One test per serializer check id: it appears for the bad entry, and the good setup is clean."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.db import models

from django_bubblehouse.checks.serializers import check_serializers
from django_bubblehouse.serializers import EntitySerializer, OrderSerializer, ProductSerializer
from tests.bubblehouse_overrides import bubblehouse_settings
from tests.testapp import bubblehouse as shop
from tests.testapp.models import Dealer, Order, Product

HERE = "tests.test_checks_serializers"
SHOP = "tests.testapp.bubblehouse"


class AbstractThing(models.Model):
    class Meta:
        abstract = True
        app_label = "testapp"


class NoModel(OrderSerializer):
    pass


class AbstractModel(OrderSerializer):
    model = AbstractThing


class SecondOrderSerializer(shop.OrderSerializer):
    pass


class SameSetAgain(shop.DealerSerializer):
    pass


class NoEntitySet(EntitySerializer):
    model = Dealer


class BadRelated(OrderSerializer):
    model = Order
    related = {"testapp.OrderLine": "product", "testapp.Nope": "order"}


class ReverseRelated(shop.CustomerSerializer):
    related = {"auth.User": "customer", "testapp.Order": "customer"}


class BadReverseRelated(OrderSerializer):
    model = Order
    # A reverse foreign key (many orders per customer), and a profile of another model.
    related = {"testapp.Customer": "orders", "auth.User": "customer"}


class BadM2M(ProductSerializer):
    model = Product
    m2m_fields = ("variants", "nope")


class BadUpdatedField(shop.CustomerSerializer):
    updated_field = "modified"


class OwnParent(shop.DealerSerializer):
    entity_set = "spring"
    parent_set = "spring"


def run(*paths: str, **changes: Any) -> list[CheckMessage]:
    with bubblehouse_settings(SERIALIZERS=list(paths), **changes):
        return check_serializers(None)


def ids(*paths: str, **changes: Any) -> list[str]:
    return [message.id or "" for message in run(*paths, **changes)]


def test_the_test_shop_is_clean() -> None:
    assert run(*settings.BUBBLEHOUSE["SERIALIZERS"]) == []


def test_e020_unimportable_path() -> None:
    [message] = run("tests.testapp.nope.OrderSerializer")
    assert message.id == "bubblehouse.E020"
    assert "'tests.testapp.nope.OrderSerializer' cannot be imported" in message.msg
    assert message.hint


def test_e021_not_a_serializer_of_a_kind() -> None:
    assert ids("tests.testapp.models.Order") == ["bubblehouse.E021"]
    assert ids("django_bubblehouse.serializers.Serializer") == ["bubblehouse.E021"]


def test_e022_serializer_without_model() -> None:
    assert ids(f"{HERE}.NoModel") == ["bubblehouse.E022"]


def test_e023_model_not_installed() -> None:
    [message] = run(f"{HERE}.AbstractModel")
    assert message.id == "bubblehouse.E023"
    assert "AbstractThing is not a model of an installed app" in message.msg


def test_e024_two_serializers_for_one_model_and_kind() -> None:
    [message] = run(f"{SHOP}.OrderSerializer", f"{HERE}.SecondOrderSerializer")
    assert message.id == "bubblehouse.E024"
    assert "all serialize testapp.Order for kind orders" in message.msg


def test_e024_entity_serializers_clash_only_within_one_set() -> None:
    assert ids(f"{SHOP}.DealerSerializer", f"{SHOP}.EligibleDealerSerializer") == []
    [message] = run(f"{SHOP}.DealerSerializer", f"{HERE}.SameSetAgain")
    assert message.id == "bubblehouse.E024"
    assert "for entity set 'authorized-dealers'" in message.msg


def test_e025_entity_serializer_without_entity_set() -> None:
    assert ids(f"{HERE}.NoEntitySet") == ["bubblehouse.E025"]


def test_e026_related_must_be_a_foreign_key_to_the_model() -> None:
    messages = run(f"{HERE}.BadRelated")
    assert [m.id for m in messages] == ["bubblehouse.E026", "bubblehouse.E026"]
    assert "'product' is neither a foreign key from testapp.OrderLine to testapp.Order" in (
        messages[0].msg
    )


def test_e026_accepts_a_forward_key_and_a_reverse_one_to_one() -> None:
    assert ids(f"{HERE}.ReverseRelated") == []


def test_e026_rejects_a_reverse_foreign_key_and_another_models_one_to_one() -> None:
    messages = run(f"{HERE}.BadReverseRelated")
    assert [m.id for m in messages] == ["bubblehouse.E026", "bubblehouse.E026"]
    assert "'orders' is neither a foreign key" in messages[0].msg
    assert "nor the reverse accessor of a one-to-one from testapp.Order to auth.User" in (
        messages[1].msg
    )


def test_e027_m2m_fields_must_be_many_to_many() -> None:
    assert ids(f"{HERE}.BadM2M") == ["bubblehouse.E027", "bubblehouse.E027"]


def test_e028_updated_field_must_exist() -> None:
    assert ids(f"{HERE}.BadUpdatedField") == ["bubblehouse.E028"]


def test_e029_parent_set_is_another_set() -> None:
    assert ids(f"{HERE}.OwnParent") == ["bubblehouse.E029"]


def test_w020_order_serializer_without_status_map() -> None:
    assert ids(f"{SHOP}.OrderSerializer", ORDER_STATUS_MAP={}) == ["bubblehouse.W020"]
    assert ids(f"{SHOP}.CustomerSerializer", ORDER_STATUS_MAP={}) == []


def test_every_message_has_a_hint() -> None:
    messages = run(
        "x.y",
        "tests.testapp.models.Order",
        f"{HERE}.NoModel",
        f"{HERE}.BadRelated",
        f"{HERE}.OwnParent",
        ORDER_STATUS_MAP={},
    )
    assert len(messages) == 7
    assert all(message.hint for message in messages)

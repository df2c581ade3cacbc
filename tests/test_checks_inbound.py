"""A test per check id of the hook and storefront settings."""

from __future__ import annotations

import pytest

from django_bubblehouse.checks.inbound import check_inbound_settings
from tests.bubblehouse_overrides import bubblehouse_settings


def ids(**changes: object) -> list[str]:
    with bubblehouse_settings(**changes):
        return [message.id or "" for message in check_inbound_settings(None)]


def test_the_test_settings_pass():
    assert ids() == []


def test_a_complete_setup_passes():
    assert (
        ids(
            HOOK_HANDLERS={
                "CreateDiscount4": "tests.testapp.hooks.create_discount",
                "SendEvent1": "tests.testapp.hooks.send_event",
            },
            STOREFRONT_CUSTOMER="tests.testapp.storefront.current_customer",
            INBOUND_KEYS=[("bh-hooks", "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0zMmJ5dGVz")],
        )
        == []
    )


@pytest.mark.parametrize("name", ["Hello1", "CreateDiscount3", "creatediscount4"])
def test_e050_unknown_hook_name(name):
    assert ids(HOOK_HANDLERS={name: "tests.testapp.hooks.create_discount"}) == ["bubblehouse.E050"]


@pytest.mark.parametrize(
    "path", ["tests.testapp.hooks.missing", "nowhere.at_all", "tests.testapp.hooks.DISCOUNTS"]
)
def test_e051_handler_that_cannot_be_called(path):
    assert ids(HOOK_HANDLERS={"CreateDiscount4": path}) == ["bubblehouse.E051"]


def test_e052_storefront_customer_that_cannot_be_imported():
    assert ids(STOREFRONT_CUSTOMER="tests.testapp.storefront.nobody") == ["bubblehouse.E052"]


@pytest.mark.parametrize(
    "pair", [("kid",), ("", "c2VjcmV0"), ("kid", "not base64 !!"), "kid:secret"]
)
def test_e053_inbound_key_that_is_not_a_pair_never_quotes_the_secret(pair):
    with bubblehouse_settings(INBOUND_KEYS=[pair]):
        [message] = check_inbound_settings(None)
    assert message.id == "bubblehouse.E053"
    assert "not base64" not in message.msg


def test_a_wrongly_typed_inbound_keys_is_left_to_e003():
    assert ids(INBOUND_KEYS="kid:secret") == []

"""System checks of the delivery settings."""

from __future__ import annotations

from django_bubblehouse.checks.delivery import check_sending_lease
from tests.bubblehouse_overrides import bubblehouse_settings


def test_default_lease_passes() -> None:
    assert check_sending_lease(None) == []


def test_lease_shorter_than_a_request_is_an_error() -> None:
    with bubblehouse_settings(SENDING_LEASE=30, TIMEOUT=(5, 30)):
        [error] = check_sending_lease(None)
    assert error.id == "bubblehouse.E030"

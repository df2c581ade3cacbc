"""System checks of the delivery settings."""

from __future__ import annotations

from django.conf import settings
from django.test import override_settings

from django_bubblehouse.checks.delivery import check_sending_lease


def test_default_lease_passes() -> None:
    assert check_sending_lease(None) == []


def test_lease_shorter_than_a_request_is_an_error() -> None:
    with override_settings(
        BUBBLEHOUSE={**settings.BUBBLEHOUSE, "SENDING_LEASE": 30, "TIMEOUT": (5, 30)}
    ):
        [error] = check_sending_lease(None)
    assert error.id == "bubblehouse.E030"

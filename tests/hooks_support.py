"""Shared by the hook tests: the handlers enabled, and a signed POST like Bubblehouse's."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.test import Client, override_settings

from django_bubblehouse.conf import get_settings
from django_bubblehouse.testing.emulator.hooks_client import hook_headers
from tests.testapp import hooks

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

HANDLERS = {
    "CreateDiscount4": "tests.testapp.hooks.create_discount",
    "SendEvent1": "tests.testapp.hooks.send_event",
}


def hooks_enabled(**changes: Any) -> override_settings:
    return override_settings(
        BUBBLEHOUSE={**settings.BUBBLEHOUSE, "HOOK_HANDLERS": HANDLERS, **changes}
    )


def forget_calls() -> None:
    hooks.DISCOUNTS.clear()
    hooks.EVENTS.clear()


@contextmanager
def recording_hooks(**changes: Any) -> Iterator[None]:
    """The test handlers enabled, with nothing recorded before or left behind."""
    forget_calls()
    try:
        with hooks_enabled(**changes):
            yield
    finally:
        forget_calls()


def call(
    client: Client,
    name: str,
    body: Any,
    *,
    request_id: str | None = None,
    headers: dict[str, str] | None = None,
) -> _MonkeyPatchedWSGIResponse:
    """POST ``body`` to hook ``name`` signed with the shop's key (``headers`` override)."""
    conf = get_settings()
    signed = hook_headers(shop=conf.shop, key=conf.keys[0], request_id=request_id)
    return client.post(
        f"/bubblehouse/hooks/{name}",
        json.dumps(body),
        content_type="application/json",
        headers={**signed, **(headers or {})},
    )

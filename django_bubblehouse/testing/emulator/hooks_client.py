"""Call a shop's hooks the way Bubblehouse does, to test a host's handlers end to end.

A hook call is a POST of a JSON body to the URL the merchant registered (with
``:name`` replaced by the hook's name), carrying ``Authorization: Bearer``
with an HS256 token signed with one of the shop's secrets (``kid`` header,
``aud`` ``"BH"``, ``sub`` the shop slug, short ``exp``), an ``X-Request-ID``
and an ``X-BH-Urgency``::

    from django_bubblehouse.conf import SigningKey
    from django_bubblehouse.testing.emulator.hooks_client import call_hook, hook_headers

    answer = call_hook("http://127.0.0.1:8000/bubblehouse/hooks/:name", "CreateDiscount4",
                       {"code": "WELCOME10", "title": "10 % off", "percentage": 1000},
                       shop="myshop", key=SigningKey("kid", "c2VjcmV0..."))
    # or, with Django's test client:
    client.post("/bubblehouse/hooks/Hello1", {"magic": "x"}, content_type="application/json",
                headers=hook_headers(shop="myshop", key=key))
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from typing import Any

from .tokens import ShopKey, sign_token

TOKEN_LIFETIME = 300
URGENCIES = ("real-time", "urgent", "regular")


@dataclass(frozen=True)
class HookAnswer:
    status: int
    body: Any  # the parsed JSON, or the text when the shop did not answer JSON
    headers: dict[str, str]

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def hook_headers(
    *,
    shop: str,
    key: ShopKey,
    request_id: str | None = None,
    urgency: str = "regular",
) -> dict[str, str]:
    """The headers of one hook call; a fresh ``X-Request-ID`` unless one is given."""
    if urgency not in URGENCIES:
        raise ValueError(f"urgency must be one of {', '.join(URGENCIES)}, not {urgency!r}")
    return {
        "Authorization": f"Bearer {sign_token(key, shop, ttl=TOKEN_LIFETIME)}",
        "X-Request-ID": request_id or str(uuid.uuid4()),
        "X-BH-Urgency": urgency,
    }


def hook_url(url: str, name: str) -> str:
    """The registered URL with ``:name`` replaced; a URL without it is used as it is."""
    return url.replace(":name", name)


def call_hook(
    url: str,
    name: str,
    data: Any,
    *,
    shop: str,
    key: ShopKey,
    request_id: str | None = None,
    urgency: str = "regular",
    timeout: float = 30.0,
) -> HookAnswer:
    """POST ``data`` to hook ``name`` at ``url``; any HTTP status is returned, not raised."""
    headers = {
        **hook_headers(shop=shop, key=key, request_id=request_id, urgency=urgency),
        "Content-Type": "application/json",
    }
    request = urllib.request.Request(
        hook_url(url, name), data=json.dumps(data).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return _answer(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as error:
        return _answer(error.code, error.read(), dict(error.headers))


def _answer(status: int, raw: bytes, headers: dict[str, str]) -> HookAnswer:
    text = raw.decode(errors="replace")
    try:
        body: Any = json.loads(text)
    except ValueError:
        body = text
    return HookAnswer(status, body, headers)

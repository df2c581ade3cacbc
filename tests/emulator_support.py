"""Shared pieces of the emulator handler tests: a configured state and a signed POST."""

from __future__ import annotations

import json
from typing import Any

from django_bubblehouse.auth import mint_shop_token
from django_bubblehouse.conf import get_settings
from django_bubblehouse.testing.emulator import EmulatorState, handle

DEALERS = "authorized-dealers"
ELIGIBLE = "spring-cleaning-eligible-dealers"


def post(
    state: EmulatorState,
    func: str,
    body: object,
    *,
    token: str | None = None,
    version: str = "v2023061",
    shop: str | None = None,
    raw: bytes | None = None,
) -> tuple[int, Any]:
    conf = get_settings()
    headers = {"Content-Type": "application/json"}
    if token != "":
        headers["Authorization"] = f"Bearer {token or mint_shop_token(conf)}"
    path = f"/api/{version}/{shop or conf.shop}/{func}"
    reply = handle(
        state, "POST", path, headers, raw if raw is not None else json.dumps(body).encode()
    )
    return reply.status, reply.body


def error(reply: tuple[int, Any]) -> tuple[int, str]:
    status, body = reply
    return status, body["id"]

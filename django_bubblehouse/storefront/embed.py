"""The URLs of Bubblehouse's Blocks iframe and script for this shop."""

from __future__ import annotations

from urllib.parse import urlencode

from ..conf import BubblehouseSettings, get_settings

INSTANCE = "bhpage"


def _origin(conf: BubblehouseSettings) -> str:
    # The API's base URL is <origin>/api/<version>/<shop>; Blocks live beside it.
    return conf.api_base_url.removesuffix(f"/api/{conf.api_version}/{conf.shop}")


def iframe_url(token: str, *, page: str | None = None) -> str:
    """``<origin>/blocks/<version>/<shop>/<page>?instance=bhpage&auth=<token>``.

    ``token`` is a customer token or ``""`` for an anonymous visitor, never a shop token.
    """
    conf = get_settings()
    query = urlencode({"instance": INSTANCE, "auth": token})
    blocks = f"{_origin(conf)}/blocks/{conf.api_version}/{conf.shop}"
    return f"{blocks}/{page or conf.storefront_page}?{query}"


def script_url() -> str:
    conf = get_settings()
    return f"{_origin(conf)}/s/{conf.shop}/bubblehouse.js"

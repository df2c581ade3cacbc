"""Who may call the app's inbound URLs (pull feeds and hooks): Bubblehouse, by bearer token.

Only the ``Authorization`` header counts; sessions and cookies are never
consulted, so a logged-in staff browser gets nothing from these URLs.

An inbound token is an HS256 JWT signed with one of ``INBOUND_KEYS`` (by
default the shop's own keys), chosen by ``kid``, with the configured ``aud``
and ``sub``, an ``exp`` in the future and a lifetime of at most
``INBOUND_MAX_TOKEN_LIFETIME``. Tokens this app mints itself (push tokens,
storefront customer tokens) carry a ``token_use`` claim and are refused here:
a push token that leaks from a log or a proxy must not read the shop's data or
mint discount codes. ``INBOUND_ACCEPT_PUSH_TOKENS`` lets a host opt back in
for push tokens only.
"""

from __future__ import annotations

import logging
import time

from django.http import HttpRequest

from .auth import PUSH_USE, USE_CLAIM, InvalidSecret, TokenRejected, verify_token
from .conf import BubblehouseSettings, get_settings

logger = logging.getLogger(__name__)

_SCHEME = "bearer"


def check_inbound_bearer(request: HttpRequest) -> dict[str, object]:
    """The verified claims of the request's bearer token; :class:`TokenRejected` otherwise."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise TokenRejected("missing Authorization header")
    if scheme.lower() != _SCHEME or not token.strip():
        raise TokenRejected("the Authorization header must be 'Bearer <token>'")
    conf = get_settings()
    if not conf.shop or not conf.inbound_keys:
        raise TokenRejected("inbound URLs are not configured on this shop")
    try:
        claims = verify_token(
            token.strip(),
            keys=conf.inbound_keys,
            subject=conf.inbound_subject,
            audience=conf.inbound_audience,
        )
    except InvalidSecret as error:
        # The shop's own configuration is broken; say so in the log, not to the caller.
        logger.error("inbound call: a configured BUBBLEHOUSE secret is not valid base64")
        raise TokenRejected("the token could not be verified") from error
    _check_lifetime(claims, conf)
    _check_use(claims, conf)
    return claims


def _check_lifetime(claims: dict[str, object], conf: BubblehouseSettings) -> None:
    # verify_token required exp, and PyJWT checked that exp and iat are numbers.
    expires, issued = claims["exp"], claims.get("iat")
    start = issued if isinstance(issued, int | float) else time.time()
    if not isinstance(expires, int | float) or expires - start > conf.inbound_max_token_lifetime:
        raise TokenRejected(
            f"token lifetime exceeds {conf.inbound_max_token_lifetime} seconds; "
            "mint short-lived tokens"
        )


def _check_use(claims: dict[str, object], conf: BubblehouseSettings) -> None:
    use = claims.get(USE_CLAIM)
    if use is None or (use == PUSH_USE and conf.inbound_accept_push_tokens):
        return
    if use == PUSH_USE:
        raise TokenRejected("this shop's own push tokens are not accepted here")
    raise TokenRejected(f"a {use} token is not accepted here")

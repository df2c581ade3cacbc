"""Who may read a pull URL: the bearer of a shop token signed with one of the shop's keys.

Only the ``Authorization`` header counts. Sessions and cookies are never
consulted, so a logged-in staff browser gets no data from these URLs.
"""

from __future__ import annotations

import logging

from django.http import HttpRequest

from ..auth import InvalidSecret, TokenRejected, verify_token
from ..conf import get_settings

logger = logging.getLogger(__name__)

_SCHEME = "bearer"


def check_bearer(request: HttpRequest) -> None:
    """Raise :class:`TokenRejected` unless the request carries a valid shop token."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise TokenRejected("missing Authorization header")
    if scheme.lower() != _SCHEME or not token.strip():
        raise TokenRejected("the Authorization header must be 'Bearer <token>'")
    conf = get_settings()
    if not conf.shop or not conf.keys:
        raise TokenRejected("pull URLs are not configured on this shop")
    try:
        verify_token(token.strip(), keys=conf.keys, subject=conf.shop)
    except InvalidSecret:
        # The shop's own configuration is broken; say so in the log, not to the caller.
        logger.error("pull URL: a configured BUBBLEHOUSE secret is not valid base64")
        raise TokenRejected("the token could not be verified") from None

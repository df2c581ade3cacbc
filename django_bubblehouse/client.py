"""The one place that talks HTTP to the Bubblehouse Order API.

Every call: a freshly minted shop token, the (connect, read) timeout, a
versioned User-Agent, a Decimal-safe JSON body, and a typed error for anything
but HTTP 200 with ``{"ok": true}``. Nothing is retried here (a 401 is final: the
token was minted for that very request); every retry decision, and the
shop-wide hold after a 429 (:mod:`.throttle`), belongs to the outbox.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Mapping, Sequence
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from django.core.exceptions import ImproperlyConfigured

from . import __version__
from .auth import InvalidSecret, mint_shop_token
from .conf import BubblehouseSettings, get_settings
from .encoding import dumps
from .exceptions import (
    BubblehouseAPIError,
    ConfigurationAPIError,
    RateLimitedAPIError,
    RejectedAPIError,
    TransientAPIError,
)
from .kinds import Kind

logger = logging.getLogger(__name__)

USER_AGENT = f"django-bubblehouse/{__version__} (+python-requests/{requests.__version__})"
API_VERSION_ERRORS = frozenset(
    {"invalid_global_api_version", "obsolete_global_api_version", "inaccessible_global_api_version"}
)
ENTITY_SET_NOT_FOUND = "entity_set_not_found"
# Error bodies can be whole HTML pages from a proxy; keep exception text readable.
MAX_MESSAGE_CHARS = 300
# A proxy's error page may echo request headers; no token may reach an exception or a log.
JWT_PATTERN = re.compile(r"eyJ[\w-]*\.[\w-]+\.[\w-]*")

Payloads = Sequence[Mapping[str, Any]]


class BubblehouseClient:
    """Pushes to the Order API; one method per call, one HTTP request per method call.

    Success is HTTP 200 with ``{"ok": true}``. A 200 whose body is not JSON or
    lacks ``"ok": true`` raises :class:`TransientAPIError`: the push may not
    have been applied, and pushing the same data again is a harmless no-op
    update, so the outbox's bounded retries are the safe answer.
    """

    def __init__(
        self,
        settings: BubblehouseSettings | None = None,
        session: requests.Session | None = None,
    ) -> None:
        self.settings = settings or get_settings()
        self.session = session or requests.Session()

    def update_orders(self, orders: Payloads) -> None:
        self._call(Kind.ORDERS.api_call, {"orders": list(orders)}, len(orders))

    def update_customers(self, customers: Payloads) -> None:
        self._call(Kind.CUSTOMERS.api_call, {"customers": list(customers)}, len(customers))

    def update_products(
        self,
        products: Payloads = (),
        collections: Payloads = (),
        *,
        replace_products: bool = False,
        replace_collections: bool = False,
    ) -> None:
        # The API wants "collections" even when empty.
        body: dict[str, Any] = {"products": list(products), "collections": list(collections)}
        if replace_products:
            body["replace_products"] = True
        if replace_collections:
            body["replace_collections"] = True
        self._call(Kind.PRODUCTS.api_call, body, len(products) + len(collections))

    def update_entities(
        self, entity_set: str, entities: Payloads, *, replace: bool = False
    ) -> None:
        """A replace is never split: each call is exactly one request."""
        body: dict[str, Any] = {"entity_set": entity_set, "entities": list(entities)}
        if replace:
            body["replace_entities"] = True
        self._call(Kind.ENTITIES.api_call, body, len(entities), entity_set=entity_set)

    def _call(
        self, call: str, body: dict[str, Any], count: int, *, entity_set: str | None = None
    ) -> None:
        """One POST. A 401 is not re-sent: the token was minted for this very request, so
        the identical request would be refused again."""
        if self.settings.debug_mode:
            body["debug"] = True
        headers = {
            "Authorization": f"Bearer {self._token(call)}",
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
        }
        logger.debug("%s: sending %d item(s)", call, count)
        host = urlsplit(self.settings.api_base_url).netloc
        try:
            response = self.session.post(
                f"{self.settings.api_base_url}/{call}",
                data=dumps(body).encode(),
                headers=headers,
                timeout=self.settings.timeout,
                # A redirected POST turns into a GET; a redirect is reported, not followed.
                allow_redirects=False,
            )
        except requests.Timeout as error:
            connect, read = self.settings.timeout
            raise TransientAPIError(
                f"request to {host} timed out (connect {connect:g}s, read {read:g}s)", call=call
            ) from error
        except requests.ConnectionError as error:
            raise TransientAPIError(
                f"connection to {host} failed: {_reason(error)}", call=call
            ) from error
        refused = _error_for(call, response, entity_set)
        if refused is not None:
            raise refused
        logger.info("%s: %d item(s) accepted", call, count)

    def _token(self, call: str) -> str:
        try:
            return mint_shop_token(self.settings)
        except (ImproperlyConfigured, InvalidSecret) as error:
            # Both messages are written to be safe to show; they never contain the secret.
            raise ConfigurationAPIError(f"cannot mint a shop token: {error}", call=call) from error


def _error_for(
    call: str, response: requests.Response, entity_set: str | None
) -> BubblehouseAPIError | None:
    body = _json(response)
    status = response.status_code
    if status == 200 and body.get("ok") is True:
        return None
    error_id = body.get("id") if isinstance(body.get("id"), str) else None
    message = _message(body, response)
    error: dict[str, Any] = {"call": call, "status": status, "error_id": error_id}
    return _classify(status, error_id, message, error, response, entity_set)


def _reason(error: requests.ConnectionError) -> str:
    """The innermost cause, e.g. "Connection refused"; a URL never carries a token here."""
    cause: BaseException = error
    while (inner := cause.__cause__ or cause.__context__) is not None:
        cause = inner
    text = str(cause) or type(cause).__name__
    return JWT_PATTERN.sub("[token]", text)[:MAX_MESSAGE_CHARS]


def _classify(
    status: int,
    error_id: str | None,
    message: str,
    error: dict[str, Any],
    response: requests.Response,
    entity_set: str | None,
) -> BubblehouseAPIError:
    if status == 200:
        return TransientAPIError(f'HTTP 200 without {{"ok": true}}: {message}', **error)
    if status == 401:
        return ConfigurationAPIError(f"token refused: {message}", **error)
    if status == 429:
        return RateLimitedAPIError(message, retry_after=_retry_after(response), **error)
    if status == 400 and error_id in API_VERSION_ERRORS:
        return ConfigurationAPIError(message, **error)
    if status == 400 and error_id == ENTITY_SET_NOT_FOUND:
        return ConfigurationAPIError(message, scope=f"entity_set:{entity_set}", **error)
    if 400 <= status < 500:
        return RejectedAPIError(message, **error)
    if status >= 500:
        # A 503 may say when to come back; the outbox then waits at least that long.
        return TransientAPIError(message, retry_after=_retry_after(response), **error)
    # 1xx/3xx: a wrong host or scheme, which every call would hit alike.
    return ConfigurationAPIError(f"unexpected response: {message}", **error)


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _message(body: Mapping[str, Any], response: requests.Response) -> str:
    text = body.get("message")
    fallback = response.reason or f"HTTP {response.status_code}"
    if not isinstance(text, str) or not text:
        # A JSON error body without a message is summed up by its status, not its raw JSON.
        text = fallback if body else response.text.strip() or fallback
    return JWT_PATTERN.sub("[token]", text)[:MAX_MESSAGE_CHARS]


def _retry_after(response: requests.Response) -> float | None:
    """``Retry-After`` as seconds from now; it may be a number or an HTTP-date."""
    value = response.headers.get("Retry-After", "").strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


_session: requests.Session | None = None
_session_pid: int | None = None
_client: BubblehouseClient | None = None


def get_client() -> BubblehouseClient:
    """The process's client: one shared ``requests.Session`` (re-created after a fork, since
    pooled sockets must not be shared with the parent) and a client rebuilt whenever the
    settings change (``get_settings()`` returns a new object after ``setting_changed``)."""
    global _session, _session_pid, _client
    if _session is None or _session_pid != os.getpid():
        _session, _session_pid, _client = requests.Session(), os.getpid(), None
    settings = get_settings()
    if _client is None or _client.settings is not settings:
        _client = BubblehouseClient(settings, _session)
    return _client

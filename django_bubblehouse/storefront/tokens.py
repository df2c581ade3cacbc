"""Customer-scoped tokens, the only kind of token a browser may ever hold.

``sub`` is ``<shop>/<customer id>``, where the id is exactly what the
customer serializer pushes in ``UpdateCustomers3``: Bubblehouse must see one
customer, not two. Anonymous visitors get no token at all; a shop token is
never handed out here.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest
from django.utils.module_loading import import_string

from ..auth import CUSTOMER_USE, mint_token
from ..conf import SETTINGS_NAME, BubblehouseSettings, get_settings
from ..exceptions import SerializationError
from ..kinds import Kind
from ..serializers.registry import serializers_for_model

logger = logging.getLogger(__name__)


def customer_id(customer: Any) -> str:
    """The id the customer serializer sends for ``customer`` (its payload's ``id``)."""
    serializer = next(
        (s for s in serializers_for_model(type(customer)) if s.kind is Kind.CUSTOMERS), None
    )
    if serializer is None:
        raise ImproperlyConfigured(
            f"{SETTINGS_NAME}['SERIALIZERS'] has no customer serializer for "
            f"{type(customer).__name__}: a customer token must name the id that is pushed."
        )
    identity = str(serializer().serialize(customer).get("id") or "")
    if not identity:
        raise ValueError(f"{serializer.label()} gives {customer!r} no id")
    return identity


def mint_customer_token(
    customer: Any, settings: BubblehouseSettings | None = None, *, now: float | None = None
) -> str:
    """A short-lived (``CUSTOMER_TOKEN_TTL``) token with ``sub = <shop>/<customer id>``."""
    conf = settings or get_settings()
    return mint_token(
        f"{conf.shop}/{customer_id(customer)}",
        conf.signing_key,
        ttl=conf.customer_token_ttl,
        use=CUSTOMER_USE,
        now=now,
    )


def current_customer(request: HttpRequest) -> Any | None:
    """The logged-in customer of ``request``; always ``None`` for an anonymous visitor."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    path = get_settings().storefront_customer
    if not path:
        return user
    resolve = import_string(path)
    return resolve(request)


def request_token(request: HttpRequest) -> str:
    """The current customer's token, or ``""`` for anyone who is not a logged-in customer.

    A customer the serializer cannot build gets no token (and a logged warning)
    rather than a broken page: Bubblehouse does not know that customer either.
    """
    customer = current_customer(request)
    if customer is None:
        return ""
    try:
        return mint_customer_token(customer)
    except SerializationError as error:
        logger.warning("storefront: no customer token for %r: %s", customer, error)
        return ""

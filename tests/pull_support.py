"""Shared by the pull URL tests: tokens, authenticated GETs and a small shop."""

from __future__ import annotations

import datetime as dt
import time
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import jwt
from django.test import Client

from django_bubblehouse.auth import decode_secret
from django_bubblehouse.conf import get_settings
from tests.testapp.models import Collection, Customer, Order, OrderLine, Product, Variant

if TYPE_CHECKING:
    from django.test.client import _MonkeyPatchedWSGIResponse

BASE = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def make_token(
    *,
    kid: str = "test-kid",
    secret: str | None = None,
    headers: dict[str, Any] | None = None,
    algorithm: str = "HS256",
    drop: tuple[str, ...] = (),
    **claims: Any,
) -> str:
    """A token like Bubblehouse's, with any claim overridden or dropped."""
    now = int(time.time())
    body = {"aud": "BH", "sub": get_settings().shop, "iat": now, "exp": now + 300, **claims}
    for name in drop:
        del body[name]
    key = decode_secret(secret or get_settings().keys[0].secret)
    return jwt.encode(body, key, algorithm=algorithm, headers={"kid": kid, **(headers or {})})


def pull(
    client: Client, url: str, token: str | None = None, **params: Any
) -> _MonkeyPatchedWSGIResponse:
    """GET ``url`` with a valid shop token unless another one is given."""
    bearer = make_token() if token is None else token
    return client.get(url, params, headers={"Authorization": f"Bearer {bearer}"})


def body_of(response: Any) -> str:
    """The whole body, consuming a streamed one."""
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return str(response.content.decode())


def make_product(title: str = "Mug", *, prices: tuple[str, ...] = ("9.50",)) -> Product:
    product = Product.objects.create(title=title, slug=title.lower(), sku=f"SKU-{title}")
    product.collections.add(Collection.objects.create(title="Kitchen", slug="kitchen"))
    for index, price in enumerate(prices):
        Variant.objects.create(
            product=product, title=f"v{index}", sku=f"{title}-{index}", price=Decimal(price)
        )
    return product


def make_order(
    number: str,
    *,
    lines: int = 1,
    status: str = "paid",
    guest: bool = False,
    updated_at: dt.datetime | None = None,
) -> Order:
    customer = None if guest else Customer.objects.create(email=f"{number}@example.com")
    order = Order.objects.create(
        number=number,
        customer=customer,
        guest_email=f"guest-{number}@example.com" if guest else "",
        status=status,
        placed_at=BASE,
        shipping_total=Decimal("4.90"),
        tax_total=Decimal("1.10"),
    )
    product = make_product(f"P{number}") if lines else None
    for index in range(lines):
        OrderLine.objects.create(
            order=order, product=product, quantity=index + 1, unit_price=Decimal("12.50")
        )
    if updated_at is not None:
        Order.objects.filter(pk=order.pk).update(updated_at=updated_at)
        order.refresh_from_db()
    return order

"""Checkout: turn a cart into an order, honouring a discount code.

The code's rules are checked when the order is placed (expiry, minimum order,
uses left, the customer it belongs to); its value is spread over the lines as
``line_discount`` (to the cent, the remainder on the last line) and recorded
as an ``OrderDiscount``, which is what the order serializer pushes.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from .models import Customer, DiscountCode, Order, OrderDiscount, OrderLine, Variant

CENT = Decimal("0.01")


class CodeRefused(Exception):
    """The code cannot be used for this order; the message says why (for the customer)."""


def place_order(
    number: str,
    cart: Sequence[tuple[str, int]],
    *,
    customer: Customer | None = None,
    guest_email: str = "",
    code: str = "",
    shipping: Decimal = Decimal("4.95"),
) -> Order:
    """A paid order of ``cart`` (``(sku, quantity)`` pairs) with ``code`` applied, if given."""
    with transaction.atomic():
        variants = {v.sku: v for v in Variant.objects.select_related("product")}
        lines = [(variants[sku], quantity) for sku, quantity in cart]
        subtotal = sum((v.price * quantity for v, quantity in lines), Decimal("0"))
        discount = _redeem(code, customer, subtotal) if code else None
        off = discount_amount(discount, subtotal) if discount else Decimal("0")
        order = Order.objects.create(
            number=number,
            customer=customer,
            guest_email=guest_email,
            status="paid",
            placed_at=timezone.now(),
            shipping=shipping,
        )
        for (variant, quantity), line_off in zip(lines, _spread(off, lines), strict=True):
            add_line(order, variant, quantity, line_discount=line_off)
        if discount is not None:
            OrderDiscount.objects.create(order=order, code=discount.code, amount=off)
        return order


def add_line(
    order: Order, variant: Variant, quantity: int, *, line_discount: Decimal = Decimal("0")
) -> OrderLine:
    """A line of ``variant`` at its current price, titled like its product."""
    return OrderLine.objects.create(
        order=order,
        variant=variant,
        title=variant.product.title,
        quantity=quantity,
        unit_price=variant.price,
        line_discount=line_discount,
    )


def discount_amount(discount: DiscountCode, subtotal: Decimal) -> Decimal:
    if discount.percentage is not None:
        off = (subtotal * discount.percentage / 100).quantize(CENT, ROUND_HALF_UP)
    else:
        off = discount.amount or Decimal("0")
    return min(off, subtotal)


def _redeem(code: str, customer: Customer | None, subtotal: Decimal) -> DiscountCode:
    discount = DiscountCode.objects.select_for_update().filter(code=code).first()
    if discount is None:
        raise CodeRefused(f"{code} is not a valid code")
    if discount.ends_at is not None and discount.ends_at <= timezone.now():
        raise CodeRefused(f"{code} has expired")
    if discount.customer_id is not None and discount.customer != customer:
        raise CodeRefused(f"{code} belongs to another customer")
    if discount.min_order_amount is not None and subtotal < discount.min_order_amount:
        raise CodeRefused(f"{code} needs an order of at least {discount.min_order_amount}")
    if discount.max_uses is not None and discount.times_used >= discount.max_uses:
        raise CodeRefused(f"{code} has been used up")
    DiscountCode.objects.filter(pk=discount.pk).update(times_used=F("times_used") + 1)
    return discount


def _spread(off: Decimal, lines: Sequence[tuple[Variant, int]]) -> list[Decimal]:
    """``off`` split over the lines in proportion to their value; the parts add up exactly."""
    totals = [variant.price * quantity for variant, quantity in lines]
    whole = sum(totals, Decimal("0"))
    if not off or not whole:
        return [Decimal("0")] * len(lines)
    parts = [(off * total / whole).quantize(CENT, ROUND_HALF_UP) for total in totals[:-1]]
    return [*parts, off - sum(parts, Decimal("0"))]

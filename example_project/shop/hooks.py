"""What the shop does when Bubblehouse calls it back (``BUBBLEHOUSE["HOOK_HANDLERS"]``)."""

from __future__ import annotations

from django_bubblehouse.hooks import Discount

from .models import Customer, DiscountCode


def create_discount(discount: Discount) -> None:
    """Create the code Bubblehouse generated; the app already made this idempotent per code.

    An exception here makes the hook answer 500, and Bubblehouse retries.
    """
    customer = None
    if discount.customer_id is not None:
        # The id Bubblehouse knows is the one CustomerSerializer pushes: the pk.
        customer = Customer.objects.get(pk=discount.customer_id)
    DiscountCode.objects.get_or_create(
        code=discount.code,
        defaults={
            "title": discount.title,
            "amount": discount.amount,
            "percentage": discount.percentage,
            "min_order_amount": discount.min_order_amount,
            "max_uses": discount.max_uses,
            "ends_at": discount.end_time,
            "customer": customer,
        },
    )

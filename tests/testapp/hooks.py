"""Hook handlers of the test shop: they record what they were given."""

from __future__ import annotations

from django_bubblehouse.hooks import Discount, Event

DISCOUNTS: list[Discount] = []
EVENTS: list[Event] = []


class HandlerBroke(RuntimeError):
    pass


def create_discount(discount: Discount) -> None:
    DISCOUNTS.append(discount)
    if discount.title == "break me":
        raise HandlerBroke(f"cannot create {discount.code}")


def send_event(event: Event) -> str:
    EVENTS.append(event)
    return str(event.data.get("want", "sent"))

"""GDPR erasure: forget the outbox rows that hold one customer's personal data.

Rows are references, so most hold no personal data at all; what does is the
customer's own row, the delete payloads captured when a customer or an order
disappeared (an order's carries its customer's id and email) and the identity an
order row keeps of its last pushed customer (``pushed_identity``). Rows
still waiting to be sent are kept unless asked: they may carry the very
deletion Bubblehouse has to receive for the erasure to be complete there.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q, QuerySet

from ..kinds import Kind
from ..models import OutboxEntry, OutboxState
from ..serializers.registry import all_serializers

WAITING = (OutboxState.PENDING, OutboxState.SENDING)


@dataclass(frozen=True)
class Erasure:
    purged: int
    kept_waiting: int  # rows still to be sent, left in place


def customer_rows(customer_id: str = "", email: str = "") -> QuerySet[OutboxEntry]:
    """Every row naming the customer by the id Bubblehouse knows, or by email."""
    if not customer_id and not email:
        raise ValueError("name the customer by id, by email, or both")
    condition = Q(pk__in=[])
    if customer_id:
        customers = [s.label() for s in all_serializers() if s.kind is Kind.CUSTOMERS]
        condition |= Q(serializer__in=customers, object_key=customer_id)
        condition |= Q(kind=Kind.CUSTOMERS, delete_payload__id=customer_id)
        condition |= Q(delete_payload__customer__id=customer_id)
        condition |= Q(pushed_identity__customer__id=customer_id)
    if email:
        condition |= Q(delete_payload__email=email) | Q(delete_payload__customer__email=email)
        condition |= Q(pushed_identity__customer__email=email)
    return OutboxEntry.objects.filter(condition)


def purge_customer(
    customer_id: str = "", email: str = "", *, include_waiting: bool = False
) -> Erasure:
    rows = customer_rows(customer_id, email)
    waiting = 0 if include_waiting else rows.filter(state__in=WAITING).count()
    if not include_waiting:
        rows = rows.exclude(state__in=WAITING)
    purged, _ = rows.delete()
    return Erasure(purged=purged, kept_waiting=waiting)

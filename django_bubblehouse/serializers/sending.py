"""The one mapping from a serializer's kind to its Order API call."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..kinds import Kind
from .base import Serializer

if TYPE_CHECKING:
    from ..client import BubblehouseClient


def send(
    serializer_cls: type[Serializer],
    client: BubblehouseClient,
    payloads: Sequence[dict[str, Any]],
    *,
    replace: bool = False,
) -> None:
    """Push ``payloads`` in one request; ``replace`` replaces the whole set (never chunk it)."""
    kind = serializer_cls.kind
    if kind is Kind.ENTITIES:
        entity_set = serializer_cls.entity_set
        if not entity_set:
            raise ValueError(f"{serializer_cls.label()} has no entity_set")
        client.update_entities(entity_set, payloads, replace=replace)
    elif kind is Kind.PRODUCTS:
        client.update_products(products=payloads, replace_products=replace)
    elif kind is Kind.COLLECTIONS:
        client.update_products(collections=payloads, replace_collections=replace)
    elif replace:
        raise ValueError(f"{kind.api_call} has no replace mode")
    elif kind is Kind.ORDERS:
        client.update_orders(payloads)
    else:
        client.update_customers(payloads)

"""Customers (Customer2)."""

from __future__ import annotations

from ..kinds import Kind
from .base import Serializer


class CustomerSerializer(Serializer):
    """Customer2. Declare ``email`` (highly recommended), names, ``phone``.

    ``extras`` must be an :class:`~django_bubblehouse.fields.ExtrasField` with an
    explicit allow-list; nothing is sent that is not declared. A deleted
    customer is pushed as ``{"id": ..., "deleted": true}``.
    """

    kind = Kind.CUSTOMERS

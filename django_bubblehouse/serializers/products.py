"""Products (Product2, with ProductVariant2) and collections (Collection2)."""

from __future__ import annotations

from typing import ClassVar

from ..fields import Field, IdField
from ..kinds import Kind
from .base import PayloadSerializer, Serializer


class VariantSerializer(PayloadSerializer):
    """One ProductVariant2; a zero ``price`` also needs ``price_known: true``."""

    id: Field = IdField(source="pk")


class ProductSerializer(Serializer):
    """Product2. Declare ``title`` and, preferably, ``collection_ids``.

    Membership goes on the product (``collection_ids``), never on the
    collection. ``reference_fields`` is the subset an order line carries so an
    order processed before its product push still knows title and collections.
    """

    kind = Kind.PRODUCTS
    reference_fields: ClassVar[tuple[str, ...]] = ("id", "title", "collection_ids")


class CollectionSerializer(Serializer):
    """Collection2: ``id``, ``title``, ``slug``."""

    kind = Kind.COLLECTIONS

"""Serializers map a shop's models to Bubblehouse payloads; subclass one per kind."""

from .base import BatchResult, PayloadSerializer, Serializer
from .customers import CustomerSerializer
from .entities import EntitySerializer
from .orders import OrderItemSerializer, OrderSerializer, OrderStatusField
from .products import CollectionSerializer, ProductSerializer, VariantSerializer
from .sending import send

__all__ = [
    "BatchResult",
    "CollectionSerializer",
    "CustomerSerializer",
    "EntitySerializer",
    "OrderItemSerializer",
    "OrderSerializer",
    "OrderStatusField",
    "PayloadSerializer",
    "ProductSerializer",
    "Serializer",
    "VariantSerializer",
    "send",
]

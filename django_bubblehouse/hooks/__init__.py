"""Inbound hooks: Bubblehouse calls the shop back (Hello1, CreateDiscount4, SendEvent1)."""

from .payloads import Discount, Event, EventOutcome

__all__ = ["Discount", "Event", "EventOutcome"]

"""Orders (Order2) with their customer and product lines (OrderItem2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..conf import ORDER_STATUSES, SETTINGS_NAME, get_settings
from ..fields import Field, FieldError, IdField, MethodField, NestedField, resolve
from ..fields import iterate as iterate_value
from ..kinds import Kind
from .base import Payload, PayloadSerializer, Serializer

IDENTITY_KEYS = ("id", "email")


class OrderStatusField(Field):
    """The host's status through ``BUBBLEHOUSE["ORDER_STATUS_MAP"]``; unmapped is an error."""

    def convert(self, value: Any) -> str:
        status_map = get_settings().order_status_map
        setting = f'{SETTINGS_NAME}["ORDER_STATUS_MAP"]'
        if value not in status_map:
            known = ", ".join(sorted(map(str, status_map))) or "none"
            raise FieldError(f"order status {value!r} is not in {setting} (mapped: {known})")
        mapped = status_map[value]
        if mapped not in ORDER_STATUSES:
            raise FieldError(
                f"{setting} maps {value!r} to {mapped!r}, not one of {', '.join(ORDER_STATUSES)}"
            )
        return mapped


class OrderItemSerializer(PayloadSerializer):
    """One product line. Declare ``product``, ``quantity``, ``amount_full``, ``amount_spent``.

    The line id defaults to its pk: without stable ids Bubblehouse matches
    updates and partial refunds by position.
    """

    id: Field = IdField(source="pk")


class OrderSerializer(Serializer):
    """Order2. Set ``model`` and ``line_serializer``; declare times and amounts.

    The customer is sent in full (through ``customer_serializer``, by default the
    registered customer serializer of the related model) because order and
    customer pushes may arrive in any order. An order without a customer is a
    guest order: ``guest_customer_fields`` maps Customer2 keys to the order's
    own attributes, and the customer is identified by email.
    """

    kind = Kind.ORDERS
    line_serializer: ClassVar[type[PayloadSerializer]] = OrderItemSerializer
    lines_source: ClassVar[str] = "lines"
    customer_source: ClassVar[str] = "customer"
    customer_serializer: ClassVar[type[PayloadSerializer] | None] = None
    guest_customer_fields: ClassVar[Mapping[str, str]] = {}

    status: Field = OrderStatusField()
    customer: Field = MethodField()
    items: Field = MethodField()

    def include_line(self, line: Any) -> bool:
        """False for lines that are not products (discounts, shipping, taxes)."""
        return True

    def product_lines(self, order: Any) -> list[Any]:
        """The lines sent as items; also what amount methods should add up."""
        lines = resolve(order, self.lines_source)
        return [] if lines is None else [ln for ln in iterate_value(lines) if self.include_line(ln)]

    def get_items(self, order: Any) -> list[Payload]:
        lines = NestedField(self.line_serializer, many=True)
        result: list[Payload] = lines.build(self, self.product_lines(order))
        return result

    def get_customer(self, order: Any) -> Payload:
        customer = resolve(order, self.customer_source)
        if customer is not None:
            return self._customer_serializer(type(customer))().to_representation(customer)
        guest = {
            key: str(value)
            for key, source in self.guest_customer_fields.items()
            if (value := resolve(order, source)) not in (None, "")
        }
        if "email" not in guest:
            raise FieldError("the order has no customer and no guest email to identify one")
        return guest

    def deleted_representation(self, order: Any) -> Payload:
        """Canceled (or ``deleted`` with ALLOW_ORDER_DELETE), keeping the required customer.

        Order2 requires a customer; its identity is enough to cancel the order. A
        customer row that is already gone (deleted in the same cascade, by a raw
        delete) is identified by the id the order still points at, or else (the
        foreign key was set to NULL) by the customer of its last successful push.
        """
        payload = self.field_values(order, ("id",))
        try:
            customer = self.field_values(order, ("customer",))["customer"]
        except FieldError:
            customer = self._customer_pointed_at(order) or self._last_pushed_customer(order)
            if customer is None:
                raise
        payload["customer"] = {k: customer[k] for k in IDENTITY_KEYS if k in customer}
        if get_settings().allow_order_delete:
            return {**payload, "deleted": True}
        return {**payload, "status": "canceled"}

    def pushed_identity(self, payload: Payload) -> Payload | None:
        customer = payload.get("customer")
        if not isinstance(customer, Mapping):
            return None
        return {"customer": {k: customer[k] for k in IDENTITY_KEYS if k in customer}}

    def _last_pushed_customer(self, order: Any) -> Payload | None:
        from ..models import OutboxEntry

        identity = (
            OutboxEntry.objects.filter(serializer=self.label(), object_key=self.object_key(order))
            .values_list("pushed_identity", flat=True)
            .first()
        )
        customer = identity.get("customer") if isinstance(identity, dict) else None
        return customer if isinstance(customer, dict) and customer else None

    def _customer_pointed_at(self, order: Any) -> Payload | None:
        """``{"id": ...}`` from the foreign key's raw value, when the customer row is gone.

        Only for a plain foreign key whose target's Bubblehouse id is its pk (the
        customer serializers' default).
        """
        try:
            field = order._meta.get_field(self.customer_source)
        except Exception:  # a dotted path or a property: nothing to read the raw id from
            return None
        raw = getattr(order, getattr(field, "attname", ""), None)
        return None if raw is None else {"id": str(raw)}

    def _customer_serializer(self, model: type[Any]) -> type[PayloadSerializer]:
        if self.customer_serializer is not None:
            return self.customer_serializer
        from ..registry import serializers_for_model

        found = [s for s in serializers_for_model(model) if s.kind is Kind.CUSTOMERS]
        if not found:
            raise FieldError(
                f"no customer serializer is registered for {model._meta.label}; "
                "register one or set customer_serializer"
            )
        return found[0]

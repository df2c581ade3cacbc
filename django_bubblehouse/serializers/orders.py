"""Orders (Order2) with their customer and product lines (OrderItem2)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..conf import ORDER_STATUSES, SETTINGS_NAME, get_settings
from ..fields import Field, FieldError, IdField, MethodField, NestedField, resolve
from ..fields import iterate as iterate_value
from ..kinds import Kind
from .base import Payload, PayloadSerializer, Serializer, defined_below
from .registry import serializers_for_model

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
    """One product line. Declare ``quantity``, ``amount_full``, ``amount_spent``.

    The line id defaults to its pk: without stable ids Bubblehouse matches
    updates and partial refunds by position. ``product`` is the line's product
    (``product_source``, or :meth:`line_product`) as a reference through the
    registered product serializer (``reference_fields``: id, title,
    collections). A line whose product row is gone sends ``product_snapshot``
    instead, Product2 key -> attribute stored on the line
    (``{"id": "product_ref", "title": "title"}``): the API forbids changing a
    line's product, so the snapshot's id must be the id the product was pushed with.
    """

    id: Field = IdField(source="pk")
    product: Field = MethodField()

    product_source: ClassVar[str] = "product"
    product_serializer: ClassVar[type[Serializer] | None] = None
    product_snapshot: ClassVar[Mapping[str, str]] = {}

    def line_product(self, line: Any) -> Any:
        """The product object the line is for (``None`` once it was deleted)."""
        return resolve(line, self.product_source)

    def get_product(self, line: Any) -> Payload:
        product = self.line_product(line)
        if product is not None:
            reference = self.product_serializer or registered(type(product), Kind.PRODUCTS)
            fields = getattr(reference, "reference_fields", ("id", "title"))
            return reference().represent(product, fields)
        snapshot = {
            key: str(value)
            for key, source in self.product_snapshot.items()
            if (value := resolve(line, source)) not in (None, "")
        }
        if "id" not in snapshot:
            raise FieldError(
                "the line has no product and product_snapshot gives no id (a line's product "
                "cannot change: store the product's id on the line and name it there)"
            )
        return snapshot


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
        result: list[Payload] = _lines(self.line_serializer).build(self, self.product_lines(order))
        return result

    def get_customer(self, order: Any) -> Payload:
        customer = resolve(order, self.customer_source)
        if customer is not None:
            serializer = self.customer_serializer or registered(type(customer), Kind.CUSTOMERS)
            return serializer().to_representation(customer)
        fallback = self.customer_fallback(order)
        if not fallback or not any(key in fallback for key in IDENTITY_KEYS):
            raise FieldError(
                "the order has no customer and no guest email to identify one (set "
                "guest_customer_fields, or override customer_fallback())"
            )
        return fallback

    def customer_fallback(self, order: Any) -> Payload | None:
        """The customer of an order without one: a guest, or an account deleted since
        (``SET_NULL``). By default ``guest_customer_fields`` identified by email; override
        to return another Customer2 identity (``{"id": ...}`` or ``{"email": ...}``)."""
        guest = {
            key: str(value)
            for key, source in self.guest_customer_fields.items()
            if (value := resolve(order, source)) not in (None, "")
        }
        return guest if "email" in guest else None

    @classmethod
    def field_sources(cls, name: str, field: Field) -> tuple[str, ...] | None:
        if name == "items":
            return (cls.lines_source,)
        if name == "customer" and "customer_fallback" not in defined_below(cls, OrderSerializer):
            return (cls.customer_source, *cls.guest_customer_fields.values())
        return super().field_sources(name, field)

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
            OutboxEntry.objects.filter(serializer=self.label(), object_key=str(order.pk))
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
        if raw is None or field.related_model is None:
            return None
        try:
            serializer = self.customer_serializer or registered(field.related_model, Kind.CUSTOMERS)
        except FieldError:
            return None
        # Only when the id Bubblehouse knows the customer by is the key the order holds.
        if not (issubclass(serializer, Serializer) and serializer.id_lookup() == "pk"):
            return None
        return {"id": str(raw)}


_LINES: dict[type[PayloadSerializer], NestedField] = {}


def _lines(serializer: type[PayloadSerializer]) -> NestedField:
    """The items field of ``serializer``'s lines, built once (not once per order)."""
    found = _LINES.get(serializer)
    if found is None:
        found = _LINES[serializer] = NestedField(serializer, many=True)
    return found


def registered(model: type[Any], kind: Kind) -> type[Serializer]:
    """The registered serializer of ``kind`` for ``model``, or a FieldError saying what to do."""
    found = [s for s in serializers_for_model(model) if s.kind is kind]
    if not found:
        setting = f"{kind.value[:-1]}_serializer"
        raise FieldError(
            f"no {kind.value[:-1]} serializer is registered for {model._meta.label}; "
            f"register one or set {setting}"
        )
    return found[0]

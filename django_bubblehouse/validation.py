"""The Order API's payload rules, as the serializers check their output.

The emulator keeps a rulebook of its own (``testing/emulator/rules.py``); a test
compares the two.

Each Bubblehouse type is a :class:`Schema`: a table of field checks (from
:mod:`django_bubblehouse.value_rules`) plus a few cross-field rules. Nested objects
reuse the same schemas (an order's customer is checked with the Customer2 rules,
a line's product with the Product2 rules in "reference" mode), so a rule is
written once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property
from typing import Any

from . import value_rules as values
from .conf import ORDER_STATUSES
from .kinds import Kind
from .value_rules import Check, Problem, Rule, accepts_of, describe

__all__ = ["Problem", "Schema", "describe", "rule_table", "validate", "validate_request"]

# A rule across an object's fields (a required key, one of two keys), called like a
# value's check; a Rule (with a fast ``accepts``) where it runs for every object sent.
CrossRule = Check


@dataclass(frozen=True)
class Schema:
    """One object type; like a value rule it answers fast (:meth:`accepts`) or in full."""

    name: str
    fields: Mapping[str, Check]
    rules: tuple[CrossRule, ...] = ()

    def with_rules(self, *rules: CrossRule) -> Schema:
        return Schema(self.name, self.fields, rules)

    @cached_property
    def _accepts(self) -> dict[str, tuple[type | None, Callable[[object], bool]]]:
        """Each field's fast check, with the type whose values it accepts without a call."""
        return {
            name: (getattr(check, "exact", None), accepts_of(check))
            for name, check in self.fields.items()
        }

    @cached_property
    def _rules_accept(self) -> tuple[Callable[[object], bool], ...]:
        return tuple(accepts_of(rule) for rule in self.rules)

    def accepts(self, value: object) -> bool:
        """No problem at all, warnings included (an unknown key is one)."""
        if type(value) is not dict and not isinstance(value, Mapping):
            return False
        fields = self._accepts
        for name, element in value.items():
            found = fields.get(name)
            if found is None:
                return False
            exact, accepts = found
            if type(element) is not exact and not accepts(element):
                return False
        # A loop, not all() over a generator: that cost a sixth of validating an order.
        for rule_accepts in self._rules_accept:  # noqa: SIM110
            if not rule_accepts(value):
                return False
        return True

    def __call__(self, value: object, path: str) -> list[Problem]:
        return [] if self.accepts(value) else self.check(value, path)

    def check(self, value: object, path: str) -> list[Problem]:
        if not isinstance(value, Mapping):
            return [Problem(path, f"must be a {self.name} object, got {describe(value)}")]
        problems = [p for rule in self.rules for p in rule(value, path)]
        prefix = f"{path}." if path else ""  # values.join, hoisted: this runs for every key
        for name, element in value.items():
            field_check = self.fields.get(name)
            if field_check is None:
                message = f"unknown {self.name} field (ignored by Bubblehouse)"
                problems.append(Problem(f"{prefix}{name}", message, warning=True))
            else:
                problems.extend(field_check(element, f"{prefix}{name}"))
        return problems


def _required(*names: str, unless_deleted: bool = False) -> Rule:
    required = frozenset(names)

    def accepts(obj: Any) -> bool:  # a Schema checks its rules on mappings only
        return obj.keys() >= required or (unless_deleted and obj.get("deleted") is True)

    def explain(obj: Any, path: str) -> list[Problem]:
        if accepts(obj):
            return []
        return [Problem(values.join(path, n), "is required") for n in names if n not in obj]

    return Rule(accepts, explain)


def _any_of(*names: str) -> Rule:
    def accepts(obj: Any) -> bool:
        # A present but malformed key is reported by its own field check.
        return any(obj.get(n) is not None for n in names)

    def explain(obj: Any, path: str) -> list[Problem]:
        if accepts(obj):
            return []
        listed = " or ".join(f'"{n}"' for n in names)
        return [Problem(path, f"needs at least one of {listed}, found none")]

    return Rule(accepts, explain)


def _zero_price_known(obj: Any, path: str) -> list[Problem]:
    price = obj.get("price")
    is_zero = isinstance(price, str) and values.MONEY.fullmatch(price) and Decimal(price) == 0
    if is_zero and obj.get("price_known") is not True:
        return [Problem(values.join(path, "price"), 'is zero, which needs "price_known": true')]
    return []


CUSTOMER = Schema(
    "Customer2",
    {
        "id": values.string_id,
        **dict.fromkeys(("email", "phone", "first_name", "last_name", "full_name"), values.string),
        "extras": values.dict_of(values.anything),
        "deleted": values.boolean,
        # Unverified on input (seen on the read side): typed, but not warned about.
        "tags": values.strings,
        "alt_emails": values.strings,
        "birthday": values.day,
        "anniversary": values.day,
        "email_marketing_consent": values.one_of("subscribed", "unsubscribed"),
        "sms_marketing_consent": values.one_of("subscribed", "unsubscribed"),
        "email_marketing_consent_change_time": values.time,
        "signed_up_at": values.time,
        "optin": values.boolean,
    },
    (_any_of("id", "email"),),
)

VARIANT = Schema(
    "ProductVariant2",
    {
        "id": values.string_id,
        **dict.fromkeys(("title", "sku", "description"), values.string),
        "price": values.money,
        "price_known": values.boolean,
        "in_stock": values.nullable_boolean,
        "deleted": values.boolean,
    },
    (_required("id"), _zero_price_known),
)

_PRODUCT_FIELDS: dict[str, Check] = {
    "id": values.string_id,
    **dict.fromkeys(("title", "slug", "sku", "description"), values.string),
    "inactive": values.boolean,
    "tags": values.strings,
    "created_at": values.time,
    "updated_at": values.time,
    "collection_ids": values.list_of(values.string_id),
    "variants": values.list_of(VARIANT),
    "deleted": values.boolean,
}
PRODUCT = Schema("Product2", _PRODUCT_FIELDS, (_required("id", "title", unless_deleted=True),))
PRODUCT_REFERENCE = PRODUCT.with_rules(_required("id"))

COLLECTION = Schema(
    "Collection2",
    {
        "id": values.string_id,
        "title": values.string,
        "slug": values.string,
        "deleted": values.boolean,
    },
    (_required("id", "title", unless_deleted=True),),
)

ORDER_ITEM = Schema(
    "OrderItem2",
    {
        "id": values.string_id,
        "product": PRODUCT_REFERENCE,
        "quantity": values.quantity,
        "amount_full": values.money,
        "amount_spent": values.money,
        "is_unfulfillable": values.boolean,
    },
    (_required("product", "quantity", "amount_full", "amount_spent"),),
)

_ORDER_AMOUNTS = ("amount_full", "amount_spent", "amount_taxes", "amount_shipping")
ORDER = Schema(
    "Order2",
    {
        "id": values.string_id,
        "order_time": values.time,
        "update_time": values.time,
        "status": values.one_of(*ORDER_STATUSES),
        "customer": CUSTOMER,
        "items": values.list_of(ORDER_ITEM),
        "discount_codes": values.strings,
        **dict.fromkeys(_ORDER_AMOUNTS, values.money),
        "store_location": values.string,
        "deleted": values.boolean,
    },
    (_required("id", "customer"),),
)

_LOCALIZATION = Schema("localization", {"title": values.string, "alt_titles": values.strings})

ENTITY = Schema(
    "Entity1",
    {
        "bhid": values.string_id,
        "id": values.string_id,
        "title": values.string,
        "alt_titles": values.strings,
        "markets": values.strings,
        "localizations": values.dict_of(_LOCALIZATION),
        "props": values.mapping,
        "venues": values.anything,  # shape undocumented
        "deleted": values.boolean,
    },
    (_any_of("bhid", "id", "title"),),
)

SCHEMAS: dict[Kind, Schema] = {
    Kind.ORDERS: ORDER,
    Kind.CUSTOMERS: CUSTOMER,
    Kind.PRODUCTS: PRODUCT,
    Kind.COLLECTIONS: COLLECTION,
    Kind.ENTITIES: ENTITY,
}

_DEBUG = {"debug": values.boolean}
REQUESTS: dict[str, Schema] = {
    "UpdateOrders4": Schema(
        "UpdateOrders4", {"orders": values.list_of(ORDER), **_DEBUG}, (_required("orders"),)
    ),
    "UpdateCustomers3": Schema(
        "UpdateCustomers3",
        {"customers": values.list_of(CUSTOMER), **_DEBUG},
        (_required("customers"),),
    ),
    "UpdateProducts3": Schema(
        "UpdateProducts3",
        {
            "products": values.list_of(PRODUCT),
            "collections": values.list_of(COLLECTION),
            "replace_products": values.boolean,
            "replace_collections": values.boolean,
            **_DEBUG,
        },
        (_required("collections"),),
    ),
    "UpdateEntities1": Schema(
        "UpdateEntities1",
        {
            "entity_set": values.string_id,
            "entities": values.list_of(ENTITY),
            "replace_entities": values.boolean,
            **_DEBUG,
        },
        (_required("entity_set", "entities"),),
    ),
}


def rule_table() -> dict[str, Schema]:
    """Every object schema by its Bubblehouse type name (compared with the emulator's rules)."""
    return {
        "Order2": ORDER,
        "OrderItem2": ORDER_ITEM,
        "Customer2": CUSTOMER,
        "Product2": PRODUCT,
        "Product2 reference": PRODUCT_REFERENCE,
        "ProductVariant2": VARIANT,
        "Collection2": COLLECTION,
        "Entity1": ENTITY,
        "Localization1": _LOCALIZATION,
    }


def validate(kind: Kind, payload: Mapping[str, object]) -> list[Problem]:
    """Problems with one Order2, Customer2, Product2, Collection2 or Entity1 (paths relative)."""
    return SCHEMAS[kind](payload, "")


def validate_request(call: str, body: object) -> list[Problem]:
    """Problems with a whole request body of ``call`` (paths like ``orders[0].id``)."""
    return REQUESTS[call](body, "")

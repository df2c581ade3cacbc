"""The Order API's payload rules, shared by the serializers and the emulator.

Each Bubblehouse type is a :class:`Schema`: a table of field checks (from
:mod:`django_bubblehouse.formats`) plus a few cross-field rules. Nested objects
reuse the same schemas (an order's customer is checked with the Customer2 rules,
a line's product with the Product2 rules in "reference" mode), so a rule is
written once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from . import formats as fmt
from .conf import ORDER_STATUSES
from .formats import Check, Problem, describe
from .kinds import Kind

__all__ = ["Problem", "Schema", "describe", "validate", "validate_request"]

Rule = Callable[[Mapping[str, object], str], list[Problem]]


@dataclass(frozen=True)
class Schema:
    name: str
    fields: Mapping[str, Check]
    rules: tuple[Rule, ...] = ()

    def with_rules(self, *rules: Rule) -> Schema:
        return Schema(self.name, self.fields, rules)

    def check(self, value: object, path: str) -> list[Problem]:
        if not isinstance(value, Mapping):
            return [Problem(path, f"must be a {self.name} object, got {describe(value)}")]
        problems = [p for rule in self.rules for p in rule(value, path)]
        for name, element in value.items():
            field_check = self.fields.get(name)
            if field_check is None:
                message = f"unknown {self.name} field (ignored by Bubblehouse)"
                problems.append(Problem(fmt.join(path, str(name)), message, warning=True))
            else:
                problems.extend(field_check(element, fmt.join(path, name)))
        return problems


def _required(*names: str, unless_deleted: bool = False) -> Rule:
    def rule(obj: Mapping[str, object], path: str) -> list[Problem]:
        if unless_deleted and obj.get("deleted") is True:
            return []
        return [Problem(fmt.join(path, n), "is required") for n in names if n not in obj]

    return rule


def _any_of(*names: str) -> Rule:
    def rule(obj: Mapping[str, object], path: str) -> list[Problem]:
        # A present but malformed key is reported by its own field check.
        if any(obj.get(n) is not None for n in names):
            return []
        listed = " or ".join(f'"{n}"' for n in names)
        return [Problem(path, f"needs at least one of {listed}, found none")]

    return rule


def _zero_price_known(obj: Mapping[str, object], path: str) -> list[Problem]:
    price = obj.get("price")
    is_zero = isinstance(price, str) and fmt.MONEY.fullmatch(price) and Decimal(price) == 0
    if is_zero and obj.get("price_known") is not True:
        return [Problem(fmt.join(path, "price"), 'is zero, which needs "price_known": true')]
    return []


CUSTOMER = Schema(
    "Customer2",
    {
        "id": fmt.string_id,
        **dict.fromkeys(("email", "phone", "first_name", "last_name", "full_name"), fmt.string),
        "extras": fmt.dict_of(fmt.anything),
        "deleted": fmt.boolean,
        # Unverified on input (seen on the read side): typed, but not warned about.
        "tags": fmt.strings,
        "alt_emails": fmt.strings,
        "birthday": fmt.day,
        "anniversary": fmt.day,
        "email_marketing_consent": fmt.one_of("subscribed", "unsubscribed"),
        "sms_marketing_consent": fmt.one_of("subscribed", "unsubscribed"),
        "email_marketing_consent_change_time": fmt.time,
        "signed_up_at": fmt.time,
        "optin": fmt.boolean,
    },
    (_any_of("id", "email"),),
)

VARIANT = Schema(
    "ProductVariant2",
    {
        "id": fmt.string_id,
        **dict.fromkeys(("title", "sku", "description"), fmt.string),
        "price": fmt.money,
        "price_known": fmt.boolean,
        "in_stock": fmt.nullable_boolean,
        "deleted": fmt.boolean,
    },
    (_required("id"), _zero_price_known),
)

_PRODUCT_FIELDS: dict[str, Check] = {
    "id": fmt.string_id,
    **dict.fromkeys(("title", "slug", "sku", "description"), fmt.string),
    "inactive": fmt.boolean,
    "tags": fmt.strings,
    "created_at": fmt.time,
    "updated_at": fmt.time,
    "collection_ids": fmt.list_of(fmt.string_id),
    "variants": fmt.list_of(VARIANT.check),
    "deleted": fmt.boolean,
}
PRODUCT = Schema("Product2", _PRODUCT_FIELDS, (_required("id", "title", unless_deleted=True),))
PRODUCT_REFERENCE = PRODUCT.with_rules(_required("id"))

COLLECTION = Schema(
    "Collection2",
    {"id": fmt.string_id, "title": fmt.string, "slug": fmt.string, "deleted": fmt.boolean},
    (_required("id", "title", unless_deleted=True),),
)

ORDER_ITEM = Schema(
    "OrderItem2",
    {
        "id": fmt.string_id,
        "product": PRODUCT_REFERENCE.check,
        "quantity": fmt.quantity,
        "amount_full": fmt.money,
        "amount_spent": fmt.money,
        "is_unfulfillable": fmt.boolean,
    },
    (_required("product", "quantity", "amount_full", "amount_spent"),),
)

_ORDER_AMOUNTS = ("amount_full", "amount_spent", "amount_taxes", "amount_shipping")
ORDER = Schema(
    "Order2",
    {
        "id": fmt.string_id,
        "order_time": fmt.time,
        "update_time": fmt.time,
        "status": fmt.one_of(*ORDER_STATUSES),
        "customer": CUSTOMER.check,
        "items": fmt.list_of(ORDER_ITEM.check),
        "discount_codes": fmt.strings,
        **dict.fromkeys(
            ("amount_full", "amount_spent", "amount_taxes", "amount_shipping"), fmt.money
        ),
        "store_location": fmt.string,
        "deleted": fmt.boolean,
    },
    (_required("id", "customer"),),
)

_LOCALIZATION = Schema("localization", {"title": fmt.string, "alt_titles": fmt.strings})

ENTITY = Schema(
    "Entity1",
    {
        "bhid": fmt.string_id,
        "id": fmt.string_id,
        "title": fmt.string,
        "alt_titles": fmt.strings,
        "markets": fmt.strings,
        "localizations": fmt.dict_of(_LOCALIZATION.check),
        "props": fmt.mapping,
        "venues": fmt.anything,  # shape undocumented
        "deleted": fmt.boolean,
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

_DEBUG = {"debug": fmt.boolean}
REQUESTS: dict[str, Schema] = {
    "UpdateOrders4": Schema(
        "UpdateOrders4", {"orders": fmt.list_of(ORDER.check), **_DEBUG}, (_required("orders"),)
    ),
    "UpdateCustomers3": Schema(
        "UpdateCustomers3",
        {"customers": fmt.list_of(CUSTOMER.check), **_DEBUG},
        (_required("customers"),),
    ),
    "UpdateProducts3": Schema(
        "UpdateProducts3",
        {
            "products": fmt.list_of(PRODUCT.check),
            "collections": fmt.list_of(COLLECTION.check),
            "replace_products": fmt.boolean,
            "replace_collections": fmt.boolean,
            **_DEBUG,
        },
        (_required("collections"),),
    ),
    "UpdateEntities1": Schema(
        "UpdateEntities1",
        {
            "entity_set": fmt.string_id,
            "entities": fmt.list_of(ENTITY.check),
            "replace_entities": fmt.boolean,
            **_DEBUG,
        },
        (_required("entity_set", "entities"),),
    ),
}


def validate(kind: Kind, payload: Mapping[str, object]) -> list[Problem]:
    """Problems with one Order2, Customer2, Product2, Collection2 or Entity1 (paths relative)."""
    return SCHEMAS[kind].check(payload, "")


def validate_request(call: str, body: object) -> list[Problem]:
    """Problems with a whole request body of ``call`` (paths like ``orders[0].id``)."""
    return REQUESTS[call].check(body, "")

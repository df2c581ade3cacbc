"""The emulator's own rulebook: every object the Order API accepts, as a table.

Written from Bubblehouse's API pages (UpdateOrders4, UpdateCustomers3,
OrderItem2, UpdateEntities1 and the condensed reference), never from the app's
validation, so a misread rule cannot pass on both sides. A test compares this
table with the app's and lists every deliberate difference with its reason.

A field's type is a small spec:

- a value format from :data:`VALUE_FORMATS` (``"id"``, ``"money"``, ``"time"``...),
- an enum from :data:`ENUMS`, or another object of :data:`OBJECTS`,
- ``"[T]"`` a list of T, ``"{T}"`` an object with string keys and T values.

Every field not listed as required may be omitted, and ``null`` is read as
omitted, except where the pages give null a meaning of its own (``nullable``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

# Each value format and what it accepts (``checking`` holds the check of each).
VALUE_FORMATS = {
    "id": "a non-empty string id",
    "string": "a string",
    "bool": "true or false",
    "integer": "an integer",
    # A bare JSON integer is valid too, read as millionths: a warning, see ``checking``.
    "money": 'a decimal string like "12.00"',
    "time": 'an RFC 3339 time with an offset like "2026-03-02T14:05:11Z"',
    "day": 'a date like "1990-04-30" (or "0000-04-30" without a year)',
    "object": "an object",
    "any": "any JSON value",
}

ENUMS: dict[str, tuple[str, ...]] = {
    "OrderStatus2": ("unconfirmed", "confirmed", "completed", "canceled", "deleted"),
    "MarketingConsent": ("subscribed", "unsubscribed"),
}


@dataclass(frozen=True)
class ObjectRules:
    page: str  # where the pages describe it
    fields: dict[str, str]
    required: tuple[str, ...] = ()
    # Required unless the object says "deleted": true (a delete needs its identity only).
    required_unless_deleted: tuple[str, ...] = ()
    # At least one of these must be present (and not null).
    one_of: tuple[str, ...] = ()
    # Fields seen only on Bubblehouse's read side: accepted and typed, not confirmed as input.
    unverified: frozenset[str] = field(default_factory=frozenset)
    zero_price_needs_price_known: bool = False
    nullable: frozenset[str] = field(default_factory=frozenset)  # null is a value, kept


_CUSTOMER_UNVERIFIED = {
    "tags": "[string]",
    "alt_emails": "[string]",
    "birthday": "day",
    "anniversary": "day",
    "email_marketing_consent": "MarketingConsent",
    "sms_marketing_consent": "MarketingConsent",
    "email_marketing_consent_change_time": "time",
    "signed_up_at": "time",
    "optin": "bool",
}

_PRODUCT = ObjectRules(
    page="UpdateProducts3 (reference section 3); OrderItem2 product examples (seed 003)",
    fields={
        "id": "id",
        "title": "string",
        "slug": "string",
        "sku": "string",
        "description": "string",
        "inactive": "bool",
        "tags": "[string]",
        "created_at": "time",
        "updated_at": "time",
        "collection_ids": "[id]",
        "variants": "[ProductVariant2]",
        "deleted": "bool",
    },
    required=("id",),
    required_unless_deleted=("title",),
)

OBJECTS: dict[str, ObjectRules] = {
    "Order2": ObjectRules(
        page="UpdateOrders4 (seed 001), Order2 (reference section 3)",
        fields={
            "id": "id",
            "order_time": "time",
            "update_time": "time",
            "status": "OrderStatus2",
            "customer": "Customer2",
            "items": "[OrderItem2]",
            "discount_codes": "[string]",
            "amount_full": "money",
            "amount_spent": "money",
            "amount_taxes": "money",
            "amount_shipping": "money",
            "store_location": "string",
            "deleted": "bool",
        },
        required=("id", "customer"),
    ),
    "OrderItem2": ObjectRules(
        page="OrderItem2 (seed 003)",
        fields={
            "id": "id",
            # "a product ID (an object with a single id property) ... or a full product"
            "product": "Product2 reference",
            "quantity": "integer",
            "amount_full": "money",
            "amount_spent": "money",
            "is_unfulfillable": "bool",
        },
        required=("product", "quantity", "amount_full", "amount_spent"),
    ),
    "Customer2": ObjectRules(
        page="UpdateCustomers3 (seed 002), Customer2 (reference section 3)",
        fields={
            "id": "id",
            "email": "string",
            "phone": "string",
            "first_name": "string",
            "last_name": "string",
            "full_name": "string",
            "extras": "{any}",
            "deleted": "bool",
            **_CUSTOMER_UNVERIFIED,
        },
        # "id may be omitted only to reference by email" (guest orders send the email).
        one_of=("id", "email"),
        unverified=frozenset(_CUSTOMER_UNVERIFIED),
    ),
    "Product2": _PRODUCT,
    "Product2 reference": dataclasses.replace(_PRODUCT, required_unless_deleted=()),
    "ProductVariant2": ObjectRules(
        page="ProductVariant2 (reference section 3)",
        fields={
            "id": "id",
            "title": "string",
            "sku": "string",
            "description": "string",
            "price": "money",
            "price_known": "bool",
            "in_stock": "bool",
            "deleted": "bool",
        },
        required=("id",),
        zero_price_needs_price_known=True,
        nullable=frozenset({"in_stock"}),  # "true/false/null": null says "unknown"
    ),
    "Collection2": ObjectRules(
        page="Collection2 (reference section 3)",
        fields={"id": "id", "title": "string", "slug": "string", "deleted": "bool"},
        required=("id",),
        required_unless_deleted=("title",),
    ),
    "Entity1": ObjectRules(
        page="UpdateEntities1 (seed 004)",
        fields={
            "bhid": "id",
            "id": "id",
            "title": "string",
            "alt_titles": "[string]",
            "markets": "[string]",
            "localizations": "{Localization1}",
            "props": "object",
            "venues": "any",  # named on the page, shape not given
            "deleted": "bool",  # the page names no deletion flag; "deleted" by convention
        },
        one_of=("bhid", "id", "title"),
    ),
    "Localization1": ObjectRules(
        page="UpdateEntities1 (seed 004), Localized Entity Titles",
        fields={"title": "string", "alt_titles": "[string]"},
    ),
}


@dataclass(frozen=True)
class RequestRules:
    """A request body: its top-level arrays (in the order they are applied) and flags.

    A missing required array, or an array or name of the wrong type, is "wildly
    syntactically incorrect": the only input refused without ``debug``.
    """

    page: str
    arrays: dict[str, str]  # key -> object type of its elements
    required: tuple[str, ...]
    names: tuple[str, ...] = ()  # required string fields, such as entity_set
    flags: tuple[str, ...] = ("debug",)


REQUESTS: dict[str, RequestRules] = {
    "UpdateOrders4": RequestRules(
        page="UpdateOrders4 (seed 001)", arrays={"orders": "Order2"}, required=("orders",)
    ),
    "UpdateCustomers3": RequestRules(
        page="UpdateCustomers3 (seed 002)",
        arrays={"customers": "Customer2"},
        required=("customers",),
    ),
    "UpdateProducts3": RequestRules(
        page="UpdateProducts3 (reference section 3): always send collections; applied first",
        arrays={"collections": "Collection2", "products": "Product2"},
        required=("collections",),
        flags=("replace_products", "replace_collections", "debug"),
    ),
    "UpdateEntities1": RequestRules(
        page="UpdateEntities1 (seed 004)",
        arrays={"entities": "Entity1"},
        required=("entities",),
        names=("entity_set",),
        flags=("replace_entities", "debug"),
    ),
}

# The versions the pages show: the official integrations use the first, some pages print the second.
DOCUMENTED_VERSIONS = ("v2023061", "v20230601")

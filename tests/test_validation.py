import datetime as dt
from decimal import Decimal

import pytest

from django_bubblehouse.kinds import Kind
from django_bubblehouse.validation import Problem, describe, validate, validate_request

CUSTOMER = {"id": "c1", "email": "ann@example.com", "first_name": "Ann"}
ITEM = {"product": {"id": "P123"}, "quantity": 2, "amount_full": "12.00", "amount_spent": "8.00"}
NO_SPENT = {k: v for k, v in ITEM.items() if k != "amount_spent"}
ORDER = {
    "id": "1001",
    "order_time": "2026-03-02T14:05:11Z",
    "update_time": "2026-03-02T15:05:11.123456+01:00",
    "status": "confirmed",
    "customer": CUSTOMER,
    "items": [
        ITEM,
        {
            "id": "xyz101",
            "product": {"id": "P124", "title": "Megashoe", "collection_ids": ["C42"]},
            "quantity": 0,
            "amount_full": "20.00",
            "amount_spent": "-1.5",
            "is_unfulfillable": True,
        },
    ],
    "discount_codes": ["SPRING"],
    "amount_full": "32.00",
    "amount_spent": "28.00",
    "amount_taxes": "0",
    "amount_shipping": "4.00",
    "store_location": "Berlin",
    "deleted": False,
}
PRODUCT = {
    "id": "P1",
    "title": "Supershoe",
    "inactive": False,
    "tags": ["shoes"],
    "created_at": "2025-01-01T00:00:00+00:00",
    "collection_ids": ["C1"],
    "variants": [
        {"id": "V1", "price": "0.00", "price_known": True, "in_stock": None},
        {"id": "V2", "price": "19.99", "in_stock": False},
    ],
}
ENTITY = {
    "id": "dealer-global-001",
    "title": "Global Mart",
    "alt_titles": ["GM"],
    "markets": ["en-GB"],
    "localizations": {"de-DE": {"title": "Global Markt", "alt_titles": ["GM Deutschland"]}},
    "props": {"tier": 2},
}


@pytest.mark.parametrize(
    ("kind", "payload"),
    [
        (Kind.ORDERS, ORDER),
        (Kind.ORDERS, {"id": "1", "customer": {"email": "guest@example.com"}}),
        (Kind.CUSTOMERS, {**CUSTOMER, "extras": {"tier": "gold"}, "birthday": "0000-04-30"}),
        (Kind.CUSTOMERS, {"id": "c1", "deleted": True}),
        (Kind.PRODUCTS, PRODUCT),
        (Kind.PRODUCTS, {"id": "P1", "deleted": True}),
        (Kind.COLLECTIONS, {"id": "C1", "title": "Shoes", "slug": "shoes"}),
        (Kind.ENTITIES, ENTITY),
        (Kind.ENTITIES, {"bhid": "x"}),
        (Kind.ENTITIES, {"title": "Ace Hardware", "deleted": True}),
    ],
)
def test_valid_payloads_have_no_problems(kind, payload):
    assert validate(kind, payload) == []


def test_decimal_and_aware_datetime_are_accepted_because_encoding_writes_them_correctly():
    order = {**ORDER, "amount_full": Decimal("1.10"), "order_time": dt.datetime.now(dt.UTC)}
    assert validate(Kind.ORDERS, order) == []


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize(
    ("kind", "payload", "path", "message"),
    [
        # required fields
        (Kind.ORDERS, {"customer": CUSTOMER}, "id", "is required"),
        (Kind.ORDERS, {"id": "1"}, "customer", "is required"),
        (Kind.ORDERS, {"id": "1", "customer": {"first_name": "A"}}, "customer", '"id" or "email"'),
        (Kind.CUSTOMERS, {"phone": "1"}, "", 'needs at least one of "id" or "email", found none'),
        (Kind.PRODUCTS, {"id": "P1"}, "title", "is required"),
        (Kind.COLLECTIONS, {"title": "x"}, "id", "is required"),
        (Kind.ENTITIES, {"markets": []}, "", '"bhid" or "id" or "title"'),
        (
            Kind.ORDERS,
            {**ORDER, "items": [{**ITEM, "product": {}}]},
            "items[0].product.id",
            "is required",
        ),
        # ids
        (
            Kind.ORDERS,
            {**ORDER, "id": 1001},
            "id",
            "string id, got int 1001 (ids are always strings",
        ),
        (Kind.CUSTOMERS, {"id": ""}, "id", "non-empty string id, got str ''"),
        (Kind.PRODUCTS, {**PRODUCT, "collection_ids": [7]}, "collection_ids[0]", "got int 7"),
        # money
        (
            Kind.ORDERS,
            {**ORDER, "amount_full": 12.0},
            "amount_full",
            "got float 12.0 (floats are rejected",
        ),
        (Kind.ORDERS, {**ORDER, "amount_spent": 12}, "amount_spent", "read as millionths"),
        (
            Kind.ORDERS,
            {**ORDER, "amount_taxes": "12,00"},
            "amount_taxes",
            'decimal string like "12.00", got str',
        ),
        (
            Kind.ORDERS,
            {**ORDER, "amount_shipping": Decimal("NaN")},
            "amount_shipping",
            "got Decimal",
        ),
        # times
        (Kind.ORDERS, {**ORDER, "order_time": "2026-03-02T14:05:11"}, "order_time", "naive time"),
        (Kind.ORDERS, {**ORDER, "order_time": "2026-02-30T14:05:11Z"}, "order_time", "impossible"),
        (Kind.ORDERS, {**ORDER, "update_time": 1700000000}, "update_time", "with an offset"),
        (
            Kind.ORDERS,
            {**ORDER, "update_time": dt.datetime(2026, 1, 1)},
            "update_time",
            "naive datetime",
        ),
        # status and lists
        (Kind.ORDERS, {**ORDER, "status": "paid"}, "status", "one of unconfirmed, confirmed"),
        (
            Kind.ORDERS,
            {**ORDER, "discount_codes": "SPRING"},
            "discount_codes",
            "must be a list, got str",
        ),
        (
            Kind.ORDERS,
            {**ORDER, "discount_codes": ["A", 3]},
            "discount_codes[1]",
            "must be a string",
        ),
        # items
        (
            Kind.ORDERS,
            {**ORDER, "items": [{**ITEM, "quantity": True}]},
            "items[0].quantity",
            "got bool true",
        ),
        (
            Kind.ORDERS,
            {**ORDER, "items": [{**ITEM, "quantity": -1}]},
            "items[0].quantity",
            ">= 0, got int -1",
        ),
        (
            Kind.ORDERS,
            {**ORDER, "items": [{**ITEM, "quantity": 1.0}]},
            "items[0].quantity",
            "got float",
        ),
        (
            Kind.ORDERS,
            {**ORDER, "items": [ITEM, ITEM, {**ITEM, "amount_full": None}]},
            "items[2].amount_full",
            "got null",
        ),
        (Kind.ORDERS, {**ORDER, "items": [NO_SPENT]}, "items[0].amount_spent", "is required"),
        # nested customer rules
        (
            Kind.ORDERS,
            {**ORDER, "customer": {"email": 5}},
            "customer.email",
            "must be a string, got int 5",
        ),
        (Kind.CUSTOMERS, {"id": "c", "extras": []}, "extras", "must be an object, got list"),
        (
            Kind.CUSTOMERS,
            {"id": "c", "extras": {1: "x"}},
            "extras.1",
            "keys must be strings, got int 1",
        ),
        (
            Kind.CUSTOMERS,
            {"id": "c", "email_marketing_consent": "yes"},
            "email_marketing_consent",
            "one of subscribed",
        ),
        (
            Kind.CUSTOMERS,
            {"id": "c", "deleted": "true"},
            "deleted",
            "true or false, got str 'true'",
        ),
        # variants
        (
            Kind.PRODUCTS,
            {**PRODUCT, "variants": [{"id": "V", "price": "0"}]},
            "variants[0].price",
            'needs "price_known": true',
        ),
        (
            Kind.PRODUCTS,
            {**PRODUCT, "variants": [{"id": "V", "price": 9.5}]},
            "variants[0].price",
            "got float 9.5",
        ),
        (
            Kind.PRODUCTS,
            {**PRODUCT, "variants": [{"id": "V", "in_stock": "yes"}]},
            "variants[0].in_stock",
            "true, false or null",
        ),
        (Kind.PRODUCTS, {**PRODUCT, "variants": [{"price": "1"}]}, "variants[0].id", "is required"),
        # entities
        (Kind.ENTITIES, {**ENTITY, "markets": "en-GB"}, "markets", "must be a list"),
        (
            Kind.ENTITIES,
            {**ENTITY, "localizations": {"de-DE": {"title": 3}}},
            "localizations.de-DE.title",
            "got int 3",
        ),
        (
            Kind.ENTITIES,
            {**ENTITY, "localizations": {"de-DE": "Markt"}},
            "localizations.de-DE",
            "must be a localization object, got str",
        ),
        (
            Kind.ENTITIES,
            {**ENTITY, "props": ["a"]},
            "props",
            "must be an object, got list (1 items)",
        ),
        (Kind.ENTITIES, {**ENTITY, "bhid": 12}, "bhid", "got int 12"),
    ],
)
def test_each_rule_names_path_and_what_was_found(kind, payload, path, message):
    problem = only(validate(kind, payload))
    assert problem.path == path
    assert message in problem.message
    assert not problem.warning


def test_unknown_fields_are_warnings_with_the_type_name():
    problems = validate(Kind.ORDERS, {**ORDER, "total": "1", "items": [{**ITEM, "sku": "x"}]})
    by_path = {p.path: p for p in problems}
    assert set(by_path) == {"total", "items[0].sku"}
    assert all(p.warning for p in problems)
    assert "unknown Order2 field" in by_path["total"].message
    assert "unknown OrderItem2 field" in by_path["items[0].sku"].message


def test_line_product_is_a_reference_but_top_level_product_needs_a_title():
    assert validate(Kind.ORDERS, {**ORDER, "items": [ITEM]}) == []
    assert only(validate(Kind.PRODUCTS, {"id": "P123"})).path == "title"


def test_non_object_payload():
    problem = only(validate(Kind.CUSTOMERS, ["c1"]))  # type: ignore[arg-type]
    assert (problem.path, problem.message) == ("", "must be a Customer2 object, got list (1 items)")


def test_many_problems_are_all_reported():
    problems = validate(Kind.ORDERS, {"id": 1, "customer": {}, "amount_full": 1.5})
    assert {p.path for p in problems} == {"id", "customer", "amount_full"}


def test_describe_truncates_long_values():
    assert describe("x" * 200).endswith("...")
    assert describe(None) == "null"


def test_problem_str_marks_severity():
    assert str(Problem("a.b", "is required")) == "a.b: is required (error)"
    assert str(Problem("", "odd", warning=True)) == "<payload>: odd (warning)"


@pytest.mark.parametrize(
    ("call", "body", "path", "message"),
    [
        ("UpdateOrders4", {}, "orders", "is required"),
        ("UpdateOrders4", {"orders": [{**ORDER, "id": 3}]}, "orders[0].id", "got int 3"),
        ("UpdateCustomers3", {"customers": {}}, "customers", "must be a list"),
        ("UpdateProducts3", {"products": []}, "collections", "is required"),
        (
            "UpdateProducts3",
            {"products": [], "collections": [], "replace_products": 1},
            "replace_products",
            "true or false",
        ),
        ("UpdateEntities1", {"entities": []}, "entity_set", "is required"),
        (
            "UpdateEntities1",
            {"entity_set": "x", "entities": [{}]},
            "entities[0]",
            "at least one of",
        ),
        (
            "UpdateEntities1",
            {"entity_set": "x", "entities": [], "debug": "yes"},
            "debug",
            "true or false",
        ),
    ],
)
def test_request_envelopes(call, body, path, message):
    problem = only(validate_request(call, body))
    assert problem.path == path
    assert message in problem.message

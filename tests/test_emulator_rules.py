"""The emulator's rulebook read against the pages: documented fields, nulls, times, money."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from django_bubblehouse.testing import emulator
from django_bubblehouse.testing.emulator.checking import check_object, check_value
from django_bubblehouse.testing.emulator.rules import ENUMS, OBJECTS, VALUE_FORMATS

ITEM = {"product": {"id": "P123"}, "quantity": 2, "amount_full": "12.00", "amount_spent": "8.00"}

# Every field each page documents, with a value of the documented type.
DOCUMENTED: dict[str, dict[str, Any]] = {
    "Order2": {
        "id": "1001",
        "order_time": "2026-03-02T14:05:11Z",
        "update_time": "2026-03-02T15:00:00+01:00",
        "status": "confirmed",
        "customer": {"id": "c1", "email": "ann@example.com"},
        "items": [ITEM],
        "discount_codes": ["SPRING10"],
        "amount_full": "20.00",
        "amount_spent": "18.00",
        "amount_taxes": "3.00",
        "amount_shipping": "4.95",
        "store_location": "Berlin",
        "deleted": False,
    },
    # seed 003, "Typical Order Item", plus is_unfulfillable
    "OrderItem2": {
        "id": "xyz101",
        "product": {"id": "P123", "title": "Supershoe", "collection_ids": ["C42", "C1"]},
        "quantity": 2,
        "amount_full": "12.00",
        "amount_spent": "8.00",
        "is_unfulfillable": True,
    },
    "Customer2": {
        "id": "c1",
        "email": "ann@example.com",
        "phone": "+49 30 1234",
        "first_name": "Ann",
        "last_name": "Lee",
        "full_name": "Ann Lee",
        "extras": {"tier": "gold", "visits": 3},
        "deleted": False,
        # seen on the read side (unverified as input): known, so no warning
        "tags": ["vip"],
        "alt_emails": ["ann@work.example"],
        "birthday": "0000-04-30",
        "anniversary": "2020-06-01",
        "email_marketing_consent": "subscribed",
        "sms_marketing_consent": "unsubscribed",
        "email_marketing_consent_change_time": "2026-01-01T00:00:00Z",
        "signed_up_at": "2025-12-24T18:30:00.5-05:00",
        "optin": True,
    },
    "Product2": {
        "id": "P123",
        "title": "Supershoe",
        "slug": "supershoe",
        "sku": "SS-1",
        "description": "A shoe",
        "inactive": False,
        "tags": ["shoes"],
        "created_at": "2025-01-01T00:00:00Z",
        "updated_at": "2026-03-02T14:05:11Z",
        "collection_ids": ["C42"],
        "variants": [
            {
                "id": "V1",
                "title": "Size 42",
                "sku": "SS-1-42",
                "description": "EU 42",
                "price": "0.00",
                "price_known": True,
                "in_stock": None,
                "deleted": False,
            }
        ],
        "deleted": False,
    },
    "Collection2": {"id": "C42", "title": "Shoes", "slug": "shoes", "deleted": False},
    # seed 004, "Localized Entity Titles" and "Market-Filtered Entities", plus the rest
    "Entity1": {
        "id": "dealer-global-001",
        "title": "Global Mart",
        "alt_titles": ["GM"],
        "markets": ["en-GB"],
        "localizations": {
            "de-DE": {"alt_titles": ["GM Deutschland"], "title": "Global Markt"},
            "en-GB": {"alt_titles": ["GM UK"], "title": "Global Mart UK"},
        },
        "props": {"tier": 1},
        "venues": [{"name": "Main street"}],
        "deleted": False,
    },
}


@pytest.mark.parametrize("type_name", sorted(DOCUMENTED))
def test_every_documented_field_is_known_and_gives_no_warning(type_name):
    assert check_object(type_name, DOCUMENTED[type_name], "") == []
    # ...and the table knows nothing the pages do not (bhid: the entity's Bubblehouse id).
    extra = {"Entity1": {"bhid"}}.get(type_name, set())
    assert set(OBJECTS[type_name].fields) == set(DOCUMENTED[type_name]) | extra


def test_the_seed_examples_are_valid():
    assert check_object("OrderItem2", ITEM, "") == []  # seed 003, "Minimal Order Item"
    dealers = [
        {"alt_titles": ["Wal-Mart", "Walmart Supercenter"], "id": "dealer-001", "title": "Walmart"},
        {"id": "dealer-001"},
        {"title": "Ace Hardware"},
        {"bhid": "authorized-dealers/1"},
    ]
    assert [f for row in dealers for f in check_object("Entity1", row, "")] == []


def test_an_unknown_field_is_a_warning_that_names_its_object():
    (finding,) = check_object("Order2", {"id": "1", "customer": {"id": "c1"}, "total": "1"}, "o")
    assert (str(finding), finding.warning) == (
        "o.total: unknown Order2 field (ignored) (warning)",
        True,
    )


def test_null_reads_as_omitted_where_the_pages_allow_omitting():
    order = {"id": "1", "customer": {"id": "c1", "email": None}, "status": None, "items": None}
    assert check_object("Order2", order, "") == []
    assert [str(f) for f in check_object("Order2", {"id": None, "customer": None}, "")] == [
        "id: is required (error)",
        "customer: is required (error)",
    ]
    assert [str(f) for f in check_object("Customer2", {"id": None, "email": None}, "c")] == [
        "c: needs one of id, email (error)"
    ]


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-02T14:05:11Z",
        "2026-03-02T14:05:11.123456Z",
        "2026-03-02T14:05:11+01:00",
        "2026-03-02T14:05:11-05:30",
        "2026-03-02t14:05:11z",
        "0001-01-01T00:00:00Z",
    ],
)
def test_rfc3339_times_are_accepted(value):
    assert check_value("time", value, "t") == []


@pytest.mark.parametrize(
    "value",
    [
        "2026-03-02T14:05:11",  # naive
        "2026-03-02 14:05:11Z",
        "2026-03-02",
        "2026-02-30T14:05:11Z",
        "2026-03-02T25:00:00Z",
        "2026-03-02T14:05:11+0100",
        "1772460311",
        1772460311,
    ],
)
def test_other_times_are_errors(value):
    (finding,) = check_value("time", value, "t")
    assert not finding.warning
    assert finding.message.startswith("must be an RFC 3339 time with an offset")


def test_money_is_a_decimal_string_a_bare_integer_a_warning_and_a_float_an_error():
    assert check_value("money", "12.00", "m") == check_value("money", "-0.000001", "m") == []
    (integer,) = check_value("money", 12, "m")
    assert (integer.warning, integer.message) == (
        True,
        "a bare integer is read as millionths (12 = 0.000012)",
    )
    (number,) = check_value("money", 12.5, "m")
    assert (number.warning, number.message) == (
        False,
        'must be a decimal string like "12.00", got float 12.5 (floats are refused)',
    )
    assert check_value("money", "1e3", "m")[0].warning is False


def test_a_zero_variant_price_needs_price_known():
    (finding,) = check_object("ProductVariant2", {"id": "V1", "price": "0.00"}, "v")
    assert str(finding) == 'v.price: is zero, which needs "price_known": true (error)'


def test_every_type_in_the_table_resolves():
    def resolve(spec: str) -> None:
        inner = spec[1:-1] if spec[:1] in "[{" else spec
        assert inner in VALUE_FORMATS or inner in ENUMS or inner in OBJECTS, spec

    for rules in OBJECTS.values():
        for spec in rules.fields.values():
            resolve(spec)
        assert set(rules.required) <= set(rules.fields)
        assert set(rules.one_of) <= set(rules.fields)
        assert rules.unverified <= set(rules.fields)
        assert rules.nullable <= set(rules.fields)


FORBIDDEN = {"validation", "value_rules", "auth"}


def test_the_emulator_imports_nothing_of_the_apps_rules_or_tokens():
    package = Path(emulator.__file__).parent
    imported: set[str] = set()
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or "", *(alias.name for alias in node.names)]
                imported.update(part for name in names for part in name.split("."))
            elif isinstance(node, ast.Import):
                imported.update(p for alias in node.names for p in alias.name.split("."))
    assert imported & FORBIDDEN == set()

    # And at run time: serving a request loads none of them.
    script = (
        "import json, sys\n"
        "from django_bubblehouse.testing.emulator import EmulatorState, handle\n"
        "handle(EmulatorState(), 'POST', '/api/v2023061/demo/UpdateOrders4', {}, b'{}')\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('django_bubblehouse'))))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = {name.rsplit(".", 1)[-1] for name in json.loads(done.stdout)}
    assert loaded & FORBIDDEN == set()
    assert "checking" in loaded

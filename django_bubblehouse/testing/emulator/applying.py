"""Applying a checked request body to the state: every valid object, none of the invalid.

A flag of the wrong type is read as false (its finding says so), so a malformed
``replace_*`` never deletes anything. A replace keeps what the request's *valid*
rows mention: an invalid row is not applied, so its object is not mentioned.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .checking import Finding, known_only
from .entities import apply_entities
from .rules import REQUESTS
from .state import EmulatorState

Item = tuple[str, int]


def _valid(body: dict[str, Any], array: str, invalid: set[Item]) -> Iterator[tuple[int, Any]]:
    """The valid rows of ``array`` with their index, without the fields Bubblehouse ignores."""
    spec = _ARRAY_TYPES[array]
    for index, row in enumerate(body.get(array, ())):
        if (array, index) not in invalid:
            yield index, known_only(spec, row)


_ARRAY_TYPES = {a: t for rules in REQUESTS.values() for a, t in rules.arrays.items()}


def apply_body(
    state: EmulatorState, func: str, body: dict[str, Any], invalid: set[Item], *, atomic: bool
) -> list[Finding]:
    """Apply ``body`` but its ``invalid`` items; returns the objects that failed to apply."""
    if func == "UpdateOrders4":
        for _, order in _valid(body, "orders", invalid):
            state.upsert_order(order)
    elif func == "UpdateCustomers3":
        for _, customer in _valid(body, "customers", invalid):
            state.upsert_customer(customer)
    elif func == "UpdateProducts3":
        # Collections first, so products can name the collections of the same request.
        for kind, records, upsert in (
            ("collections", state.collections, state.upsert_collection),
            ("products", state.products, state.upsert_product),
        ):
            rows = [row for _, row in _valid(body, kind, invalid)]
            for row in rows:
                upsert(row)
            if body.get(f"replace_{kind}") is True:
                state.replace(records, (row["id"] for row in rows))
    else:
        return _apply_entities(state, body, invalid, atomic=atomic)
    return []


def _apply_entities(
    state: EmulatorState, body: dict[str, Any], invalid: set[Item], *, atomic: bool
) -> list[Finding]:
    name = body["entity_set"]
    secondary = state.entity_sets[name].parent is not None
    nothing_applied = Finding("entities", "a secondary-set request is atomic: nothing was applied")
    if secondary and invalid:
        return [nothing_applied]
    failures = apply_entities(
        state.entity_sets,
        name,
        list(_valid(body, "entities", invalid)),
        body.get("replace_entities") is True,
        atomic=atomic,
    )
    found = [Finding(f"entities[{index}].bhid", why) for index, why in failures]
    return [*found, nothing_applied] if secondary and found else found

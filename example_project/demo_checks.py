"""What the emulator should hold after the demo's live changes, checked field by field.

``demo_live_changes --expect FILE`` writes the expectations; each names a kind,
an id, a path into the stored record and the value. Paths are dotted keys,
with ``items[id=7]`` selecting a list element by its ``id``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_SELECT = re.compile(r"(?P<key>\w+)\[id=(?P<id>[^\]]+)\]")
MISSING = object()


def lookup(record: Any, path: str) -> Any:
    for part in path.split("."):
        match = _SELECT.fullmatch(part)
        key = match["key"] if match else part
        record = record.get(key, MISSING) if isinstance(record, Mapping) else MISSING
        if match and isinstance(record, list):
            record = next((e for e in record if e.get("id") == match["id"]), MISSING)
        if record is MISSING:
            return MISSING
    return record


def active_ids(state: Mapping[str, Any], entity_set: str) -> list[str]:
    entities = state["entity_sets"][entity_set]["entities"]
    return sorted(e["id"] for e in entities if not e["deleted"])


def mismatches(state: Mapping[str, Any], expectations: Iterable[Mapping[str, Any]]) -> list[str]:
    """One line per expectation the emulator's state does not meet."""
    found = []
    for expected in expectations:
        kind, key, path = expected["kind"], expected["id"], expected["path"]
        if kind == "entity_sets" and path == "active_ids":
            actual: Any = active_ids(state, key)
        else:
            actual = lookup(state[kind].get(key, {}), path)
        if actual != expected["expected"]:
            shown = "nothing" if actual is MISSING else repr(actual)
            found.append(f"{kind} {key} {path}: expected {expected['expected']!r}, got {shown}")
    return found

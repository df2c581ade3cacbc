"""Entity sets as UpdateEntities1 documents them (seed 004).

A primary set owns its entities: rows are matched by external ``id`` when the row
has one, then by ``title`` (for a row with an unknown id, only among entities
without an external id: a title never takes over another id's entity), and
created when nothing matches; ``replace_entities``
marks every active entity that no row mentioned as deleted. A secondary set is a
membership list over one parent primary set: a row creates/updates the parent
entity and adds it; a ``deleted`` row removes the membership only; replace only
removes unmentioned members; and the whole request is atomic. A row carrying
``bhid`` must name an active parent entity: it never creates one and never falls
back to ``id``/``title``.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_IDENTITY_ONLY = ("bhid", "deleted")


@dataclass
class Entity:
    bhid: str
    data: dict[str, Any]
    deleted: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {"bhid": self.bhid, "deleted": self.deleted, **self.data}


@dataclass
class EntitySet:
    name: str
    parent: str | None = None
    by_bhid: dict[str, Entity] = field(default_factory=dict)  # primary sets only
    members: dict[str, None] = field(default_factory=dict)  # secondary sets: bhids, in order

    def find(self, row: Mapping[str, Any]) -> Entity | None:
        """The entity a row without ``bhid`` refers to: by ``id`` if given, then by ``title``."""
        candidates = list(self.by_bhid.values())
        if row.get("id") is not None:
            found = next((e for e in candidates if e.data.get("id") == row["id"]), None)
            if found is not None or row.get("title") is None:
                return found
            candidates = [e for e in candidates if e.data.get("id") is None]
        same_title = [e for e in candidates if e.data.get("title") == row.get("title")]
        # Prefer a live entity when a deleted one had the same title.
        return min(same_title, key=lambda e: e.deleted, default=None)

    def upsert(self, row: Mapping[str, Any], found: Entity | None) -> Entity:
        fields = {k: v for k, v in row.items() if k not in _IDENTITY_ONLY}
        if found is None:
            found = Entity(f"{self.name}/{len(self.by_bhid) + 1}", {})
            self.by_bhid[found.bhid] = found
        found.data.update(fields)
        found.deleted = False
        return found


class RowFailed(Exception):
    """One row could not be applied; the message names the row."""


def _locate(primary: EntitySet, row: Mapping[str, Any]) -> Entity | None:
    if row.get("bhid") is None:
        return primary.find(row)
    entity = primary.by_bhid.get(row["bhid"])
    if entity is None or entity.deleted:
        raise RowFailed(f"no active entity {row['bhid']!r} in primary set {primary.name!r}")
    return entity


def apply_entities(
    sets: dict[str, EntitySet],
    name: str,
    rows: Sequence[tuple[int, Mapping[str, Any]]],
    replace: bool,
    *,
    atomic: bool = False,
) -> list[tuple[int, str]]:
    """Apply one UpdateEntities1 request's ``(index, row)`` pairs; returns ``(index, why)``
    for each row that could not be applied (a ``bhid`` that names no active entity).

    Works on copies: a primary set keeps its successful rows, a secondary set
    (or an ``atomic`` request, such as a debug one) commits only when every row
    succeeded.
    """
    target = copy.deepcopy(sets[name])
    primary = copy.deepcopy(sets[target.parent]) if target.parent else target
    failures: list[tuple[int, str]] = []
    mentioned: set[str] = set()
    for index, row in rows:
        try:
            mentioned.update(_apply_row(primary, target, row))
        except RowFailed as failure:
            failures.append((index, str(failure)))
    if (atomic or target.parent) and failures:
        return failures
    if replace:
        _replace(primary, target, mentioned)
    sets[name] = target
    sets[primary.name] = primary
    return failures


def _apply_row(primary: EntitySet, target: EntitySet, row: Mapping[str, Any]) -> set[str]:
    entity = _locate(primary, row)
    if row.get("deleted") is True:
        if entity is not None:
            if target is primary:
                entity.deleted = True
            else:
                target.members.pop(entity.bhid, None)
        return {entity.bhid} if entity else set()
    entity = primary.upsert(row, entity)
    if target is not primary:
        target.members[entity.bhid] = None
    return {entity.bhid}


def _replace(primary: EntitySet, target: EntitySet, mentioned: set[str]) -> None:
    if target is primary:
        for entity in primary.by_bhid.values():
            if entity.bhid not in mentioned:
                entity.deleted = True
    else:
        target.members = {b: None for b in target.members if b in mentioned}

"""Full replaces: a whole entity set, all products or all collections in ONE request.

Bubblehouse deletes (or, for a secondary set, removes from the set) everything
a replace does not mention, so a replace is never split into chunks: the rows
are serialized batch by batch but sent once. For the same reason a replace
refuses to go ahead when any object fails to serialize (it would be deleted
on Bubblehouse) or when there is nothing to send, unless explicitly allowed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from ..client import BubblehouseClient, get_client
from ..conf import get_settings
from ..exceptions import SerializationError
from ..kinds import Kind
from ..serializers import send
from .selection import (
    Selection,
    SelectionError,
    SerializerClass,
    count,
    keyset,
    selected_serializers,
)

logger = logging.getLogger(__name__)

REPLACEABLE = (Kind.ENTITIES, Kind.PRODUCTS, Kind.COLLECTIONS)


class ReplaceRefused(Exception):
    """The replace would delete data it should not; nothing was sent."""


@dataclass(frozen=True)
class ReplacePlan:
    serializer_cls: SerializerClass
    kind: Kind
    entity_set: str | None
    parent_set: str | None
    rows: int  # rows of the serializer's queryset, before should_sync and membership

    @property
    def target(self) -> str:
        """What the user types to confirm: the set name, or "products"/"collections"."""
        return self.entity_set or str(self.kind)

    @property
    def description(self) -> str:
        if self.kind is not Kind.ENTITIES:
            return f"all {self.kind} ({self.kind.api_call} with replace_{self.kind})"
        if self.parent_set:
            return f"secondary entity set {self.entity_set!r} (subset of {self.parent_set!r})"
        return f"primary entity set {self.entity_set!r}"

    @property
    def consequence(self) -> str:
        if self.kind is not Kind.ENTITIES:
            return f"{self.kind} not in the request are deleted in Bubblehouse"
        if self.parent_set:
            return f"unmentioned members leave the set; they stay in {self.parent_set!r}"
        return "active entities not in the request are marked deleted in Bubblehouse"


@dataclass
class ReplaceBody:
    payloads: list[dict[str, Any]] = field(default_factory=list)
    errors: dict[str, SerializationError] = field(default_factory=dict)
    skipped: int = 0  # should_sync() False, or not a member (is_deleted)


def plan_replace(kind: Kind, entity_set: str | None = None) -> ReplacePlan:
    if kind not in REPLACEABLE:
        raise SelectionError(f"{kind} cannot be replaced; only entities, products, collections")
    if (kind is Kind.ENTITIES) != (entity_set is not None):
        raise SelectionError("--entity-set names the set to replace, and only for entities")
    selection = Selection(kinds=(kind,), entity_set=entity_set)
    serializers = selected_serializers(selection)
    if len(serializers) > 1:
        names = ", ".join(cls.label() for cls in serializers)
        raise SelectionError(
            f"several serializers feed {entity_set or kind} ({names}); a "
            "replace must come from exactly one"
        )
    serializer_cls = serializers[0]
    return ReplacePlan(
        serializer_cls=serializer_cls,
        kind=kind,
        entity_set=serializer_cls.entity_set,
        parent_set=serializer_cls.parent_set,
        rows=count(serializer_cls, selection),
    )


def build_body(plan: ReplacePlan, batch_size: int) -> ReplaceBody:
    """Every row to send, serialized in keyset batches; delete payloads are left out."""
    body = ReplaceBody()
    serializer = plan.serializer_cls()
    walk = keyset(plan.serializer_cls, Selection(kinds=(plan.kind,), entity_set=plan.entity_set))
    for page in walk.pages(size=batch_size):
        result = serializer.serialize_keys(page.keys)
        body.errors.update(result.errors)
        body.skipped += len(result.skipped)
        for payload in result.payloads.values():
            # A replace lists what exists; leaving a row out is how it is deleted.
            if payload.get("deleted") is True:
                body.skipped += 1
            else:
                body.payloads.append(payload)
    return body


def check_body(body: ReplaceBody, *, allow_empty: bool) -> None:
    if body.errors:
        listed = "; ".join(str(error) for error in list(body.errors.values())[:5])
        raise ReplaceRefused(
            f"{len(body.errors)} object(s) could not be serialized, and a replace would delete "
            f"them in Bubblehouse: {listed}"
        )
    if not body.payloads and not allow_empty:
        raise ReplaceRefused("nothing to send: an empty replace deletes everything")


def execute(plan: ReplacePlan, body: ReplaceBody, client: BubblehouseClient) -> None:
    """The single request; raises the client's typed error, having changed nothing locally."""
    send(plan.serializer_cls, client, body.payloads, replace=True)


def replace_task(kind: str, entity_set: str | None = None) -> int:
    """django-q2 entry point for the admin action; returns the number of rows sent."""
    plan = plan_replace(Kind(kind), entity_set)
    body = build_body(plan, get_settings().batch_size)
    check_body(body, allow_empty=False)
    execute(plan, body, get_client())
    logger.info("replaced %s with %d row(s)", plan.target, len(body.payloads))
    return len(body.payloads)

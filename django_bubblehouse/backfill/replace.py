"""Full replaces: a whole entity set, all products or all collections in ONE request.

Bubblehouse deletes (or, for a secondary set, removes from the set) everything
a replace does not mention, so a replace is never split into chunks: the rows
are serialized batch by batch but sent once. For the same reason a replace
refuses to go ahead when any object fails to serialize (it would be deleted
on Bubblehouse) or when there is nothing to send, unless explicitly allowed.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from ..client import BubblehouseClient, get_client
from ..conf import get_settings
from ..exceptions import SerializationError
from ..kinds import Kind
from ..models import BackfillRange, BackfillRun
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


def replace_task(kind: str, entity_set: str | None = None, run_id: int | None = None) -> int:
    """django-q2 entry point for the admin action; returns the number of rows sent.

    With ``run_id`` (the admin's replace run) the outcome is recorded on that run,
    so the operator can open it; a failure is recorded, then raised for django-q2.
    """
    body = ReplaceBody()
    try:
        plan = plan_replace(Kind(kind), entity_set)
        body = build_body(plan, get_settings().batch_size)
        check_body(body, allow_empty=False)
        execute(plan, body, get_client())
    except Exception as error:
        if run_id is not None:
            close_replace_run(run_id, body, error)
        raise
    if run_id is not None:
        close_replace_run(run_id, body)
    logger.info("replaced %s with %d row(s)", plan.target, len(body.payloads))
    return len(body.payloads)


def replace_fingerprint(target: str) -> str:
    """Marks a run as a replace of ``target``; never equal to a backfill's fingerprint."""
    return "replace-" + hashlib.sha256(target.encode()).hexdigest()[:56]


def start_replace_run(plan: ReplacePlan) -> BackfillRun:
    """The run an admin replace reports to: one range, the set's whole serializer."""
    run = BackfillRun.objects.create(
        fingerprint=replace_fingerprint(plan.target),
        selection={
            "replace": plan.target,
            "kinds": [str(plan.kind)],
            "entity_set": plan.entity_set,
        },
        batch_size=get_settings().batch_size,
        is_async=True,
    )
    BackfillRange.objects.create(run=run, serializer=plan.serializer_cls.label(), total=plan.rows)
    return run


def last_replace(target: str) -> BackfillRun | None:
    return (
        BackfillRun.objects.filter(fingerprint=replace_fingerprint(target))
        .order_by("-started_at", "-pk")
        .first()
    )


def close_replace_run(run_id: int, body: ReplaceBody, error: Exception | None = None) -> None:
    reason = "" if error is None else f"{type(error).__name__}: {error}"
    BackfillRange.objects.filter(run_id=run_id).update(
        sent=0 if error else len(body.payloads),
        failed=len(body.errors),
        skipped=body.skipped,
        done=error is None,
        error=reason,
    )
    now = timezone.now()
    BackfillRun.objects.filter(pk=run_id).update(
        status=BackfillRun.Status.FAILED if error else BackfillRun.Status.DONE,
        reason=reason,
        finished_at=now,
        updated_at=now,
    )

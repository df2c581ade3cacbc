"""Sending one claimed batch and recording what happened to each row.

Every outcome is one UPDATE over the batch. A row's final state is only
written while its generation is still the claimed token; a row changed during
the push keeps the ``pending`` state its change gave it and is pushed again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from ..client import BubblehouseClient
from ..exceptions import BubblehouseAPIError, ConfigurationAPIError, TransientAPIError
from ..models import OutboxEntry, OutboxState
from ..serializers import Serializer, send
from ..signals import push_failed, push_succeeded
from .claim import Batch
from .outcomes import as_api_error, error_fields, exhausted, schedule_retry
from .pause import pause

logger = logging.getLogger("django_bubblehouse")


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    paused: str | None = None  # the scope a configuration error paused
    reached_api: bool = False  # the API answered with something other than a config error


def _settle(
    batch: Batch,
    keys: list[str],
    state: OutboxState,
    now: datetime,
    *,
    if_current: dict[str, Any] | None = None,
    **always: Any,
) -> None:
    """Release ``keys`` of the batch; ``state`` and ``if_current`` only where unchanged since."""
    current = Q(generation=batch.token)
    guarded = {
        name: Case(When(current, then=Value(value)), default=F(name))
        for name, value in {"state": state, **(if_current or {})}.items()
    }
    pks = [row.pk for row in batch.rows if row.key in set(keys)]
    OutboxEntry.objects.filter(pk__in=pks).update(
        lease_until=None, updated_at=now, **guarded, **always
    )


def _payloads(
    serializer_cls: type[Serializer], batch: Batch, outcome: Outcome, now: datetime
) -> tuple[list[str], list[dict[str, Any]]]:
    """Serialize the batch's current state; unserializable or gone rows are settled here."""
    try:
        result = serializer_cls().serialize_keys(batch.keys)
    except Exception as error:  # a bug in host code (get_queryset, a method field): not transient
        logger.exception("Serializing a batch of %s failed", batch.label)
        _settle(batch, batch.keys, OutboxState.FAILED, now, **error_fields(error))
        outcome.failed.extend(batch.keys)
        return [], []
    keys: list[str] = []
    payloads: list[dict[str, Any]] = []
    for row in batch.rows:
        if row.key in result.payloads:
            payload = result.payloads[row.key]
        elif row.key not in result.errors and row.delete_payload is not None:
            payload = row.delete_payload  # the object is gone: push what was captured at delete
        else:
            continue
        keys.append(row.key)
        payloads.append(payload)
    for key, problem in result.errors.items():
        _settle(batch, [key], OutboxState.FAILED, now, **error_fields(problem))
        outcome.failed.append(key)
        push_failed.send(serializer_cls, kind=serializer_cls.kind, keys=[key], error=problem)
    gone = [key for key in result.skipped if key not in keys]
    if gone:
        _settle(batch, gone, OutboxState.SKIPPED, now)
        outcome.skipped.extend(gone)
    return keys, payloads


def _transient(
    batch: Batch, keys: list[str], error: TransientAPIError, outcome: Outcome, now: datetime
) -> None:
    rows = [row for row in batch.rows if row.key in set(keys)]
    attempt = max(row.attempts for row in rows) + 1
    schedule_retry(OutboxEntry.objects.filter(pk__in=[row.pk for row in rows]), attempt, error, now)
    for row in rows:
        dead = exhausted(row.attempts, row.first_failure_at, now)
        (outcome.dead if dead else outcome.retrying).append(row.key)


def deliver(serializer_cls: type[Serializer], batch: Batch, client: BubblehouseClient) -> Outcome:
    """Serialize and push one claimed batch in one request, then settle every row."""
    outcome = Outcome()
    now = timezone.now()
    keys, payloads = _payloads(serializer_cls, batch, outcome, now)
    if not payloads:
        return outcome
    kind = serializer_cls.kind
    error: BubblehouseAPIError | None = None
    try:
        send(serializer_cls, client, payloads)
    except Exception as raised:
        error = as_api_error(raised, kind.api_call)
    if error is None:
        sent_at = timezone.now()
        _settle(
            batch,
            keys,
            OutboxState.SENT,
            sent_at,
            if_current={"sent_at": sent_at},
            last_status=200,
            last_error="",
            last_error_id="",
        )
        outcome.sent.extend(keys)
        outcome.reached_api = True
        push_succeeded.send(serializer_cls, kind=kind, keys=keys)
        return outcome
    if isinstance(error, ConfigurationAPIError):
        # Every row would fail the same way: keep them pending, spend no attempt, pause.
        _settle(batch, keys, OutboxState.PENDING, timezone.now(), **error_fields(error))
        outcome.paused = pause(error).scope
        logger.error("Bubblehouse pushes paused (%s): %s", error.scope, error)
    elif isinstance(error, TransientAPIError):
        _transient(batch, keys, error, outcome, timezone.now())
        logger.warning("Bubblehouse push of %d %s will be retried: %s", len(keys), kind, error)
    else:
        _settle(
            batch,
            keys,
            OutboxState.FAILED,
            timezone.now(),
            attempts=F("attempts") + 1,
            **error_fields(error),
        )
        outcome.failed.extend(keys)
        outcome.reached_api = True
        logger.error("Bubblehouse rejected %d %s: %s", len(keys), kind, error)
    push_failed.send(serializer_cls, kind=kind, keys=keys, error=error)
    return outcome

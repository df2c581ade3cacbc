"""Sending one claimed batch and recording what happened to each row.

Every outcome is one UPDATE over the rows it concerns, with the columns
:func:`.outcomes.settlement` gives it. A row's columns are only written while
its generation is still the claimed token; a row changed during the push keeps
the ``pending`` state its change gave it and is pushed again.

A rejected batch is split in halves, and each half sent again, until the
rejected objects are alone: only they fail, with Bubblehouse's error; every
other object is delivered. With one bad object among ``n`` that costs at most
``1 + 2 * ceil(log2(n))`` requests (15 for 100). The first transient error
ends the batch: its unsent parts share that failure, no further request is made.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db import connections, router
from django.db.models.expressions import RawSQL
from django.utils import timezone

from .. import throttle
from ..client import BubblehouseClient
from ..exceptions import BubblehouseError, ConfigurationAPIError, SerializationError
from ..fields import FieldError
from ..models import OutboxEntry, OutboxState
from ..serializers import Serializer, send
from ..signals import push_failed, push_succeeded
from .claim import Batch, ClaimedRow, column, quoted
from .outcomes import Verdict, as_api_error, exhausted, is_infrastructure, settlement, verdict
from .pause import pause

logger = logging.getLogger("django_bubblehouse")

Part = tuple[list[str], list[dict[str, Any]]]  # keys and their payloads, in the same order


@dataclass
class Outcome:
    sent: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    retrying: list[str] = field(default_factory=list)
    dead: list[str] = field(default_factory=list)
    paused: str | None = None  # the scope a configuration error paused
    reached_api: bool = False  # the API answered with something other than a config error
    requests: int = 0
    # Why the drain should stop sending now: a verdict of THROTTLE, RETRY or DEFER.
    stop: Verdict | None = None


def _settle(batch: Batch, keys: list[str], fields: dict[str, Any]) -> None:
    """Release ``keys`` of the batch; ``fields`` only where the row is unchanged since.

    A plain UPDATE of the unchanged rows rather than one guarding each column with ``CASE
    WHEN generation = token`` (Django compiles those expressions column by column, which
    cost more than the statement); the rows changed during the push, if any, only lose
    their lease.
    """
    wanted = set(keys)
    pks = [row.pk for row in batch.rows if row.key in wanted]
    rows = OutboxEntry.objects.filter(pk__in=pks)
    if rows.filter(generation=batch.token).update(**fields, lease_until=None) < len(pks):
        rows.exclude(generation=batch.token).update(lease_until=None)


def _identities(identities: Mapping[int, Any]) -> RawSQL:
    """``pushed_identity`` of each row: ``CASE id WHEN ... END``, written here in plain SQL
    because Django resolves and compiles a ``Case(When(pk=...))`` expression per row,
    0.35 ms each, which made it a third of a drained batch's time."""
    connection = connections[router.db_for_write(OutboxEntry)]
    field = column("pushed_identity")
    pk, target = (quoted(connection, name) for name in ("id", "pushed_identity"))
    whens = " ".join(["WHEN %s THEN %s"] * len(identities))
    params: list[Any] = []
    for row_pk, identity in identities.items():
        params += [row_pk, field.get_db_prep_save(identity, connection)]
    return RawSQL(f"CASE {pk} {whens} ELSE {target} END", params, output_field=field)


def _rows(batch: Batch, keys: list[str]) -> list[ClaimedRow]:
    """The claimed rows of ``keys``, in the order of ``keys``."""
    by_key = {row.key: row for row in batch.rows}
    return [by_key[key] for key in keys]


def _fail(
    serializer_cls: type[Serializer],
    batch: Batch,
    keys: list[str],
    error: BaseException,
    outcome: Outcome,
    ids: Mapping[str, str] | None = None,
) -> None:
    """Apply ``error``'s settlement to ``keys`` and record what it did in ``outcome``;
    ``ids`` (key -> Bubblehouse id, when known) names the objects in the log."""
    now = timezone.now()
    rows = [row for row in batch.rows if row.key in set(keys)]
    result = settlement(error, now, max(row.attempts for row in rows))
    _settle(batch, keys, result.fields)
    found = result.verdict
    kind = serializer_cls.kind
    if found is Verdict.RETRY:
        dead = [row.key for row in rows if exhausted(row.attempts, row.first_failure_at, now)]
        retrying = [key for key in keys if key not in dead]
        outcome.dead.extend(dead)
        outcome.retrying.extend(retrying)
        if retrying:
            logger.warning(
                "Bubblehouse push of %d %s will be retried in %.1f s: %s",
                len(retrying),
                kind,
                result.delay,
                error,
            )
        if dead:
            logger.error(
                "%d %s row(s) of %s are dead (attempts or age exhausted; retry them by hand): %s",
                len(dead),
                kind,
                batch.label,
                error,
            )
    elif found in (Verdict.THROTTLE, Verdict.DEFER):
        outcome.retrying.extend(keys)
        logger.warning(
            "Bubblehouse push of %d %s waits %.1f s (no attempt spent): %s",
            len(keys),
            kind,
            result.delay,
            error,
        )
    elif found is Verdict.PAUSE:
        assert isinstance(error, ConfigurationAPIError)
        outcome.paused = pause(error).scope
        logger.error("Bubblehouse pushes paused (%s): %s", error.scope, error)
    else:
        outcome.failed.extend(keys)
        for key in keys:
            if isinstance(error, SerializationError):
                # It names the serializer, the object and the field; a bug in the host's own
                # code (a method field that raised) also gets the traceback of where it raised.
                logger.warning(
                    "Bubblehouse could not serialize %s", error, exc_info=_host_bug(error)
                )
                continue
            known = (ids or {}).get(key, key)
            logger.warning(
                "Bubblehouse %s %s object %s: %s",
                "rejected" if found is Verdict.REJECT else "could not serialize",
                batch.label,
                key if known == key else f"{known} (pk {key})",
                error,
            )
    if found in (Verdict.THROTTLE, Verdict.RETRY, Verdict.DEFER):
        outcome.stop = found
    push_failed.send(serializer_cls, kind=kind, keys=keys, error=error)


def _host_bug(error: SerializationError) -> BaseException | None:
    """The exception raised by the host's code behind ``error``, if any (not the app's own
    findings: a missing value, a refused payload, which their messages explain whole)."""
    cause = error.__cause__
    while isinstance(cause, BubblehouseError | FieldError):
        cause = cause.__cause__
    return cause


def _payloads(serializer_cls: type[Serializer], batch: Batch, outcome: Outcome) -> Part:
    """Serialize the batch's current state; unserializable or gone rows are settled here."""
    try:
        result = serializer_cls().serialize_keys(batch.keys)
    except Exception as error:
        if not is_infrastructure(error):  # a bug in host code (get_queryset, a method field)
            logger.exception("Serializing a batch of %s failed", batch.label)
        _fail(serializer_cls, batch, batch.keys, error, outcome)
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
        _fail(serializer_cls, batch, [key], problem, outcome)
    gone = [key for key in result.skipped if key not in keys]
    if gone:
        _settle(batch, gone, {"state": OutboxState.SKIPPED, "updated_at": timezone.now()})
        outcome.skipped.extend(gone)
    return keys, payloads


def _sent(
    serializer_cls: type[Serializer],
    batch: Batch,
    part: Part,
    outcome: Outcome,
) -> None:
    keys, payloads = part
    sent_at = timezone.now()
    fields: dict[str, Any] = {
        "state": OutboxState.SENT,
        "sent_at": sent_at,
        "last_status": 200,
        "last_error": "",
        "last_error_id": "",
        "updated_at": sent_at,
    }
    serializer = serializer_cls()
    identities = {
        row.pk: identity
        for row, payload in zip(_rows(batch, keys), payloads, strict=True)
        if not payload.get("deleted") and (identity := serializer.pushed_identity(payload))
    }
    if identities:
        fields["pushed_identity"] = _identities(identities)
    _settle(batch, keys, fields)
    outcome.sent.extend(keys)
    outcome.reached_api = True
    push_succeeded.send(serializer_cls, kind=serializer_cls.kind, keys=keys)


def deliver(
    serializer_cls: type[Serializer],
    batch: Batch,
    client: BubblehouseClient,
    may_split: Callable[[], bool] = lambda: True,
) -> Outcome:
    """Serialize and push one claimed batch, isolating rejected objects, then settle every row.

    ``may_split`` is asked before each extra request of an isolation; when it
    says no (the drain's budget is spent) the parts not yet sent go back to
    ``pending`` untouched, for the next drain.
    """
    outcome = Outcome()
    parts = [_payloads(serializer_cls, batch, outcome)]
    if not parts[0][1]:
        return outcome
    while parts:
        keys, payloads = parts.pop(0)
        outcome.requests += 1
        error = _push(serializer_cls, client, payloads)
        if error is None:
            _sent(serializer_cls, batch, (keys, payloads), outcome)
            continue
        found = verdict(error)
        if found is Verdict.REJECT:
            outcome.reached_api = True
            if len(keys) == 1:
                ids = {keys[0]: str(payloads[0].get("id", keys[0]))}
                _fail(serializer_cls, batch, keys, error, outcome, ids)
                continue
            if not may_split():
                parts.insert(0, (keys, payloads))
                break
            middle = len(keys) // 2
            parts[:0] = [(keys[:middle], payloads[:middle]), (keys[middle:], payloads[middle:])]
            continue
        # Nothing else is sent after a transient or configuration error: the rest shares it.
        unsent = [key for part_keys, _ in parts for key in part_keys]
        parts.clear()
        _fail(serializer_cls, batch, keys + unsent, error, outcome)
    leftover = [key for part_keys, _ in parts for key in part_keys]
    if leftover:
        _settle(batch, leftover, {"state": OutboxState.PENDING})
        outcome.retrying.extend(leftover)
        logger.info(
            "Isolating a rejection in %s continues in the next drain (%d rows)",
            batch.label,
            len(leftover),
        )
    return outcome


def _push(
    serializer_cls: type[Serializer], client: BubblehouseClient, payloads: list[dict[str, Any]]
) -> BaseException | None:
    try:
        throttle.check(serializer_cls.kind.api_call)  # right before sending: a fresh hold counts
        send(serializer_cls, client, payloads)
    except Exception as raised:
        if is_infrastructure(raised):  # the shop's own database (reading the shop-wide hold)
            return raised
        return as_api_error(raised, serializer_cls.kind.api_call)
    return None

"""Outbox rows for pushes made outside the drain (backfills), and for receiver failures.

A failure is recorded with the settlement the drain would give it
(:mod:`.outcomes`, the one retry policy), so the admin, the retry action and
the drain treat both the same way; a success resolves an older failure of the same object.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from django.db import router, transaction
from django.utils import timezone

from ..exceptions import BubblehouseAPIError
from ..models import TERMINAL_STATES, OutboxEntry, OutboxState
from .outcomes import as_api_error, settlement
from .record import CHANGED, upsert

if TYPE_CHECKING:
    from ..serializers import Serializer

# A recorded push starts a fresh attempt budget, as a change does, due now.
_RECORDED = (*CHANGED, "next_attempt_at")


def record_failures(serializer_cls: type[Serializer], errors: Mapping[str, BaseException]) -> None:
    """Leave these objects in the outbox as the drain would after the same failure.

    Each error is settled by the one retry policy (:func:`.outcomes.settlement`):
    a transient API error leaves the row pending with backoff, a 429 or a
    configuration error leaves it pending without spending an attempt, a
    database error leaves it pending, and a rejection, a
    :class:`~django_bubblehouse.exceptions.SerializationError` or any other
    error fails it with the reason (status and error id included).
    """
    if not errors:
        return
    label = serializer_cls.label()
    typed = {
        str(key): as_api_error(error, serializer_cls.kind.api_call)
        if isinstance(error, BubblehouseAPIError)
        else error
        for key, error in errors.items()
    }
    now = timezone.now()
    by_error: dict[int, tuple[BaseException, list[str]]] = {}
    for key, error in typed.items():
        by_error.setdefault(id(error), (error, []))[1].append(key)
    entries = OutboxEntry.objects.using(router.db_for_write(OutboxEntry))
    # A fresh row (or a fresh attempt budget, as a change gives) that the settlement then
    # moves on; the delete payload is kept. All statements or none; inside the host's
    # transaction, a savepoint keeps a failure here from poisoning it (PostgreSQL refuses
    # every later statement after an error).
    with transaction.atomic(using=entries.db):
        upsert(serializer_cls, {key: {"next_attempt_at": now} for key in typed}, _RECORDED)
        for error, keys in by_error.values():
            fields = settlement(error, now, 0).fields
            entries.filter(serializer=label, object_key__in=keys).update(**fields)


def failed_generations(serializer_cls: type[Serializer], keys: Collection[str]) -> dict[str, int]:
    """The generation of each failed or dead row among ``keys``.

    Read before the objects are serialized for a push, it lets
    :func:`resolve_failures` tell these rows from rows changed since.
    """
    rows = OutboxEntry.objects.filter(
        serializer=serializer_cls.label(), object_key__in=keys, state__in=TERMINAL_STATES
    )
    return dict(rows.values_list("object_key", "generation"))


def resolve_failures(
    serializer_cls: type[Serializer], generations: Mapping[str, int], sent: Collection[str]
) -> int:
    """Mark failed or dead rows sent once a later push of their objects succeeded.

    ``generations`` comes from :func:`failed_generations`; a row whose
    generation moved on since (a newer change, or a newer failure) is left alone.
    """
    resolved = {key: generations[key] for key in sent if key in generations}
    if not resolved:
        return 0
    now = timezone.now()
    # Generations are random 62-bit tokens, so matching the set instead of each
    # (key, generation) pair cannot realistically pick a changed row.
    return OutboxEntry.objects.filter(
        serializer=serializer_cls.label(),
        object_key__in=resolved,
        generation__in=resolved.values(),
        state__in=TERMINAL_STATES,
    ).update(
        state=OutboxState.SENT,
        sent_at=now,
        updated_at=now,
        last_status=200,
        last_error_id="",
        last_error="",
    )

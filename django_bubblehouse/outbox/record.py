"""Recording changes in the outbox, inside the caller's transaction.

One upsert per (serializer, key) per transaction: repeated saves of the same
object in one transaction are remembered here and cost no further query, and
one on-commit wake-up is registered per transaction (per savepoint level, so a
rolled-back savepoint forgets exactly what it wrote). The wake-up only signals
the process's :mod:`.waker`, which checks the drain-request flag off the
host's thread.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils import timezone

from ..models import OutboxEntry
from .upsert import write_changes
from .waker import wake_after_commit

if TYPE_CHECKING:
    from ..serializers import Serializer


class _Wake:
    """An on-commit callback that also remembers the keys written at its savepoint level.

    Django drops a callback registered inside a savepoint that is rolled back,
    so "our callback is still registered" is exactly "what it remembers is
    still written".
    """

    def __init__(self, savepoint_ids: set[str], using: str) -> None:
        self.savepoint_ids = savepoint_ids
        self.using = using
        self.written: set[tuple[str, str]] = set()
        self.fired = False

    def __call__(self) -> None:
        # After the commit the transaction is over: a later save must write again.
        self.fired = True
        self.written.clear()
        wake_after_commit(self.using)


def _live_wakes(connection: BaseDatabaseWrapper) -> list[_Wake]:
    return [
        callback
        for _, callback, *_ in connection.run_on_commit
        if isinstance(callback, _Wake) and not callback.fired
    ]


def _unwritten(label: str, keys: list[str], using: str) -> tuple[list[str], _Wake | None]:
    """The keys not yet written in this transaction, and the wake-up that will cover them."""
    connection = connections[using]
    if not connection.in_atomic_block:
        return keys, None
    wakes = _live_wakes(connection)
    written = set().union(*(wake.written for wake in wakes))
    level = set(connection.savepoint_ids)
    wake = next((w for w in wakes if w.savepoint_ids == level), None)
    if wake is None:
        wake = _Wake(level, using)
        transaction.on_commit(wake, using=using, robust=True)
    return [key for key in keys if (label, key) not in written], wake


def forget_written(using: str, written: set[tuple[str, str]] | None = None) -> None:
    """Make later saves in this transaction write these (serializer, key) rows again.

    For writers that change outbox rows behind the memo's back; ``None`` forgets all.
    """
    for wake in _live_wakes(connections[using]):
        if written is None:
            wake.written.clear()
        else:
            wake.written -= written


def _upsert(
    serializer_cls: type[Serializer],
    keys: list[str],
    *,
    delete_payload: dict[str, Any] | None = None,
) -> int:
    """Insert or refresh the rows of ``keys`` (one statement per chunk); returns rows written."""
    using = router.db_for_write(OutboxEntry)
    label = serializer_cls.label()
    todo, wake = _unwritten(label, list(dict.fromkeys(keys)), using)
    if delete_payload is not None:  # new data: an earlier write in this transaction is not enough
        todo = list(dict.fromkeys(keys))
    if not todo:
        return 0
    write_changes(
        connections[using], serializer_cls.kind.value, label, todo, timezone.now(), delete_payload
    )
    if wake is None:
        transaction.on_commit(functools.partial(wake_after_commit, using), using=using, robust=True)
    else:
        wake.written.update((label, key) for key in todo)
    return len(todo)


def mark_dirty(serializer_cls: type[Serializer], keys: Iterable[str]) -> int:
    """Record that these objects changed; a drain pushes their state after commit."""
    return _upsert(serializer_cls, [str(key) for key in keys])


def mark_deleted(serializer_cls: type[Serializer], key: str, payload: dict[str, Any]) -> None:
    """Record a delete with the payload captured while the object still existed.

    The payload is kept on the row and sent when the object no longer exists at
    send time (a row re-created under the same key is pushed as it is then).
    """
    _upsert(serializer_cls, [str(key)], delete_payload=payload)

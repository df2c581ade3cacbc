"""Claiming a batch of due rows for one serializer, safely against concurrent drains.

PostgreSQL and SQLite (3.35+): one ``UPDATE ... WHERE id IN (the first due rows)
RETURNING``, autocommitted: one round trip and one commit per claim. It is atomic
on both: SQLite runs the statement under its write lock, PostgreSQL's subquery
locks the rows it picks (``FOR UPDATE SKIP LOCKED``), so concurrent drains take
disjoint batches without waiting for each other.

MySQL and MariaDB have no ``UPDATE ... RETURNING``: a transaction reads the due
rows (``SKIP LOCKED``), then takes them by key at the generation it read them with
(every change and every claim draws a new one), and reads the claimed rows back.

:func:`due_counts` tells a drain, in one query, which serializers have rows to
claim at all, so a round spends no claim on a serializer with nothing due.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.db import connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Field
from django.utils import timezone

from ..conf import get_settings
from ..models import OutboxEntry, OutboxState

# The columns a drain needs of each row it claimed, in ClaimedRow's order.
CLAIMED_COLUMNS = ("id", "object_key", "delete_payload", "attempts", "first_failure_at")


@dataclass(frozen=True)
class ClaimedRow:
    pk: int
    key: str
    delete_payload: dict[str, Any] | None
    attempts: int
    first_failure_at: datetime | None


@dataclass(frozen=True)
class Batch:
    label: str
    token: int  # the generation every claimed row carries until someone changes it again
    rows: list[ClaimedRow]

    @property
    def pks(self) -> list[int]:
        return [row.pk for row in self.rows]

    @property
    def keys(self) -> list[str]:
        return [row.key for row in self.rows]


def column(name: str) -> Field[Any, Any]:
    """The outbox's field ``name``, for SQL written here and in :mod:`.deliver`."""
    found = OutboxEntry._meta.get_field(name)
    assert isinstance(found, Field)  # a concrete column, not a reverse relation
    return found


def quoted(connection: BaseDatabaseWrapper, name: str) -> str:
    """The quoted column of the outbox's field ``name``."""
    return connection.ops.quote_name(str(column(name).column))


def _due_rows(
    connection: BaseDatabaseWrapper,
    label: str,
    now: datetime,
    columns: Sequence[str],
    limit: int,
) -> tuple[str, list[Any]]:
    """A SELECT of ``columns`` of the first ``limit`` rows of ``label`` a drain may claim now,
    oldest due first, and its parameters.

    Plain SQL, not a queryset: compiling the filter was most of what a round's count of due
    rows cost (one queryset per registered serializer, every batch). It walks the due index
    (serializer, state, next_attempt_at) and stops after ``limit`` rows. The ORDER BY keeps
    PostgreSQL on that index: without it, a LIMIT with a stale row estimate picked a
    sequential scan through every row already sent. Rows due at the same moment come in index
    order, not by key, which PostgreSQL would sort the whole backlog for, batch after batch.
    """
    name = partial(quoted, connection)
    lease, due_at = name("lease_until"), name("next_attempt_at")
    sql = (
        f"SELECT {', '.join(map(name, columns))}"
        f" FROM {connection.ops.quote_name(OutboxEntry._meta.db_table)}"
        f" WHERE {name('serializer')} = %s AND {name('state')} = %s AND {due_at} <= %s"
        f" AND ({lease} IS NULL OR {lease} < %s)"
        f" ORDER BY {due_at} LIMIT {int(limit)}"
    )
    moment = column("next_attempt_at").get_db_prep_value(now, connection)
    return sql, [label, OutboxState.PENDING.value, moment, moment]


def _fetch(connection: BaseDatabaseWrapper, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows: list[tuple[Any, ...]] = cursor.fetchall()
    return rows


def due_counts(labels: Sequence[str], limit: int) -> dict[str, int]:
    """How many rows of each of ``labels`` can be claimed now, counted up to ``limit``;
    labels with none are left out.

    One query however many labels there are: a ``UNION ALL`` of one count per label over at
    most ``limit`` rows (the due index), so its cost grows with neither the backlog nor the
    labels that have nothing due.
    """
    if not labels:
        return {}
    connection = connections[router.db_for_write(OutboxEntry)]
    now = timezone.now()
    parts: list[str] = []
    params: list[Any] = []
    for index, label in enumerate(labels):
        sql, due_params = _due_rows(connection, label, now, ["id"], limit)
        # A derived table: SQLite allows no LIMIT in the members of a compound SELECT.
        parts.append(f"SELECT {index}, COUNT(*) FROM ({sql}) due_{index}")
        params.extend(due_params)
    rows = _fetch(connection, " UNION ALL ".join(parts), params)
    return {labels[index]: count for index, count in rows if count}


def claim_batch(label: str, limit: int) -> Batch | None:
    """Mark up to ``limit`` due rows of ``label`` as sending under a lease; None if none are due."""
    connection = connections[router.db_for_write(OutboxEntry)]
    now = timezone.now()
    token = secrets.randbits(62)
    claimed = {
        "state": OutboxState.SENDING,
        "generation": token,
        "lease_until": now + timedelta(seconds=get_settings().sending_lease),
    }
    due = partial(_due_rows, connection, label, now, limit=limit)
    if _updates_return_rows(connection):
        rows = _claim_in_one_statement(connection, due(["id"]), claimed)
    else:
        rows = _claim_in_a_transaction(connection, due(["id", "generation"]), claimed)
    rows.sort(key=lambda row: row.pk)
    return Batch(label, token, rows) if rows else None


def _updates_return_rows(connection: BaseDatabaseWrapper) -> bool:
    """``UPDATE ... RETURNING``: PostgreSQL, and SQLite since 3.35 (which added RETURNING to
    INSERT in the same release); MySQL and MariaDB have none."""
    if connection.vendor == "sqlite":
        return bool(connection.features.can_return_columns_from_insert)
    return connection.vendor == "postgresql"


def _locking(connection: BaseDatabaseWrapper, select: str) -> str:
    """``select`` taking row locks that concurrent claimers skip, where the backend has them."""
    if connection.features.has_select_for_update_skip_locked:
        return f"{select} {connection.ops.for_update_sql(skip_locked=True)}"
    return select


def _claim_in_one_statement(
    connection: BaseDatabaseWrapper, due: tuple[str, list[Any]], claimed: dict[str, Any]
) -> list[ClaimedRow]:
    """One autocommitted ``UPDATE ... WHERE id IN (due) RETURNING``: a single round trip and
    commit, and on SQLite no read lock held while waiting to write (a deferred transaction
    that has read cannot wait for a concurrent writer: it fails at once, "database is
    locked"). The statement reads and writes atomically: SQLite runs it under its write
    lock, and on PostgreSQL the subquery locks the rows it returns (``SKIP LOCKED``)."""
    name = partial(quoted, connection)
    due_sql, due_params = due
    assignments = ", ".join(f"{name(field)} = %s" for field in claimed)
    sql = (
        f"UPDATE {connection.ops.quote_name(OutboxEntry._meta.db_table)} SET {assignments}"
        f" WHERE {name('id')} IN ({_locking(connection, due_sql)})"
        f" RETURNING {', '.join(map(name, CLAIMED_COLUMNS))}"
    )
    values = [column(field).get_db_prep_save(value, connection) for field, value in claimed.items()]
    read = _reader(connection, [column(field) for field in CLAIMED_COLUMNS])
    return [ClaimedRow(*read(row)) for row in _fetch(connection, sql, [*values, *due_params])]


def _claim_in_a_transaction(
    connection: BaseDatabaseWrapper, due: tuple[str, list[Any]], claimed: dict[str, Any]
) -> list[ClaimedRow]:
    """Read the due rows, then take them by key at the generation they were read with: a
    claimer that read the same rows as another one before it wrote (no row locks) gets none
    of them. By key, not by the "claimable" condition again, which SQLite planned on the due
    index, walking the whole backlog for every batch."""
    entries = OutboxEntry.objects.using(connection.alias)
    due_sql, due_params = due
    with transaction.atomic(using=connection.alias):
        read = dict(_fetch(connection, _locking(connection, due_sql), due_params))
        if not read:
            return []
        pks = list(read)
        entries.filter(pk__in=pks, generation__in=set(read.values())).update(**claimed)
        mine = entries.filter(pk__in=pks, generation=claimed["generation"])
        return [ClaimedRow(*values) for values in mine.values_list(*CLAIMED_COLUMNS)]


def _reader(
    connection: BaseDatabaseWrapper, fields: list[Field[Any, Any]]
) -> Callable[[Sequence[Any]], list[Any]]:
    """What Django's compiler applies to the columns it reads (a backend's datetime parsing, a
    JSON field's decoding), for rows fetched with plain SQL."""
    steps = []
    for field in fields:
        col = field.get_col(OutboxEntry._meta.db_table)
        steps.append(
            (col, connection.ops.get_db_converters(col) + field.get_db_converters(connection))
        )

    def read(row: Sequence[Any]) -> list[Any]:
        values = []
        for value, (col, functions) in zip(row, steps, strict=True):
            for function in functions:
                value = function(value, col, connection)
            values.append(value)
        return values

    return read


def unclaim(batch: Batch) -> None:
    """Give a claimed batch back untouched (its drain may not send it after all)."""
    OutboxEntry.objects.filter(pk__in=batch.pks, generation=batch.token).update(
        state=OutboxState.PENDING, lease_until=None
    )

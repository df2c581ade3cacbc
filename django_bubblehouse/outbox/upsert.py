"""The outbox upsert: the one statement every captured host save pays for.

It runs inside the host's transaction on every save, so it is raw SQL built
once per shape: ``bulk_create(update_conflicts=True)`` builds the same
statement but costs several times the database round trip in Python.
``INSERT ... ON CONFLICT (serializer, object_key) DO UPDATE`` is understood by
SQLite (3.24+, older than any Django supports) and PostgreSQL; other backends
are refused here and reported by check ``bubblehouse.E031``.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from django.db import NotSupportedError, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models import Field

from ..models import OutboxEntry, OutboxState

SUPPORTED_VENDORS = frozenset({"sqlite", "postgresql"})

# Written into a new row; a row that exists gets only _CHANGED (plus the delete payload when
# one is given), so its backoff (next_attempt_at), last error and created_at survive a change.
_INSERTED = (
    "kind",
    "serializer",
    "object_key",
    "state",
    "generation",
    "attempts",
    "first_failure_at",
    "next_attempt_at",
    "last_error_id",
    "last_error",
    "created_at",
    "updated_at",
)
_CHANGED = ("kind", "state", "generation", "attempts", "first_failure_at", "updated_at")
_PAYLOAD = "delete_payload"
_ROWS_PER_STATEMENT = 500
_SAVEPOINT = "bubblehouse_outbox"


def _field(name: str) -> Field[Any, Any]:
    field = OutboxEntry._meta.get_field(name)
    assert isinstance(field, Field)  # a concrete column, not a reverse relation
    return field


def _column(name: str) -> str:
    # Both supported dialects quote identifiers the SQL-standard way.
    return f'"{_field(name).column}"'


@functools.lru_cache(maxsize=32)
def _statement(rows: int, with_payload: bool) -> str:
    inserted = [*_INSERTED, _PAYLOAD] if with_payload else list(_INSERTED)
    changed = [*_CHANGED, _PAYLOAD] if with_payload else list(_CHANGED)
    row = "(" + ", ".join(["%s"] * len(inserted)) + ")"
    return (
        f'INSERT INTO "{OutboxEntry._meta.db_table}" ({", ".join(map(_column, inserted))}) '
        f"VALUES {', '.join([row] * rows)} "
        f"ON CONFLICT ({_column('serializer')}, {_column('object_key')}) DO UPDATE SET "
        + ", ".join(f"{_column(name)} = EXCLUDED.{_column(name)}" for name in changed)
    )


def write_changes(
    connection: BaseDatabaseWrapper,
    kind: str,
    label: str,
    keys: Sequence[str],
    now: datetime,
    delete_payload: dict[str, Any] | None = None,
) -> None:
    """Make the rows of ``keys`` pending with a fresh generation and attempt budget."""
    if connection.vendor not in SUPPORTED_VENDORS:
        raise NotSupportedError(
            f"django-bubblehouse's outbox needs INSERT ... ON CONFLICT (SQLite or PostgreSQL), "
            f"not {connection.display_name} (see check bubblehouse.E031)"
        )
    stamp = connection.ops.adapt_datetimefield_value(now)
    tail: tuple[Any, ...] = (None, stamp, "", "", stamp, stamp)
    if delete_payload is not None:
        tail += (_field(_PAYLOAD).get_db_prep_save(delete_payload, connection),)
    state = OutboxState.PENDING.value
    columns = len(_INSERTED) + (delete_payload is not None)
    limit = connection.features.max_query_params
    per_statement = min(_ROWS_PER_STATEMENT, limit // columns if limit else _ROWS_PER_STATEMENT)
    statements = []
    for start in range(0, len(keys), per_statement):
        chunk = keys[start : start + per_statement]
        params = [
            value
            for key in chunk
            for value in (kind, label, key, state, secrets.randbits(62), 0, *tail)
        ]
        statements.append((_statement(len(chunk), delete_payload is not None), params))
    _execute_shielded(connection, statements)


def _execute_shielded(
    connection: BaseDatabaseWrapper, statements: list[tuple[str, list[Any]]]
) -> None:
    """Run ``statements`` so that their failure cannot doom the host's transaction.

    On PostgreSQL one failed statement makes the server refuse every later
    statement of the transaction, and a failure is always possible (the table
    missing before ``migrate``, a lock or statement timeout), so the writes run
    inside a savepoint. When the driver interpolates parameters itself (psycopg 3's
    default client-side binding, psycopg2) the savepoint, the writes and its release
    travel as one round trip. SQLite only undoes the failed statement, and outside a
    transaction the statement is its own transaction: no savepoint is needed there.
    """
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or not connection.in_atomic_block:
            for sql, params in statements:
                cursor.execute(sql, params)
        elif _binds_client_side(cursor):
            sql = "; ".join(statement for statement, _ in statements)
            params = [value for _, values in statements for value in values]
            try:
                cursor.execute(
                    f"SAVEPOINT {_SAVEPOINT}; {sql}; RELEASE SAVEPOINT {_SAVEPOINT}", params
                )
            except Exception:
                cursor.execute(
                    f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}; RELEASE SAVEPOINT {_SAVEPOINT}"
                )
                raise
        else:
            savepoint = transaction.savepoint(connection.alias)
            try:
                for sql, params in statements:
                    cursor.execute(sql, params)
            except Exception:
                transaction.savepoint_rollback(savepoint, connection.alias)
                raise
            transaction.savepoint_commit(savepoint, connection.alias)


def _binds_client_side(cursor: CursorWrapper) -> bool:
    """Whether several statements may share one ``execute`` with parameters."""
    try:
        from psycopg import ClientCursor
    except ImportError:  # Django runs on psycopg2, which always interpolates client-side
        return True
    return isinstance(cursor.cursor, ClientCursor)

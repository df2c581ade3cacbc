"""Writing outbox rows: the one upsert every writer uses, inside the caller's transaction.

Receivers, admin actions, backfills and failure recording all write through
:func:`upsert`: one ``INSERT ... ON CONFLICT``/``ON DUPLICATE KEY UPDATE``
statement per 500 rows, built once per shape from the database backend's own
upsert clause (the one ``bulk_create(update_conflicts=True)`` uses), so it runs
on SQLite, PostgreSQL, MySQL and MariaDB without paying ``bulk_create``'s
per-call model machinery on every captured save.

Inside a transaction a change is written once per (serializer, key): repeated
saves of one object cost one statement. What was written is remembered on the
on-commit wake-up registered at the current savepoint level, so a rolled-back
savepoint (whose callbacks Django discards) forgets exactly what it wrote, and
any other write through :func:`upsert` (a recorded failure), or a drain's claim
in the same transaction, makes the next change write again. After commit the
wake-up asks :mod:`.wakeup` for a drain.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import re
import secrets
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.db import DatabaseError, NotSupportedError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.utils import CursorWrapper
from django.db.models.constants import OnConflict
from django.utils import timezone

from ..models import OutboxEntry, OutboxState
from .claim import column
from .wakeup import wake_after_commit

if TYPE_CHECKING:
    from ..serializers import Serializer

# Every row is inserted with all of these; a row that exists gets only the columns its writer
# names. A change names CHANGED, so a row's backoff (next_attempt_at), last error and
# created_at survive it.
COLUMNS = (
    "kind",
    "serializer",
    "object_key",
    "state",
    "generation",
    "attempts",
    "first_failure_at",
    "next_attempt_at",
    "last_status",
    "last_error_id",
    "last_error",
    "delete_payload",
    "created_at",
    "updated_at",
)
_AT = {name: index for index, name in enumerate(COLUMNS)}
# A new row, but for its identity, generation and time stamps (filled in per write).
_FRESH = {"state": OutboxState.PENDING.value, "attempts": 0, "last_error_id": "", "last_error": ""}
_FRESH_ROW = tuple(_FRESH.get(name) for name in COLUMNS)
CHANGED = ("kind", "state", "generation", "attempts", "first_failure_at", "updated_at")
_ROWS_PER_STATEMENT = 500
_SAVEPOINT = "bubblehouse_outbox"
# PostgreSQL: per raw connection, the statements prepared on it, or None where the session
# did not keep them; and the errors saying so (duplicate_prepared_statement,
# invalid_sql_statement_name: "prepared statement does not exist").
_prepared_on: weakref.WeakKeyDictionary[Any, set[str] | None] = weakref.WeakKeyDictionary()
_SESSION_STATE_LOST = frozenset({"42P05", "26000"})


def mark_dirty(serializer_cls: type[Serializer], keys: Iterable[str]) -> int:
    """Record that these objects changed; a drain pushes their state after commit.

    Returns the number of rows written (keys already written in this transaction cost nothing).
    """
    return _write(serializer_cls, {str(key): {} for key in keys}, CHANGED, change=True)


def mark_deleted(serializer_cls: type[Serializer], key: str, payload: dict[str, Any]) -> None:
    """Record a delete with the payload captured while the object still existed.

    The payload is kept on the row and sent when the object no longer exists at
    send time (a row re-created under the same key is pushed as it is then).
    """
    rows = {str(key): {"delete_payload": payload}}
    _write(serializer_cls, rows, (*CHANGED, "delete_payload"), change=True)


def forget_claimed(label: str, keys: Iterable[str]) -> None:
    """Rows a drain just claimed inside the caller's open transaction (a drain run in
    process, as the test fixture runs it): the next change of these objects in the same
    transaction must write again, or settling the push would leave it marked sent."""
    connection = connections[router.db_for_write(OutboxEntry)]
    if connection.in_atomic_block:
        claimed = {(label, key) for key in keys}
        for wake in _live_wakes(connection):
            wake.written -= claimed


def upsert(
    serializer_cls: type[Serializer],
    rows: Mapping[str, Mapping[str, Any]],
    changed: Sequence[str],
) -> None:
    """Insert each key's row (its given columns over a fresh pending row) or update ``changed``.

    For writers that leave rows in another state than a change does (recorded failures):
    a later change in this transaction writes these rows again.
    """
    _write(serializer_cls, rows, tuple(changed), change=False)


def _write(
    serializer_cls: type[Serializer],
    rows: Mapping[str, Mapping[str, Any]],
    changed: tuple[str, ...],
    *,
    change: bool,
) -> int:
    using = router.db_for_write(OutboxEntry)
    connection = connections[using]
    label = serializer_cls.label()
    wakes = _live_wakes(connection) if connection.in_atomic_block else []
    keys = list(rows)
    if change and changed == CHANGED and wakes:  # new data (a delete payload) is always written
        written = set().union(*(wake.written for wake in wakes))
        keys = [key for key in keys if (label, key) not in written]
    if not keys:
        return 0
    now = timezone.now()
    stamp = connection.ops.adapt_datetimefield_value(now)
    template = list(_FRESH_ROW)
    template[_AT["kind"]] = serializer_cls.kind.value
    template[_AT["serializer"]] = label
    for name in ("next_attempt_at", "created_at", "updated_at"):
        template[_AT[name]] = stamp
    values = []
    for key in keys:
        row = template.copy()
        row[_AT["object_key"]] = key
        row[_AT["generation"]] = secrets.randbits(62)
        for name, value in _prepared(connection, rows[key], now, stamp):
            row[_AT[name]] = value
        values.append(row)
    _execute_shielded(connection, _statements(connection, values, changed))
    if not connection.in_atomic_block:
        transaction.on_commit(functools.partial(wake_after_commit, using), using=using, robust=True)
    elif change:
        _wake_at_this_level(connection, wakes, using).written.update((label, key) for key in keys)
    else:
        _wake_at_this_level(connection, wakes, using)
        for wake in wakes:
            wake.written.difference_update((label, key) for key in keys)
    return len(keys)


def _prepared(
    connection: BaseDatabaseWrapper, columns: Mapping[str, Any], now: datetime, stamp: Any
) -> Iterator[tuple[str, Any]]:
    """A writer's own column values, as the database takes them."""
    for name, value in columns.items():
        if value is now:
            yield name, stamp
        elif isinstance(value, datetime):
            yield name, connection.ops.adapt_datetimefield_value(value)
        elif name == "delete_payload" and value is not None:
            yield name, column(name).get_db_prep_save(value, connection)
        else:
            yield name, value


def _statements(
    connection: BaseDatabaseWrapper, rows: list[list[Any]], changed: tuple[str, ...]
) -> list[tuple[str, list[Any]]]:
    if not connection.features.supports_update_conflicts:
        raise NotSupportedError(
            f"django-bubblehouse's outbox needs a database with upserts (SQLite, PostgreSQL, "
            f"MySQL or MariaDB), not {connection.display_name} (see check bubblehouse.E031)"
        )
    limit = connection.features.max_query_params
    per_statement = min(
        _ROWS_PER_STATEMENT, limit // len(COLUMNS) if limit else _ROWS_PER_STATEMENT
    )
    return [
        (
            _statement(connection.alias, len(chunk), changed),
            [value for row in chunk for value in row],
        )
        for chunk in (rows[i : i + per_statement] for i in range(0, len(rows), per_statement))
    ]


@functools.lru_cache(maxsize=64)
def _statement(alias: str, rows: int, changed: tuple[str, ...]) -> str:
    ops = connections[alias].ops
    upsert_clause = ops.on_conflict_suffix_sql(
        [column(name) for name in COLUMNS],
        OnConflict.UPDATE,
        [_column(name) for name in changed],
        [_column("serializer"), _column("object_key")],
    )
    row = "(" + ", ".join(["%s"] * len(COLUMNS)) + ")"
    return (
        f"INSERT INTO {ops.quote_name(OutboxEntry._meta.db_table)} "
        f"({', '.join(ops.quote_name(_column(name)) for name in COLUMNS)}) "
        f"VALUES {', '.join([row] * rows)} {upsert_clause}"
    )


def _column(name: str) -> str:
    name_in_table = column(name).column
    assert name_in_table is not None
    return name_in_table


def _execute_shielded(
    connection: BaseDatabaseWrapper, statements: list[tuple[str, list[Any]]]
) -> None:
    """Run ``statements`` so that their failure cannot doom the host's transaction.

    On PostgreSQL one failed statement makes the server refuse every later
    statement of the transaction, and a failure is always possible (the table
    missing before ``migrate``, a lock or statement timeout), so the writes run
    inside a savepoint. When the driver interpolates parameters itself (psycopg 3's
    default client-side binding, psycopg2) the savepoint, the writes and its release
    travel as one round trip. SQLite, MySQL and MariaDB only undo the failed
    statement, and outside a transaction a statement is its own transaction.
    """
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql" or not connection.in_atomic_block:
            for sql, params in statements:
                cursor.execute(sql, params)
        elif _binds_client_side(cursor):
            _one_round_trip(connection, cursor, statements)
        else:
            with transaction.atomic(using=connection.alias):
                for sql, params in statements:
                    cursor.execute(sql, params)


def _one_round_trip(
    connection: BaseDatabaseWrapper,
    cursor: CursorWrapper,
    statements: list[tuple[str, list[Any]]],
) -> None:
    """The savepoint, the writes and the release in one ``execute``.

    A write of one row (a save's) runs as a statement prepared on the connection
    the first time, which spares the server parsing and planning it on every save.
    A connection that meets a prepared statement it did not expect, or misses one
    it prepared (a pooler's ``DISCARD ALL``, a server connection shared by
    transaction pooling), sends plain statements from then on.
    """
    prepared = _prepared_on.setdefault(connection.connection, set())
    if prepared is not None and len(statements) == 1 and len(statements[0][1]) == len(COLUMNS):
        sql, params = statements[0]
        name, body = _prepared_statement(sql)
        execute = f"EXECUTE {name}({', '.join(['%s'] * len(params))})"
        batch = execute if name in prepared else f"PREPARE {name} AS {body}; {execute}"
        try:
            _in_savepoint(cursor, batch, params)
        except DatabaseError as error:
            if _sqlstate(error) not in _SESSION_STATE_LOST:
                raise
            _prepared_on[connection.connection] = None
        else:
            prepared.add(name)
            return
    _in_savepoint(
        cursor,
        "; ".join(statement for statement, _ in statements),
        [value for _, values in statements for value in values],
    )


def _in_savepoint(cursor: CursorWrapper, sql: str, params: list[Any]) -> None:
    try:
        cursor.execute(f"SAVEPOINT {_SAVEPOINT}; {sql}; RELEASE SAVEPOINT {_SAVEPOINT}", params)
    except Exception:
        cursor.execute(f"ROLLBACK TO SAVEPOINT {_SAVEPOINT}; RELEASE SAVEPOINT {_SAVEPOINT}")
        raise


@functools.lru_cache(maxsize=64)
def _prepared_statement(sql: str) -> tuple[str, str]:
    """A name for ``sql`` (its table's, so that it reads as the outbox's in a query log) and
    its text with PostgreSQL's numbered parameters."""
    digest = hashlib.sha1(sql.encode(), usedforsecurity=False).hexdigest()[:12]
    numbers = itertools.count(1)
    return (
        f"{OutboxEntry._meta.db_table}_{digest}",
        re.sub("%s", lambda _: f"${next(numbers)}", sql),
    )


def _sqlstate(error: DatabaseError) -> str | None:
    """The server's error code, from the driver's exception that Django's wraps."""
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) or getattr(cause, "pgcode", None)


def _binds_client_side(cursor: CursorWrapper) -> bool:
    """Whether several statements may share one ``execute`` with parameters."""
    try:
        from psycopg import ClientCursor
    except ImportError:  # Django runs on psycopg2, which always interpolates client-side
        return True
    return isinstance(cursor.cursor, ClientCursor)


class _Wake:
    """The on-commit wake-up of one savepoint level, and the keys written at that level.

    Django drops a callback registered inside a savepoint that is rolled back,
    so "this callback is still registered" is exactly "what it remembers is
    still written".
    """

    def __init__(self, savepoint_ids: list[str], using: str) -> None:
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


def _wake_at_this_level(connection: BaseDatabaseWrapper, wakes: list[_Wake], using: str) -> _Wake:
    """The wake-up registered at the current savepoint level (registered now if missing)."""
    level = list(connection.savepoint_ids)
    wake = next((w for w in wakes if w.savepoint_ids == level), None)
    if wake is None:
        wake = _Wake(level, using)
        transaction.on_commit(wake, using=using, robust=True)
        wakes.append(wake)
    return wake

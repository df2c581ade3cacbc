"""Keyset pagination over ``(timestamp, pk)`` or ``pk`` alone, shared by pull feeds and backfills.

A walk never uses OFFSET: each page is one query for the keys that follow the
last position seen, so a page costs the same at row 10 as at row 10 million,
and rows inserted or updated behind the walk cannot shift later pages.

API::

    keyset = Keyset(queryset, time_field="updated_at", since=t0, until=t1)
    page = keyset.page(after=None, limit=500)      # Page(keys, last, has_more)
    page.keys                                       # ["17", "4", ...] as strings
    keyset.page(after=page.next, limit=500)         # the following page
    for page in keyset.pages(size=500): ...         # the whole walk, page by page

- Ordering is ``(time_field, pk)`` when ``time_field`` is given, else ``pk``.
  Any primary key type with a total order works (integer, UUID, string).
  Rows whose ``time_field`` is NULL are outside a timed walk: the field must be
  set on every row (``auto_now`` does that).
- ``since`` (inclusive) and ``until`` (exclusive) bound a timed walk.
- A :class:`Position` is the last row already seen. Its ``pk`` is a string,
  converted back to the key's type when queried. ``Position(pk="42")`` is the
  plain "after this pk" form a backfill can keep in its own table; a timed walk
  also needs ``updated``.
- :func:`encode_cursor` / :func:`decode_cursor` turn a position into an opaque
  URL-safe string signed with ``SECRET_KEY`` for a ``scope`` (e.g. the
  serializer label), so a cursor cannot be edited or replayed on another feed.
  Anything wrong with a cursor or position raises :class:`InvalidCursor`.

Consistency: a row changed while a timed walk is running gets a newer
timestamp, so it moves behind the walk's position and is served again later;
rows that do not change keep their place. An object can therefore appear
twice, but is never skipped, provided ``time_field`` only moves forward.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Model, Q, QuerySet

_SALT = "django_bubblehouse.keyset"


class InvalidCursor(ValueError):
    """A cursor or position that cannot continue this walk; the message is safe to show."""


@dataclass(frozen=True)
class Position:
    """The last row seen: its primary key as a string and, in a timed walk, its timestamp."""

    pk: str
    updated: dt.datetime | None = None


@dataclass(frozen=True)
class Page:
    keys: list[str]
    last: Position | None
    has_more: bool

    @property
    def next(self) -> Position | None:
        """Where the following page starts, or ``None`` at the end of the walk."""
        return self.last if self.has_more else None


class Keyset:
    def __init__(
        self,
        queryset: QuerySet[Any],
        *,
        time_field: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
    ) -> None:
        if time_field is None and (since is not None or until is not None):
            raise ValueError("since/until need a time_field")
        self.model: type[Model] = queryset.model
        self.time_field = time_field
        bounds = Q()
        if time_field is not None:
            bounds &= Q(**{f"{time_field}__isnull": False})
            if since is not None:
                bounds &= Q(**{f"{time_field}__gte": since})
            if until is not None:
                bounds &= Q(**{f"{time_field}__lt": until})
        # Prefetches would be wasted on a keys-only query.
        self.queryset = queryset.filter(bounds).prefetch_related(None)

    def page(self, *, after: Position | None = None, limit: int) -> Page:
        """Up to ``limit`` keys after ``after``; one query."""
        if limit < 1:
            raise ValueError("limit must be at least 1")
        ordering = ("pk",) if self.time_field is None else (self.time_field, "pk")
        rows = self.queryset.order_by(*ordering)
        if after is not None:
            rows = rows.filter(self._after(after))
        fetched = list(rows.values_list(*ordering)[: limit + 1])
        has_more = len(fetched) > limit
        fetched = fetched[:limit]
        if not fetched:
            return Page(keys=[], last=None, has_more=False)
        return Page(
            keys=[str(row[-1]) for row in fetched],
            last=self._position(fetched[-1]),
            has_more=has_more,
        )

    def pages(self, *, after: Position | None = None, size: int) -> Iterator[Page]:
        """Every non-empty page from ``after`` to the end of the walk."""
        while True:
            page = self.page(after=after, limit=size)
            if page.keys:
                yield page
            if page.next is None:
                return
            after = page.next

    def _after(self, position: Position) -> Q:
        pk = self._pk_value(position.pk)
        if self.time_field is None:
            if position.updated is not None:
                raise InvalidCursor("this walk is ordered by key only; the position has a time")
            return Q(pk__gt=pk)
        if position.updated is None:
            raise InvalidCursor("this walk is ordered by time; the position has no time")
        later = Q(**{f"{self.time_field}__gt": position.updated})
        same_time = Q(**{self.time_field: position.updated}, pk__gt=pk)
        return later | same_time

    def _pk_value(self, pk: str) -> object:
        field = self.model._meta.pk
        assert field is not None  # every concrete model has one
        try:
            return field.to_python(pk)
        except ValidationError as error:
            raise InvalidCursor("the position's key does not fit this model") from error

    def _position(self, row: tuple[Any, ...]) -> Position:
        if self.time_field is None:
            return Position(pk=str(row[0]))
        return Position(pk=str(row[1]), updated=row[0])


def encode_cursor(position: Position, *, scope: str) -> str:
    """An opaque, signed, URL-safe form of ``position`` valid only for ``scope``."""
    data = {"k": position.pk}
    if position.updated is not None:
        data["t"] = position.updated.isoformat()
    return signing.dumps(data, salt=f"{_SALT}:{scope}")


def decode_cursor(cursor: str, *, scope: str) -> Position:
    """The position in ``cursor``; :class:`InvalidCursor` if edited or for another scope."""
    try:
        data = signing.loads(cursor, salt=f"{_SALT}:{scope}")
    except signing.BadSignature as error:
        raise InvalidCursor("the cursor is not valid for this feed") from error
    if not isinstance(data, dict) or not isinstance(data.get("k"), str):
        raise InvalidCursor("the cursor is not valid for this feed")
    updated = data.get("t")
    if updated is None:
        return Position(pk=data["k"])
    try:
        return Position(pk=data["k"], updated=dt.datetime.fromisoformat(updated))
    except (TypeError, ValueError) as error:
        raise InvalidCursor("the cursor is not valid for this feed") from error

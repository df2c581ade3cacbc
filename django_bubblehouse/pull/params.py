"""The query parameters of a feed URL: ``updated_since``, ``cursor``, ``limit`` and ``all``.

A streamed feed (``.jsonl``, ``.csv``) serves one page unless ``all=true``
asks for the whole feed, and refuses a request with neither ``limit`` nor
``all``: one request must not dump a table by accident.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from django.http import QueryDict

from ..keyset import InvalidCursor, Position, decode_cursor

# An unencoded "+" in a query string arrives as a space: "...T10:00:00 02:00".
_SPACED_OFFSET = re.compile(r" (\d\d:\d\d)$")


class BadParameter(ValueError):
    """A parameter the feed cannot honour; ``error_id`` goes into the API error body."""

    def __init__(self, error_id: str, message: str) -> None:
        super().__init__(message)
        self.error_id = error_id
        self.message = message


@dataclass(frozen=True)
class FeedParams:
    since: dt.datetime | None
    after: Position | None
    limit: int
    whole: bool = False


def parse_feed_params(
    query: QueryDict, *, scope: str, timed: bool, cap: int, streamed: bool = False
) -> FeedParams:
    """Validate a feed request; ``timed`` says whether the feed has an updated field."""
    whole = _whole(query.get("all"), streamed=streamed)
    if streamed and not whole and not query.get("limit"):
        raise BadParameter(
            "invalid_parameter",
            "a streamed feed needs limit=<n> (one page) or all=true (the whole feed)",
        )
    return FeedParams(
        since=_since(query.get("updated_since"), timed=timed),
        after=_cursor(query.get("cursor"), scope=scope),
        limit=_limit(query.get("limit"), cap=cap),
        whole=whole,
    )


def _whole(value: str | None, *, streamed: bool) -> bool:
    if value in (None, "", "false", "0"):
        return False
    if value not in ("true", "1"):
        raise BadParameter("invalid_parameter", "all must be true or false")
    if not streamed:
        raise BadParameter(
            "invalid_parameter", "all=true is for the streamed formats (.jsonl, .csv)"
        )
    return True


def _since(value: str | None, *, timed: bool) -> dt.datetime | None:
    if not value:
        return None
    if not timed:
        raise BadParameter("invalid_parameter", "this feed has no update time; drop updated_since")
    try:
        since = dt.datetime.fromisoformat(_SPACED_OFFSET.sub(r"+\1", value))
    except ValueError:
        since = None
    if since is None or since.utcoffset() is None:
        raise BadParameter(
            "invalid_parameter",
            "updated_since must be an RFC 3339 time with an offset, like 2026-03-02T14:05:11Z",
        )
    return since


def _cursor(value: str | None, *, scope: str) -> Position | None:
    if not value:
        return None
    try:
        return decode_cursor(value, scope=scope)
    except InvalidCursor as error:
        raise BadParameter("invalid_cursor", str(error)) from error


def _limit(value: str | None, *, cap: int) -> int:
    if not value:
        return cap
    try:
        limit = int(value)
    except ValueError:
        limit = 0
    if limit < 1:
        raise BadParameter("invalid_parameter", "limit must be a positive integer")
    # Larger requests are served at the cap rather than refused: the caller
    # just follows more "next" links.
    return min(limit, cap)

"""Hook request bodies as typed, validated objects for the host's handlers.

Values follow the Order API's formats (reference section 4): money is a
decimal string and becomes a ``Decimal`` (a bare number is refused, as the API
would read it as millionths), times are RFC 3339 with an offset and become
aware datetimes, ids become strings. A bad body raises :class:`InvalidPayload`
naming the field; unknown fields are ignored so a newer Bubblehouse does not
break an older shop.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from .. import value_rules
from ..value_rules import Check, describe

# Bubblehouse's "no expiry".
ZERO_TIME = dt.datetime(1, 1, 1, tzinfo=dt.UTC)
PERMYRIAD_MAX = 10_000  # 100 %
KEY_MAX = 255  # a code or bhid is a receipt key (HookReceipt.key)


class InvalidPayload(ValueError):
    """The body does not hold what the hook needs; the message names the field."""


@dataclass(frozen=True)
class Discount:
    """A ``CreateDiscount4`` request: the code Bubblehouse generated, to be created as is.

    ``percentage`` is in percent (``Decimal("10")`` for 10 %), converted from the
    permyriad Bubblehouse sends. A code with neither ``amount`` nor ``percentage``
    is a valid zero-value code (referral tracking). ``end_time`` is ``None`` for
    "never expires".
    """

    code: str
    title: str
    amount: Decimal | None = None
    percentage: Decimal | None = None
    end_time: dt.datetime | None = None
    min_order_amount: Decimal | None = None
    max_uses: int | None = None
    customer_id: str | None = None
    customer_email: str | None = None
    subject_type: str | None = None
    subject_slugs: tuple[str, ...] = ()
    product_ids: tuple[str, ...] = ()
    collection_ids: tuple[str, ...] = ()
    is_per_product: bool = False
    applies_to_one_time_purchases: bool | None = None
    extras: Mapping[str, Any] = field(default_factory=dict)


class EventOutcome(StrEnum):
    """What a ``SendEvent1`` handler returns (the reference's outcomes)."""

    SENT = "sent"  # done
    SKIPPED = "skipped"  # done, nothing to do
    INVALID_DATA = "invalid_data"  # permanent failure: Bubblehouse will not resend
    UNSUBSCRIBED = "unsubscribed"  # permanent failure
    FAILURE = "failure"  # holds Bubblehouse's queue until a retry succeeds

    @property
    def is_final(self) -> bool:
        return self is not EventOutcome.FAILURE


@dataclass(frozen=True)
class Event:
    """A ``SendEvent1`` request: ``bhid`` identifies the event; ``data`` is the whole body."""

    bhid: str
    data: Mapping[str, Any]


def _string(value: object, path: str) -> list[value_rules.Problem]:
    if isinstance(value, str):
        return []
    return [value_rules.Problem(path, f"must be a string, got {describe(value)}")]


def _id(value: object, path: str) -> list[value_rules.Problem]:
    # A number is read as the id it spells: handlers always get strings.
    if isinstance(value, int) and not isinstance(value, bool):
        return []
    return value_rules.string_id(value, path)


def _key(value: object, path: str) -> list[value_rules.Problem]:
    problems = _id(value, path)
    if not problems and len(str(value)) > KEY_MAX:
        problems = [value_rules.Problem(path, f"must be at most {KEY_MAX} characters")]
    return problems


def _boolean(value: object, path: str) -> list[value_rules.Problem]:
    if isinstance(value, bool):
        return []
    return [value_rules.Problem(path, f"must be true or false, got {describe(value)}")]


def _permyriad(value: object, path: str) -> list[value_rules.Problem]:
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= PERMYRIAD_MAX:
        return []
    message = f"must be an integer permyriad from 0 to {PERMYRIAD_MAX} (10 % = 1000)"
    return [value_rules.Problem(path, f"{message}, got {describe(value)}")]


def _object(value: object, path: str) -> list[value_rules.Problem]:
    if isinstance(value, dict):
        return []
    return [value_rules.Problem(path, f"must be an object, got {describe(value)}")]


def _time(value: Any) -> dt.datetime | None:
    parsed = dt.datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    return None if parsed == ZERO_TIME else parsed


def _ids(value: Any) -> tuple[str, ...]:
    return tuple(str(item) for item in value)


# field -> (check, conversion); a missing or null optional field keeps the default.
_DISCOUNT_FIELDS: dict[str, tuple[Check, Callable[[Any], Any]]] = {
    "code": (_key, str),
    "title": (_string, str),
    "amount": (value_rules.money, Decimal),
    "percentage": (_permyriad, lambda v: Decimal(v).scaleb(-2)),
    "end_time": (value_rules.time, _time),
    "min_order_amount": (value_rules.money, Decimal),
    "max_uses": (value_rules.quantity, int),
    "customer_id": (_id, str),
    "customer_email": (_string, str),
    "subject_type": (_string, str),
    "subject_slugs": (value_rules.list_of(_string), tuple),
    "product_ids": (value_rules.list_of(_id), _ids),
    "collection_ids": (value_rules.list_of(_id), _ids),
    "is_per_product": (_boolean, bool),
    "applies_to_one_time_purchases": (_boolean, bool),
    "extras": (_object, dict),
}
_REQUIRED = ("code", "title")


def _checked(body: Mapping[str, Any], name: str, check: Check) -> None:
    problems = check(body[name], name)
    if problems:
        raise InvalidPayload(f"{problems[0].path}: {problems[0].message}")


def parse_discount(body: Mapping[str, Any]) -> Discount:
    for name in _REQUIRED:
        if body.get(name) is None:
            raise InvalidPayload(f"{name}: is required")
    values: dict[str, Any] = {}
    for name, (check, convert) in _DISCOUNT_FIELDS.items():
        if body.get(name) is None:
            continue
        _checked(body, name, check)
        values[name] = convert(body[name])
    for name in ("amount", "min_order_amount"):
        if values.get(name, 0) < 0:
            raise InvalidPayload(f"{name}: must not be negative, got {body[name]!r}")
    amount, percentage = values.get("amount"), values.get("percentage")
    if amount and percentage:
        raise InvalidPayload("amount, percentage: give one of them, not both")
    if amount is not None and percentage is not None:
        # One of them is zero: the other one says what the code is worth.
        values.pop("amount" if not amount else "percentage")
    return Discount(**values)


def parse_event(body: Mapping[str, Any]) -> Event:
    if body.get("bhid") is None:
        raise InvalidPayload("bhid: is required")
    _checked(body, "bhid", _key)
    return Event(bhid=str(body["bhid"]), data=body)

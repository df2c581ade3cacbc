"""The retry policy: what each failure does to an outbox row, in one place.

The drain, the lease release, the backfill and the receivers all ask
:func:`settlement` what an error means and write the columns it returns. A 429
(or a 503 with ``Retry-After``) also holds back every request of the shop
(:mod:`~django_bubblehouse.throttle`):

- ``THROTTLE`` (a 429, or a request held back by the shop-wide hold): pending
  until the hold ends, no attempt spent;
- ``RETRY`` (5xx, timeouts, connection errors, a cut-off push, a 200 without
  ``{"ok": true}``): pending with backoff, one attempt spent, ``dead`` after
  MAX_ATTEMPTS attempts or MAX_AGE seconds;
- ``DEFER`` (a database error: locked, dropped, restarting): pending with
  backoff, no attempt spent, never dead;
- ``PAUSE`` (401, API version, entity set not found, no credentials): pending,
  no attempt spent, the scope pauses;
- ``REJECT`` (any other 4xx): ``failed``, one attempt spent (the drain first
  isolates the rejected objects);
- ``FAIL`` (a SerializationError, a bug in host code): ``failed``.
"""

from __future__ import annotations

import enum
import logging
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db import InterfaceError, OperationalError
from django.db.models import Case, F, Q, Value, When
from django.db.models.functions import Coalesce

from .. import throttle
from ..conf import get_settings
from ..exceptions import (
    BubblehouseAPIError,
    ConfigurationAPIError,
    RateLimitedAPIError,
    RejectedAPIError,
    SerializationError,
    TransientAPIError,
)
from ..models import OutboxState

logger = logging.getLogger("django_bubblehouse")

_random = random.SystemRandom()
# 2**62 seconds is already past any cap; larger exponents only risk float overflow.
_MAX_EXPONENT = 62


class Verdict(enum.Enum):
    THROTTLE = "throttle"
    RETRY = "retry"
    DEFER = "defer"
    PAUSE = "pause"
    REJECT = "reject"
    FAIL = "fail"

    @property
    def transient(self) -> bool:
        """Whether the row stays pending for a later drain."""
        return self in (Verdict.THROTTLE, Verdict.RETRY, Verdict.DEFER, Verdict.PAUSE)


def is_infrastructure(error: BaseException) -> bool:
    """A database that is locked, gone or restarting: nothing is wrong with the data."""
    return isinstance(error, OperationalError | InterfaceError)


def as_api_error(error: Exception, call: str) -> BubblehouseAPIError:
    """The typed error a failed push acts on; anything untyped is transient (bounded retries)."""
    if isinstance(error, BubblehouseAPIError):
        if isinstance(error, ConfigurationAPIError | RejectedAPIError | TransientAPIError):
            return error
        kind = TransientAPIError if error.retryable else RejectedAPIError
        return kind(
            error.message,
            call=call,
            status=error.status,
            error_id=error.error_id,
            retry_after=error.retry_after,
        )
    if isinstance(error, ImproperlyConfigured):  # e.g. no credentials: fix settings, then resume
        return ConfigurationAPIError(str(error), call=call)
    logger.exception("Unexpected error pushing to Bubblehouse")
    return TransientAPIError(f"{type(error).__name__}: {error}", call=call)


def verdict(error: BaseException) -> Verdict:
    if isinstance(error, RateLimitedAPIError):
        return Verdict.THROTTLE
    if isinstance(error, ConfigurationAPIError):
        return Verdict.PAUSE
    if isinstance(error, BubblehouseAPIError):
        return Verdict.RETRY if error.retryable else Verdict.REJECT
    if is_infrastructure(error):
        return Verdict.DEFER
    return Verdict.FAIL


def holds_the_shop(error: BubblehouseAPIError) -> bool:
    """A 429, or a 503 that says when to come back: every request of the shop waits."""
    return error.status == 429 or (error.status == 503 and error.retry_after is not None)


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` >= 1 failures so far).

    Full jitter (uniform between 0 and the exponential ceiling) spreads the
    retries of many workers that failed together; Bubblehouse's ``Retry-After``
    is a floor, not a suggestion.
    """
    ceiling = min(cap, base * 2 ** min(max(attempt - 1, 0), _MAX_EXPONENT))
    delay = (rng or _random).uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay


def backoff(attempt: int, retry_after: float | None = None) -> float:
    """:func:`retry_delay` with the configured base and cap."""
    settings = get_settings()
    return retry_delay(
        attempt, base=settings.backoff_base, cap=settings.backoff_cap, retry_after=retry_after
    )


def error_fields(error: BaseException) -> dict[str, Any]:
    """The ``last_*`` columns describing ``error``."""
    if isinstance(error, BubblehouseAPIError):
        return {
            "last_status": error.status,
            "last_error_id": error.error_id or "",
            "last_error": str(error),
        }
    if isinstance(error, SerializationError):  # its message names the serializer and the field
        return {
            "last_status": None,
            "last_error_id": SerializationError.__name__,
            "last_error": str(error),
        }
    # A bug in host code or a database error: the error id names the exception's type.
    message = str(error) or repr(error)
    return {"last_status": None, "last_error_id": type(error).__name__, "last_error": message}


def exhausted(attempts: int, first_failure_at: datetime | None, now: datetime) -> bool:
    """Whether one more RETRY dead-letters a row (mirrors the ``dead`` condition below)."""
    settings = get_settings()
    too_old = now - timedelta(seconds=settings.max_age)
    return attempts + 1 >= settings.max_attempts or (
        first_failure_at is not None and first_failure_at <= too_old
    )


@dataclass(frozen=True)
class Settlement:
    verdict: Verdict
    fields: dict[str, Any]  # column -> value or expression, for one UPDATE of the rows
    delay: float  # seconds until the rows are due again (0 for terminal verdicts)


def settlement(error: BaseException, now: datetime, attempts: int) -> Settlement:
    """What ``error`` does to rows that have failed ``attempts`` times before.

    ``attempts`` only sets the backoff; the dead-letter condition is evaluated
    per row in the UPDATE itself.
    """
    found = verdict(error)
    fields: dict[str, Any] = error_fields(error)
    if not found.transient or found is Verdict.RETRY:
        # An attempt spent or a final answer. A hold, a pause or a deferral leaves the row
        # as its change left it, so the sync lag still counts from that change.
        fields["updated_at"] = now
    retry_after = error.retry_after if isinstance(error, BubblehouseAPIError) else None
    delay = 0.0
    if isinstance(error, BubblehouseAPIError) and holds_the_shop(error):
        retry_after = (throttle.hold(error) - now).total_seconds()
    if found is Verdict.THROTTLE:
        delay = retry_after if retry_after is not None else backoff(1)
        fields.update(state=OutboxState.PENDING)
    elif found is Verdict.RETRY:
        settings = get_settings()
        delay = backoff(attempts + 1, retry_after)
        too_old = now - timedelta(seconds=settings.max_age)
        dead = Q(attempts__gte=settings.max_attempts - 1) | Q(first_failure_at__lte=too_old)
        fields.update(
            state=Case(
                When(dead, then=Value(OutboxState.DEAD)), default=Value(OutboxState.PENDING)
            ),
            attempts=F("attempts") + 1,
            first_failure_at=Coalesce(F("first_failure_at"), Value(now)),
        )
    elif found is Verdict.DEFER:
        delay = backoff(attempts + 1)
        fields.update(state=OutboxState.PENDING)
    elif found is Verdict.PAUSE:
        fields.update(state=OutboxState.PENDING)
    elif found is Verdict.REJECT:
        fields.update(state=OutboxState.FAILED, attempts=F("attempts") + 1)
    else:
        fields.update(state=OutboxState.FAILED)
    if found.transient and found is not Verdict.PAUSE:
        fields["next_attempt_at"] = now + timedelta(seconds=delay)
    return Settlement(found, fields, delay)

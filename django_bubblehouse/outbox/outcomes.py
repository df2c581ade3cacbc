"""What a failure does to an outbox row: one mapping for the drain and the backfill.

- a transient API error (5xx, 429, timeout, connection): the row stays pending
  and is retried with backoff, until MAX_ATTEMPTS or MAX_AGE dead-letter it;
- a configuration error: the row stays pending and spends no attempt (the
  drain pauses pushes, the backfill stops the run);
- anything else (a 4xx rejection, a SerializationError, a bug in host code):
  the row fails for good, with the reason, until a change or a retry.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.db.models.functions import Coalesce

from ..conf import get_settings
from ..exceptions import (
    BubblehouseAPIError,
    ConfigurationAPIError,
    RejectedAPIError,
    SerializationError,
    TransientAPIError,
)
from ..models import OutboxEntry, OutboxState
from .backoff import retry_delay

logger = logging.getLogger("django_bubblehouse")


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


def retries(error: BaseException) -> bool:
    """True when the row stays pending for the drain (transient or configuration errors)."""
    return isinstance(error, BubblehouseAPIError) and (
        error.retryable or isinstance(error, ConfigurationAPIError)
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
    # A bug in host code: the error id names the exception's type.
    message = str(error) or repr(error)
    return {"last_status": None, "last_error_id": type(error).__name__, "last_error": message}


def exhausted(attempts: int, first_failure_at: datetime | None, now: datetime) -> bool:
    """Whether one more transient failure dead-letters a row (mirrors :func:`schedule_retry`)."""
    settings = get_settings()
    too_old = now - timedelta(seconds=settings.max_age)
    return attempts + 1 >= settings.max_attempts or (
        first_failure_at is not None and first_failure_at <= too_old
    )


def schedule_retry(
    rows: QuerySet[OutboxEntry], attempt: int, error: TransientAPIError, now: datetime
) -> None:
    """Back ``rows`` off after their ``attempt``-th transient failure, or dead-letter them."""
    settings = get_settings()
    delay = retry_delay(
        attempt, base=settings.backoff_base, cap=settings.backoff_cap, retry_after=error.retry_after
    )
    too_old = now - timedelta(seconds=settings.max_age)
    dead = Q(attempts__gte=settings.max_attempts - 1) | Q(first_failure_at__lte=too_old)
    rows.update(
        state=Case(When(dead, then=Value(OutboxState.DEAD)), default=Value(OutboxState.PENDING)),
        attempts=F("attempts") + 1,
        first_failure_at=Coalesce(F("first_failure_at"), Value(now)),
        next_attempt_at=now + timedelta(seconds=delay),
        lease_until=None,
        updated_at=now,
        **error_fields(error),
    )

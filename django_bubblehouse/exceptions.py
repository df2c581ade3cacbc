"""Typed errors.

The client raises :class:`BubblehouseAPIError` subclasses and never decides on
retries itself; the outbox reads ``retryable`` and the subclass to choose
between backoff, a terminal failure and pausing the queue.
"""

from __future__ import annotations


class BubblehouseError(Exception):
    """Base class of every error this app raises."""


class BubblehouseAPIError(BubblehouseError):
    """A call to the Order API did not succeed."""

    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        call: str,
        status: int | None = None,
        error_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.call = call
        self.status = status
        self.error_id = error_id
        self.retry_after = retry_after

    def __str__(self) -> str:
        parts = [self.call]
        if self.status is not None:
            parts.append(f"HTTP {self.status}")
        if self.error_id:
            parts.append(self.error_id)
        return f"{' '.join(parts)}: {self.message}"


class TransientAPIError(BubblehouseAPIError):
    """5xx, 429, timeout or connection error: the same request may succeed later."""

    retryable = True


class RateLimitedAPIError(TransientAPIError):
    """A 429, or a request held back because the shop is rate limited: it spends no attempt."""


class RejectedAPIError(BubblehouseAPIError):
    """A 4xx data error: Bubblehouse refused this data; sending it again cannot help."""


class ConfigurationAPIError(BubblehouseAPIError):
    """Credentials, API version or entity set are wrong: every push in the scope would fail.

    ``scope`` is ``"*"`` for the whole app, or ``"entity_set:<name>"``.
    """

    def __init__(
        self,
        message: str,
        *,
        call: str,
        status: int | None = None,
        error_id: str | None = None,
        scope: str = "*",
    ) -> None:
        super().__init__(message, call=call, status=status, error_id=error_id)
        self.scope = scope


class SerializationError(BubblehouseError):
    """A serializer produced, or could not produce, a valid payload for one object."""

    def __init__(
        self,
        message: str,
        *,
        serializer: str,
        model: str,
        pk: object,
        field: str | None = None,
        object_id: str | None = None,
    ) -> None:
        self.reason = message
        self.serializer = serializer
        self.model = model
        self.pk = pk
        self.field = field
        self.object_id = object_id  # the Bubblehouse id, when it could be read
        if object_id is None or object_id == str(pk):
            where = f"{serializer} on {model} pk={pk!r}"
        else:  # the id the user knows first: an order number, a dealer code
            where = f"{serializer} on {model} id={object_id!r} (pk={pk!r})"
        if field:
            where += f", field {field}"
        super().__init__(f"{where}: {message}")

"""The hooks this app answers and the host handlers they call.

``Hello1`` is built in. ``CreateDiscount4`` and ``SendEvent1`` are enabled by
naming a handler in ``BUBBLEHOUSE["HOOK_HANDLERS"]``; a hook without one
answers 404 like any unknown name, and is not listed by ``Hello1``.

Handler signatures::

    def create_discount(discount: Discount) -> None: ...  # raise to make Bubblehouse retry
    def send_event(event: Event) -> EventOutcome | str: ...
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ..conf import SETTINGS_NAME, get_settings
from .payloads import EventOutcome, InvalidPayload, parse_discount, parse_event

HELLO = "Hello1"
CREATE_DISCOUNT = "CreateDiscount4"
SEND_EVENT = "SendEvent1"
OPTIONAL_HOOKS = (CREATE_DISCOUNT, SEND_EVENT)


@dataclass(frozen=True)
class Answer:
    """What a hook answers; only a ``final`` answer is remembered for repeated deliveries."""

    status: int
    body: dict[str, Any]
    final: bool = True


@dataclass(frozen=True)
class Hook:
    parse: Callable[[Mapping[str, Any]], Any]
    run: Callable[[Any], Answer]
    # The hook's own idempotency key (a discount's code, an event's bhid), if it has one.
    key: Callable[[Any], str] | None = None


def enabled_hooks() -> list[str]:
    """``Hello1`` and every optional hook the host named a handler for, in the API's order."""
    handlers = get_settings().hook_handlers
    return [HELLO, *(name for name in OPTIONAL_HOOKS if name in handlers)]


def host_handler(name: str) -> Callable[[Any], Any]:
    path = get_settings().hook_handlers[name]
    try:
        handler: Callable[[Any], Any] = import_string(path)
    except ImportError as error:
        setting = f"{SETTINGS_NAME}['HOOK_HANDLERS'][{name!r}]"
        raise ImproperlyConfigured(f"{setting}: {error}") from error
    return handler


def _parse_hello(body: Mapping[str, Any]) -> str:
    magic = body.get("magic")
    if not isinstance(magic, str):
        raise InvalidPayload("magic: is required and must be a string")
    return magic


def _hello(magic: str) -> Answer:
    return Answer(200, {"magic": magic, "hooks": enabled_hooks()})


def _create_discount(discount: Any) -> Answer:
    host_handler(CREATE_DISCOUNT)(discount)
    return Answer(200, {"ok": True})


def _send_event(event: Any) -> Answer:
    returned = host_handler(SEND_EVENT)(event)
    try:
        outcome = EventOutcome(returned)
    except ValueError:
        raise TypeError(
            f"the SendEvent1 handler returned {returned!r}, not one of {', '.join(EventOutcome)}"
        ) from None
    # "failure" holds Bubblehouse's queue: an error status makes it retry later.
    return Answer(200 if outcome.is_final else 503, {"outcome": outcome.value}, outcome.is_final)


HOOKS: dict[str, Hook] = {
    HELLO: Hook(parse=_parse_hello, run=_hello),
    CREATE_DISCOUNT: Hook(parse=parse_discount, run=_create_discount, key=lambda d: d.code),
    SEND_EVENT: Hook(parse=parse_event, run=_send_event, key=lambda e: e.bhid),
}

"""Switching change capture off for a block of code, per model or for everything.

A :class:`~contextvars.ContextVar` scopes the switch to the current thread or
asyncio task, so one request's bulk import never silences another's saves, and
signals are never disconnected at run time.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager

from django.db.models import Model

from .conf import get_settings

# The disabled models; ALL (an empty frozenset would be ambiguous) means every model.
ALL = "all"
_disabled: contextvars.ContextVar[frozenset[type[Model]] | str] = contextvars.ContextVar(
    "bubblehouse_sync_disabled", default=frozenset()
)


@contextmanager
def disable_sync(*models: type[Model]) -> Iterator[None]:
    """Record no changes of ``models`` (of every model when none is given) inside the block.

    A context manager, or a decorator when called (``@disable_sync()``,
    ``@disable_sync(Order)``; for ``async def`` use ``with`` inside the coroutine).
    Nestable: an inner block adds to the outer one, and leaving it restores the
    outer state, even after an exception.
    """
    current = _disabled.get()
    if current == ALL or not models:
        combined: frozenset[type[Model]] | str = ALL
    else:
        assert isinstance(current, frozenset)
        combined = current | frozenset(models)
    token = _disabled.set(combined)
    try:
        yield
    finally:
        _disabled.reset(token)


def sync_enabled(model: type[Model]) -> bool:
    """Whether a change to ``model`` is recorded here and now (AUTO_SYNC and disable_sync)."""
    if not get_settings().auto_sync:
        return False
    current = _disabled.get()
    return current != ALL and model not in current

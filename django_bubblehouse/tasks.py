"""django-q2 entry points (referenced by dotted path from async_task and Schedule)."""

from __future__ import annotations

from dataclasses import asdict

from . import outbox


def drain_task() -> dict[str, object]:
    """Woken on commit: push everything due."""
    return asdict(outbox.drain())


def sweep_task() -> dict[str, object]:
    """Every minute: recover lost wake-ups and stuck rows, retry, probe paused scopes."""
    return asdict(outbox.sweep())


def prune_task() -> int:
    """Daily: forget delivered rows older than RETENTION."""
    return outbox.prune()


def reconcile_task() -> dict[str, object]:
    """Every five minutes: push writes that moved an updated_field without a signal."""
    from .reconcile import reconcile

    return asdict(reconcile())

"""django-q2 entry points (referenced by dotted path from async_task and Schedule)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .outbox.drain import drain
from .outbox.maintenance import prune, sweep

SWEEP_TASK = "django_bubblehouse.tasks.sweep_task"


def _patient() -> bool:
    """Drains wait for rows about to be due, unless tasks run inline in the caller (``sync``)."""
    from django_q.conf import Conf

    return not Conf.SYNC


def drain_task() -> dict[str, object]:
    """Woken on commit: push everything due, within the task's time budget."""
    return asdict(drain(patient=_patient()))


def sweep_task() -> dict[str, object]:
    """Every minute: recover lost wake-ups and cut-off pushes, retry, probe paused scopes."""
    return asdict(sweep(patient=_patient()))


def prune_task() -> int:
    """Daily: forget delivered rows older than RETENTION."""
    return prune()


def reconcile_task() -> dict[str, object]:
    """Every five minutes: push writes that moved an updated_field without a signal."""
    from .reconcile import reconcile

    return asdict(reconcile())


def sweep_on_worker_start(**kwargs: Any) -> None:
    """django-q2 ``post_spawn``: a (re)started worker sweeps at once.

    After a crash the rows of the dead drains wait for their lease, and a
    wake-up enqueued to a dead worker may be lost: the sweep's patient drain
    takes both, instead of waiting for the minute schedule.
    """
    import logging

    from django_q.conf import Conf
    from django_q.tasks import async_task

    from .conf import get_settings

    if Conf.SYNC:  # django-q2 runs every inline task in a "worker" of its own: no recursion
        return
    try:
        async_task(
            SWEEP_TASK,
            task_name="bubblehouse sweep (worker start)",
            cluster=get_settings().q_cluster_name,
        )
    except Exception:
        logging.getLogger("django_bubblehouse").exception(
            "Could not enqueue a Bubblehouse sweep at worker start; the schedule will run it"
        )

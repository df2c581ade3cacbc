"""Backfill runs in the database: creating, resuming and closing them.

A run has one range per serializer when it streams in-process, or many when it
fans out; either way each range keeps its own cursor, so ``--resume`` always
means "every range from where it stopped".
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from typing import Any

from django.db.models import Sum
from django.utils import timezone

from ..models import BackfillRange, BackfillRun
from ..serializers.registry import get_serializer
from .progress import Progress
from .runner import BatchRunner, Tally, save_range_batch
from .selection import Selection, SelectionError, SerializerClass, count

RESUMABLE = (BackfillRun.Status.RUNNING, BackfillRun.Status.STOPPED)


@dataclass(frozen=True)
class RunTotals:
    sent: int
    failed: int
    skipped: int


def start_run(selection: Selection, batch_size: int, *, is_async: bool = False) -> BackfillRun:
    return BackfillRun.objects.create(
        fingerprint=selection.fingerprint(),
        selection=selection.to_json(),
        batch_size=batch_size,
        is_async=is_async,
        **_this_process(),
    )


def _this_process() -> dict[str, Any]:
    return {"pid": os.getpid(), "host": socket.gethostname()}


def still_alive(run: BackfillRun) -> bool:
    """Whether the process that runs ``run`` may still be running.

    On this host the pid tells; a run started on another host cannot be checked
    from here and counts as alive until it is stopped there (or marked stopped).
    """
    if run.status != BackfillRun.Status.RUNNING or run.pid is None:
        return False
    if run.host != socket.gethostname():
        return True
    if run.pid == os.getpid():
        return False
    try:
        os.kill(run.pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def add_whole_ranges(run: BackfillRun, serializers: list[SerializerClass]) -> None:
    BackfillRange.objects.bulk_create(
        BackfillRange(run=run, serializer=cls.label()) for cls in serializers
    )


def resumable_run(selection: Selection) -> BackfillRun:
    """The newest unfinished run of exactly this selection."""
    run = (
        BackfillRun.objects.filter(fingerprint=selection.fingerprint(), status__in=RESUMABLE)
        .order_by("-started_at", "-pk")
        .first()
    )
    if run is None:
        raise SelectionError("no unfinished backfill with these kinds and options to resume")
    if still_alive(run):
        raise SelectionError(
            f"backfill #{run.pk} is still running (pid {run.pid} on {run.host}); resuming it "
            "now would push its rows twice. Stop it first (Ctrl-C, or kill -INT "
            f"{run.pid} on {run.host}); if that process is gone for good, mark the run "
            f'stopped: BackfillRun.objects.filter(pk={run.pk}).update(status="stopped")'
        )
    BackfillRun.objects.filter(pk=run.pk).update(
        status=BackfillRun.Status.RUNNING, **_this_process()
    )
    return run


def run_inline(run: BackfillRun, runner: BatchRunner, progress: Progress) -> Tally:
    """Streams every unfinished range of ``run`` in this process, in order."""
    selection = Selection.from_json(run.selection)
    total = Tally()
    for backfill_range in run.ranges.filter(done=False):
        total.add(run_range(backfill_range, selection, runner, progress))
    return total


def run_range(
    backfill_range: BackfillRange, selection: Selection, runner: BatchRunner, progress: Progress
) -> Tally:
    serializer_cls = get_serializer(backfill_range.serializer)
    after, end_at = backfill_range.resume_after, backfill_range.end_at
    progress.start(
        serializer_cls.label(), count(serializer_cls, selection, after=after, end_at=end_at)
    )
    try:
        tally = runner.run(
            serializer_cls,
            selection,
            after=after,
            end_at=end_at,
            checkpoint=save_range_batch(backfill_range.pk),
        )
    finally:
        progress.finish()
    BackfillRange.objects.filter(pk=backfill_range.pk).update(done=True)
    return tally


def stop_run(run: BackfillRun, reason: str) -> None:
    """Leaves ``run`` resumable, saying why it stopped."""
    BackfillRun.objects.filter(pk=run.pk).update(
        status=BackfillRun.Status.STOPPED, reason=reason, updated_at=timezone.now()
    )


def finish_run(run: BackfillRun) -> RunTotals:
    """Closes ``run`` as done, or failed when any object failed; returns the run's totals."""
    totals = run_totals(run)
    status = BackfillRun.Status.FAILED if totals.failed else BackfillRun.Status.DONE
    now = timezone.now()
    BackfillRun.objects.filter(pk=run.pk).update(status=status, finished_at=now, updated_at=now)
    return totals


def run_totals(run: BackfillRun) -> RunTotals:
    sums = run.ranges.aggregate(sent=Sum("sent"), failed=Sum("failed"), skipped=Sum("skipped"))
    return RunTotals(sums["sent"] or 0, sums["failed"] or 0, sums["skipped"] or 0)

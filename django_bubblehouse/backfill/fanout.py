"""``--async``: a run split into key ranges, one django-q2 task per range.

Ranges are cut by walking the keys a range at a time (never all keys at
once). Each task streams its range exactly like the in-process runner and
keeps its own cursor, so a task that dies is resumed by ``--resume`` from its
last batch; the last task to finish closes the run.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from django_q.tasks import async_task

from ..client import get_client
from ..conf import get_settings
from ..keyset import Position
from ..models import BackfillRange, BackfillRun
from .progress import NoProgress, Progress
from .runner import BatchRunner
from .runs import finish_run, run_range, stop_run
from .selection import Selection, SerializerClass, keyset

TASK = "django_bubblehouse.backfill.fanout.run_range_task"


def plan_ranges(
    run: BackfillRun, serializers: list[SerializerClass], selection: Selection, range_size: int
) -> None:
    """Cuts each serializer's keys into ranges of ``range_size``; the last is open-ended,
    so rows created while the run is going still belong to a range."""
    ranges = []
    for cls in serializers:
        walk, after = keyset(cls, selection), None
        while True:
            page = walk.page(after=None if after is None else Position(after), limit=range_size)
            if not page.keys or page.last is None:
                break
            end_at = page.last.pk if page.has_more else None
            ranges.append(
                BackfillRange(
                    run=run,
                    serializer=cls.label(),
                    start_after=after,
                    end_at=end_at,
                    total=len(page.keys),
                )
            )
            if end_at is None:
                break
            after = end_at
    BackfillRange.objects.bulk_create(ranges)


def enqueue(run: BackfillRun) -> int:
    """One task per unfinished range of ``run`` (all of them, or what a resume has left)."""
    pending = list(run.ranges.filter(done=False).values_list("pk", flat=True))
    BackfillRange.objects.filter(pk__in=pending).update(error="")
    cluster = get_settings().q_cluster_name
    for range_id in pending:
        try:
            async_task(TASK, range_id, group=f"bubblehouse-backfill-{run.pk}", cluster=cluster)
        except Exception:
            # With Q_CLUSTER "sync" the task runs here and its error is re-raised; the
            # error is already on the range, and the watch reports it with the others.
            if not BackfillRange.objects.filter(pk=range_id).exclude(error="").exists():
                raise
    return len(pending)


def run_range_task(range_id: int) -> None:
    """django-q2 entry point: one range, streamed; a failure is kept on the range."""
    backfill_range = BackfillRange.objects.select_related("run").get(pk=range_id)
    if backfill_range.done:
        return  # a re-delivered task whose range already finished
    run = backfill_range.run
    runner = BatchRunner(client=get_client(), batch_size=run.batch_size)
    try:
        run_range(backfill_range, Selection.from_json(run.selection), runner, NoProgress())
    except Exception as error:
        BackfillRange.objects.filter(pk=range_id).update(error=str(error) or repr(error))
        stop_run(run, f"a range failed: {error}")
        raise
    if not run.ranges.filter(done=False).exists():
        finish_run(run)


def watch(
    run: BackfillRun,
    progress: Progress,
    *,
    poll_seconds: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
) -> list[str]:
    """Follows the tasks until every range is done or has failed; returns the failures."""
    ranges = run.ranges.all()
    progress.start(f"backfill #{run.pk}", sum(r.total for r in ranges))
    seen = 0
    try:
        while True:
            rows = list(ranges.values("done", "error", "sent", "failed", "skipped"))
            processed = sum(row["sent"] + row["failed"] + row["skipped"] for row in rows)
            progress.advance(processed - seen)
            seen = processed
            if all(row["done"] or row["error"] for row in rows):
                return [row["error"] for row in rows if row["error"]]
            sleep(poll_seconds)
    finally:
        progress.finish()

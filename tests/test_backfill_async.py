"""--async: key ranges as django-q2 tasks (run inline here: Q_CLUSTER "sync" is on)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.management import CommandError

from django_bubblehouse.backfill import fanout
from django_bubblehouse.backfill.progress import NoProgress
from django_bubblehouse.models import BackfillRange, BackfillRun
from tests.backfill_support import Recorder, backfill, make_orders

pytestmark = pytest.mark.django_db

BAD_TOKEN = (401, {"id": "invalid_token"})


def test_ranges_cover_every_key_once(recorder: Recorder) -> None:
    orders = make_orders(7)

    output = backfill("orders", "--async", batch_size=2, batches_per_task=2, no_progress=True)

    ranges = list(BackfillRange.objects.values_list("start_after", "end_at", "total", "done"))
    keys = [str(o.pk) for o in orders]
    assert ranges == [
        (None, keys[3], 4, True),
        (keys[3], None, 3, True),  # the last range is open-ended
    ]
    assert sorted(recorder.ids("orders")) == sorted(keys)
    assert [len(body["orders"]) for body in recorder.bodies] == [2, 2, 2, 1]
    assert "2 task(s) enqueued" in output.out
    assert BackfillRun.objects.get().status == BackfillRun.Status.DONE


def test_tasks_go_to_the_configured_cluster(recorder: Recorder, settings) -> None:
    settings.BUBBLEHOUSE = {**settings.BUBBLEHOUSE, "Q_CLUSTER_NAME": "bubbles"}
    make_orders(3)
    with (
        mock.patch.object(fanout, "async_task") as enqueue,
        mock.patch.object(fanout, "watch", return_value=[]),
    ):
        backfill("orders", "--async", batch_size=1, batches_per_task=2, no_progress=True)

    assert [call.args for call in enqueue.call_args_list] == [
        (fanout.TASK, pk) for pk in BackfillRange.objects.values_list("pk", flat=True)
    ]
    assert {call.kwargs["cluster"] for call in enqueue.call_args_list} == {"bubbles"}


def test_failed_task_is_reported_and_resumed(recorder: Recorder) -> None:
    orders = make_orders(4)
    recorder.script = [(200, {"ok": True}), BAD_TOKEN]

    with pytest.raises(CommandError, match=r"1 task\(s\) failed.*--resume --async"):
        backfill("orders", "--async", batch_size=1, batches_per_task=2, no_progress=True)

    run = BackfillRun.objects.get()
    assert run.status == BackfillRun.Status.STOPPED
    failed = BackfillRange.objects.get(done=False)
    assert "invalid_token" in failed.error
    recorder.bodies.clear()

    backfill("orders", "--async", batch_size=1, resume=True, no_progress=True)

    # Only the failed range's unsent keys: the first key of the range went through.
    assert recorder.ids("orders") == [str(orders[1].pk)]
    run.refresh_from_db()
    assert run.status == BackfillRun.Status.DONE


def test_watch_polls_until_ranges_finish() -> None:
    sleeps: list[float] = []

    run = BackfillRun.objects.create(fingerprint="x", batch_size=1)
    backfill_range = BackfillRange.objects.create(run=run, serializer="s", total=2)

    def worker_finishes(seconds: float) -> None:
        sleeps.append(seconds)
        BackfillRange.objects.filter(pk=backfill_range.pk).update(done=True, sent=2)

    assert fanout.watch(run, NoProgress(), poll_seconds=3, sleep=worker_finishes) == []
    assert sleeps == [3]

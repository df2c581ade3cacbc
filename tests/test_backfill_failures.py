"""bubblehouse_backfill failure modes: outbox records, exit status, and --resume."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Any
from unittest import mock

import pytest
from django.core.management import CommandError
from django.utils import timezone

from django_bubblehouse.backfill.inflight import Sender
from django_bubblehouse.exceptions import RejectedAPIError
from django_bubblehouse.models import BackfillRange, BackfillRun, OutboxEntry, OutboxState
from django_bubblehouse.outbox.failures import record_failures
from tests.backfill_support import Recorder, backfill, make_orders
from tests.bubblehouse_overrides import bubblehouse_settings
from tests.testapp.bubblehouse import OrderSerializer
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db

REJECTED = (400, {"id": "invalid_order", "message": "customer is required"})
UNAVAILABLE = (503, {"message": "try later"})
BAD_TOKEN = (401, {"id": "invalid_token"})


def keys(orders: list[Order]) -> list[str]:
    return [str(order.pk) for order in orders]


def outbox(state: str) -> dict[str, str]:
    return dict(OutboxEntry.objects.filter(state=state).values_list("object_key", "last_error"))


def test_serialization_error_is_recorded_with_its_field(recorder: Recorder) -> None:
    good = make_orders(2)
    (held,) = make_orders(1, status="on_hold")

    with pytest.raises(CommandError, match="1 object\\(s\\) were not sent by this run"):
        backfill("orders", no_progress=True)

    assert recorder.ids("orders") == keys(good)
    failed = outbox(OutboxState.FAILED)
    assert list(failed) == [str(held.pk)]
    assert "field status" in failed[str(held.pk)]
    row = OutboxEntry.objects.get()
    assert (row.last_status, row.last_error_id) == (None, "SerializationError")
    assert BackfillRun.objects.get().status == BackfillRun.Status.FAILED


def test_rejected_batch_is_recorded_and_the_rest_goes_on(recorder: Recorder) -> None:
    orders = make_orders(3)
    recorder.script = [REJECTED]

    with pytest.raises(CommandError, match="2 object\\(s\\) were not sent by this run"):
        backfill("orders", batch_size=2, no_progress=True)

    assert len(recorder.bodies) == 2
    failed = outbox(OutboxState.FAILED)
    assert sorted(failed) == sorted(keys(orders[:2]))
    assert all("customer is required" in reason for reason in failed.values())
    rows = OutboxEntry.objects.filter(state=OutboxState.FAILED)
    assert set(rows.values_list("last_status", "last_error_id", "attempts")) == {
        (400, "invalid_order", 1)
    }


def test_transient_failure_is_left_for_the_drain(recorder: Recorder) -> None:
    orders = make_orders(2)
    recorder.script = [UNAVAILABLE]

    with pytest.raises(CommandError, match="2 object\\(s\\) were not sent by this run"):
        backfill("orders", no_progress=True)

    rows = OutboxEntry.objects.filter(object_key__in=keys(orders))
    assert sorted(rows.values_list("object_key", flat=True)) == sorted(keys(orders))
    assert set(rows.values_list("state", "last_status", "attempts")) == {
        (OutboxState.PENDING, 503, 1)
    }
    assert all("try later" in row.last_error for row in rows)
    # Backed off per the outbox's policy, not due at once.
    assert all(row.next_attempt_at > row.updated_at for row in rows)


def test_transient_failure_follows_the_attempt_cap(recorder: Recorder) -> None:
    make_orders(1)
    recorder.script = [UNAVAILABLE]

    with (
        bubblehouse_settings(MAX_ATTEMPTS=1),
        pytest.raises(CommandError),
    ):
        backfill("orders", no_progress=True)

    assert OutboxEntry.objects.get().state == OutboxState.DEAD


def failed_row(order: Order) -> OutboxEntry:
    error = RejectedAPIError("customer is required", call="UpdateOrders4", status=400)
    record_failures(OrderSerializer, {str(order.pk): error})
    return OutboxEntry.objects.get(object_key=str(order.pk))


def test_successful_push_resolves_an_older_failure(recorder: Recorder) -> None:
    fixed, still_failing = make_orders(2)
    for order in (fixed, still_failing):
        failed_row(order)
    OutboxEntry.objects.filter(object_key=str(still_failing.pk)).update(state=OutboxState.DEAD)
    before = timezone.now()

    backfill("orders", no_progress=True)

    rows = OutboxEntry.objects.filter(object_key__in=keys([fixed, still_failing]))
    assert set(rows.values_list("state", "last_status", "last_error")) == {
        (OutboxState.SENT, 200, "")
    }
    assert all(row.sent_at is not None and row.sent_at >= before for row in rows)


def test_failed_push_keeps_the_older_failure(recorder: Recorder) -> None:
    (order,) = make_orders(1)
    earlier = failed_row(order)
    recorder.script = [REJECTED]

    with pytest.raises(CommandError):
        backfill("orders", no_progress=True)

    row = OutboxEntry.objects.get()
    assert (row.state, row.last_error_id) == (OutboxState.FAILED, "invalid_order")
    assert row.generation != earlier.generation


def test_change_during_the_push_is_not_resolved(recorder: Recorder) -> None:
    (order,) = make_orders(1)
    failed_row(order)

    submit = Sender.submit

    def change_then_send(sender: Sender, *args: Any) -> Future[None]:
        # On the main thread (the sending threads never touch the database), after the batch
        # was serialized and before its outcome is recorded.
        order.status = "shipped"
        order.save()  # marks the order dirty: a newer state than the one being pushed
        return submit(sender, *args)

    with mock.patch.object(Sender, "submit", change_then_send):
        backfill("orders", no_progress=True)

    assert recorder.ids("orders") == keys([order])
    assert OutboxEntry.objects.get().state == OutboxState.PENDING


def test_configuration_error_stops_the_run_and_resume_finishes_it(recorder: Recorder) -> None:
    orders = make_orders(5)
    recorder.script = [(200, {"ok": True}), BAD_TOKEN]

    with pytest.raises(CommandError, match=r"invalid_token.*--resume"):
        backfill("orders", batch_size=2, no_progress=True)

    run = BackfillRun.objects.get()
    assert run.status == BackfillRun.Status.STOPPED
    assert "invalid_token" in run.reason
    assert OutboxEntry.objects.count() == 0  # nothing failed: the rest is left to --resume
    recorder.bodies.clear()

    output = backfill("orders", batch_size=2, resume=True, no_progress=True)

    # The refused batch is sent again, the accepted one is not.
    assert recorder.ids("orders") == keys(orders[2:])
    assert f"Resuming backfill #{run.pk}" in output.out
    run.refresh_from_db()
    assert run.status == BackfillRun.Status.DONE
    assert BackfillRun.objects.count() == 1


def test_interrupted_run_resumes_after_the_last_batch_done(recorder: Recorder) -> None:
    orders = make_orders(6)
    recorder.script = [(200, {"ok": True}), KeyboardInterrupt()]

    with pytest.raises(CommandError, match="interrupted; continue with --resume"):
        backfill("orders", batch_size=2, no_progress=True)

    (backfill_range,) = BackfillRange.objects.all()
    assert backfill_range.cursor == str(orders[1].pk)  # saved after the first batch
    recorder.bodies.clear()

    backfill("orders", batch_size=2, resume=True, no_progress=True)

    assert recorder.ids("orders") == keys(orders[2:])


def test_crash_leaves_the_run_resumable(recorder: Recorder) -> None:
    orders = make_orders(3)
    recorder.script = [RuntimeError("disk on fire")]

    with pytest.raises(RuntimeError):
        backfill("orders", batch_size=2, no_progress=True)

    run = BackfillRun.objects.get()
    assert run.status == BackfillRun.Status.STOPPED
    assert "disk on fire" in run.reason
    recorder.bodies.clear()

    backfill("orders", batch_size=2, resume=True, no_progress=True)

    assert recorder.ids("orders") == keys(orders)


def test_resume_without_an_unfinished_run_is_an_error(recorder: Recorder) -> None:
    make_orders(1)
    backfill("orders", no_progress=True)

    with pytest.raises(CommandError, match="no unfinished backfill"):
        backfill("orders", resume=True, no_progress=True)


def test_resume_only_continues_the_same_selection(recorder: Recorder) -> None:
    first = make_orders(3)[0]
    recorder.script = [KeyboardInterrupt()]
    with pytest.raises(CommandError):
        backfill("orders", no_progress=True)

    with pytest.raises(CommandError, match="no unfinished backfill"):
        backfill("orders", ids=[str(first.pk)], resume=True, no_progress=True)
    with pytest.raises(CommandError, match="no unfinished backfill"):
        backfill("customers", resume=True, no_progress=True)

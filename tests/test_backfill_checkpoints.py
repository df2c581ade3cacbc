"""When a backfill moves its cursor: at once after a failure, else at most once per interval,
and always before the run returns or raises."""

from __future__ import annotations

import math

import pytest

from django_bubblehouse.backfill.runner import BatchRunner, Tally
from django_bubblehouse.backfill.selection import Selection
from django_bubblehouse.client import get_client
from django_bubblehouse.models import OutboxEntry, OutboxState
from tests.backfill_support import Recorder, make_orders
from tests.testapp.bubblehouse import OrderSerializer

pytestmark = pytest.mark.django_db

REJECTED = (400, {"id": "invalid_order", "message": "customer is required"})


class Checkpoints:
    """Each call's key and counts, and the failed outbox rows already written by then."""

    def __init__(self) -> None:
        self.saved: list[tuple[str, int, int]] = []
        self.failed_rows: list[int] = []

    def __call__(self, last_key: str, tally: Tally) -> None:
        self.saved.append((last_key, tally.sent, tally.failed))
        self.failed_rows.append(OutboxEntry.objects.filter(state=OutboxState.FAILED).count())


def run(every: float, checkpoints: Checkpoints) -> Tally:
    runner = BatchRunner(client=get_client(), batch_size=2, checkpoint_every=every)
    return runner.run(OrderSerializer, Selection(), checkpoint=checkpoints)


def test_batches_that_went_through_are_saved_once_per_interval(recorder: Recorder) -> None:
    orders = make_orders(6)
    checkpoints = Checkpoints()

    run(math.inf, checkpoints)

    assert len(recorder.bodies) == 3
    assert checkpoints.saved == [(str(orders[-1].pk), 6, 0)]


def test_every_batch_is_saved_when_the_interval_has_passed(recorder: Recorder) -> None:
    orders = make_orders(6)
    checkpoints = Checkpoints()

    run(0.0, checkpoints)

    assert checkpoints.saved == [(str(orders[n].pk), 2, 0) for n in (1, 3, 5)]


def test_a_failed_batch_is_recorded_with_its_cursor_at_once(recorder: Recorder) -> None:
    orders = make_orders(6)
    recorder.script = [(200, {"ok": True}), REJECTED]
    checkpoints = Checkpoints()

    run(math.inf, checkpoints)

    # The first two batches with the failure, in one transaction; the third at the end.
    assert checkpoints.saved == [(str(orders[3].pk), 2, 2), (str(orders[5].pk), 2, 0)]
    assert checkpoints.failed_rows == [2, 2]


def test_batches_finished_before_an_interruption_are_saved(recorder: Recorder) -> None:
    orders = make_orders(6)
    recorder.script = [(200, {"ok": True}), (200, {"ok": True}), KeyboardInterrupt()]
    checkpoints = Checkpoints()

    with pytest.raises(KeyboardInterrupt):
        run(math.inf, checkpoints)

    assert checkpoints.saved == [(str(orders[3].pk), 4, 0)]


def test_a_dry_run_saves_nothing(recorder: Recorder) -> None:
    make_orders(4)
    checkpoints = Checkpoints()

    BatchRunner(client=get_client(), batch_size=2, dry_run=True).run(
        OrderSerializer, Selection(), checkpoint=checkpoints
    )

    assert (recorder.bodies, checkpoints.saved) == ([], [])

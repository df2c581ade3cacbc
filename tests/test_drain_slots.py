"""Drain slots: a backlog wakes sibling drains, never more than DRAIN_PARALLELISM run at once,
no wake-up is lost to a full house, and a killed drain's slot frees itself."""

from __future__ import annotations

import datetime as dt
import importlib
import json
import threading
import time
from typing import Any
from unittest import mock

import pytest
import responses
from django.db import connection, connections
from django.db.models import F
from django.utils import timezone

from django_bubblehouse import outbox
from django_bubblehouse.models import DrainRequest, DrainSlot, OutboxEntry, OutboxState
from django_bubblehouse.outbox import slots
from django_bubblehouse.outbox.lease import Heartbeat
from django_bubblehouse.outbox.wakeup import drain_started, owe_drain
from tests import shop_factories as shop
from tests.bubblehouse_overrides import bubblehouse_settings
from tests.delivery_support import API, ORDERS, pushed_ids

drain_module = importlib.import_module("django_bubblehouse.outbox.drain")
pytestmark = pytest.mark.django_db


def orders(count: int) -> list[str]:
    customer = shop.customer()
    OutboxEntry.objects.all().delete()  # only the orders are due
    made = [shop.order(customer=customer, number=f"S{n}") for n in range(count)]
    return [str(order.pk) for order in made]


@pytest.fixture
def wake_ups(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """The drain's sibling wake-ups; none is enqueued."""
    calls: list[bool] = []

    def request_drain() -> bool:
        calls.append(True)
        return True

    monkeypatch.setattr(drain_module, "request_drain", request_drain)
    return calls


def held_elsewhere(*numbers: int) -> None:
    """Slots held by drains in other workers, just renewed by their heartbeats."""
    until = timezone.now() + dt.timedelta(seconds=15)
    DrainSlot.objects.bulk_create(
        DrainSlot(number=number, holder=1000 + number, lease_until=until) for number in numbers
    )


def flag_requested() -> bool:
    return DrainRequest.objects.get().requested


def test_a_drain_with_more_than_one_batch_due_wakes_one_sibling(
    api: responses.RequestsMock, wake_ups: list[bool]
) -> None:
    keys = orders(7)
    with bubblehouse_settings(BATCH_SIZE=2):
        report = outbox.drain(patient=True)
    assert report.sent == 7
    assert report.batches == 4
    assert wake_ups == [True]  # one sibling, not one per batch
    assert sorted(pushed_ids(api), key=int) == keys


def test_one_batch_due_wakes_no_sibling(api: responses.RequestsMock, wake_ups: list[bool]) -> None:
    orders(2)
    with bubblehouse_settings(BATCH_SIZE=2):
        report = outbox.drain(patient=True)
    assert report.sent == 2
    assert wake_ups == []


def test_no_sibling_while_every_other_slot_is_held(
    api: responses.RequestsMock, wake_ups: list[bool]
) -> None:
    orders(7)
    held_elsewhere(1, 2)
    with bubblehouse_settings(BATCH_SIZE=2, DRAIN_PARALLELISM=3):
        report = outbox.drain(patient=True)
    assert report.sent == 7
    assert wake_ups == []  # the third slot is this drain's: a sibling would find none


def test_a_drain_called_from_code_wakes_no_sibling(
    api: responses.RequestsMock, wake_ups: list[bool]
) -> None:
    orders(7)
    with bubblehouse_settings(BATCH_SIZE=2):
        assert outbox.drain().sent == 7
    assert wake_ups == []


def test_no_more_drains_than_slots(api: responses.RequestsMock) -> None:
    keys = orders(3)
    held_elsewhere(0, 1)
    report = outbox.drain()
    assert (report.stopped, report.batches, len(api.calls)) == ("busy", 0, 0)
    assert OutboxEntry.objects.filter(object_key__in=keys, state=OutboxState.PENDING).count() == 3
    with bubblehouse_settings(DRAIN_PARALLELISM=3):
        assert outbox.drain().sent == 3
    assert DrainSlot.objects.filter(holder__isnull=True).count() == 1  # released at the end


def test_a_drain_finding_every_slot_held_leaves_its_request_to_a_holder() -> None:
    with bubblehouse_settings(DRAIN_PARALLELISM=1):
        holder = slots.start()
        assert holder is not None
        drain_started()  # a drain woken by a commit after the holder's last claim
        assert slots.start() is None
        assert flag_requested()  # owed: commits that see it enqueue nothing
        assert slots.hand_over(holder, go_on=True)  # the holder drains on for it
        assert holder.number == 0
        assert not flag_requested()
        assert not slots.hand_over(holder, go_on=True)  # nothing owed: it ends
    assert DrainSlot.objects.get().holder is None


def test_a_holder_out_of_budget_enqueues_the_owed_drain() -> None:
    with bubblehouse_settings(DRAIN_PARALLELISM=1):
        holder = slots.start()
        assert holder is not None
        assert slots.start() is None
        with mock.patch("django_bubblehouse.outbox.wakeup.enqueue_drain") as enqueue:
            assert not slots.hand_over(holder, go_on=False)
    assert enqueue.call_count == 1
    assert flag_requested()  # set again by the enqueue, cleared by the drain it starts
    assert DrainSlot.objects.get().holder is None


def test_a_slot_released_while_the_request_was_left_is_taken(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with bubblehouse_settings(DRAIN_PARALLELISM=1):
        holder = slots.start()
        assert holder is not None

        def holder_ends_meanwhile() -> None:
            # The holder ends between the late drain's two tries: before the flag is set, so
            # it finds nothing owed.
            assert not slots.hand_over(holder, go_on=True)
            owe_drain()

        monkeypatch.setattr(slots, "owe_drain", holder_ends_meanwhile)
        late = slots.start()
    assert late is not None
    assert late.number == 0
    assert not flag_requested()  # the late drain runs: it covers what the flag stood for


def test_a_killed_drains_slot_is_free_two_beats_after_its_last(
    api: responses.RequestsMock,
) -> None:
    orders(2)
    with bubblehouse_settings(DRAIN_PARALLELISM=1):
        killed = slots.start()  # never released, never renewed again
        assert killed is not None
        beaten = timezone.now() - dt.timedelta(seconds=9)  # one beat missed, and a bit
        DrainSlot.objects.update(lease_until=beaten + dt.timedelta(seconds=15))
        assert outbox.drain().stopped == "busy"  # it could still be a late beat
        DrainSlot.objects.update(lease_until=beaten + dt.timedelta(seconds=14))  # two missed
        assert outbox.drain().sent == 2


def test_renewing_moves_the_slots_lease_on() -> None:
    slot = slots.start()
    assert slot is not None
    before = DrainSlot.objects.get(holder=slot.token).lease_until
    assert before is not None
    DrainSlot.objects.update(lease_until=before - dt.timedelta(seconds=10))
    slot.renew()
    after = DrainSlot.objects.get(holder=slot.token).lease_until
    assert after is not None
    assert after >= before


def test_a_lost_slot_is_not_renewed() -> None:
    slot = slots.start()
    assert slot is not None
    DrainSlot.objects.update(holder=42, lease_until=None)  # expired and taken by another drain
    slot.renew()
    assert DrainSlot.objects.get(number=0).lease_until is None


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_renews_the_slot_of_a_live_drain() -> None:
    if connection.vendor == "sqlite" and connection.is_in_memory_db():  # type: ignore[attr-defined]
        pytest.skip("another connection cannot see an in-memory database's rows")
    with bubblehouse_settings(SENDING_LEASE=6):  # a beat every 2 s
        slot = slots.start()
        assert slot is not None
        taken = DrainSlot.objects.get(holder=slot.token).lease_until
        assert taken is not None
        renewed = None
        with Heartbeat(slot):
            deadline = time.monotonic() + 10
            while renewed is None and time.monotonic() < deadline:  # bounded wait for a beat
                current = DrainSlot.objects.get(holder=slot.token).lease_until
                renewed = current if current is not None and current > taken else None
                time.sleep(0.1)
        slot.release()
    assert renewed is not None, "the heartbeat never renewed the slot"


@pytest.mark.django_db(transaction=True)
def test_parallel_drains_deliver_every_row_once_and_no_more_run_than_slots(
    api: responses.RequestsMock,
) -> None:
    if not connection.features.has_select_for_update_skip_locked:  # asks the server's version
        pytest.skip("needs row locks: run with a PostgreSQL or MariaDB DATABASE_URL")
    with mock.patch("django_bubblehouse.outbox.wakeup.enqueue_drain"):  # only our drains
        keys = orders(60)
    drains = 3
    settled = threading.Condition()
    pushing = {"now": 0, "most": 0, "finished": 0}
    everyone_in = threading.Event()

    def push(request: Any) -> tuple[int, dict[str, str], str]:
        with settled:
            pushing["now"] += 1
            pushing["most"] = max(pushing["most"], pushing["now"])
            # The first pushes wait (bounded) until every drain is pushing or has ended: a
            # drain without a slot would be pushing too.
            settled.notify_all()
            settled.wait_for(lambda: pushing["now"] + pushing["finished"] >= drains, timeout=10)
            everyone_in.set()
            pushing["now"] -= 1
        return 200, {}, json.dumps({"ok": True})

    api.remove(responses.POST, API + "UpdateOrders4")
    api.add_callback(responses.POST, API + "UpdateOrders4", push)
    start = threading.Barrier(drains)
    reports: list[outbox.DrainReport] = []
    errors: list[BaseException] = []

    def drainer() -> None:
        try:
            start.wait(timeout=10)
            reports.append(outbox.drain())
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()
            with settled:
                pushing["finished"] += 1
                settled.notify_all()

    with bubblehouse_settings(BATCH_SIZE=5, DRAIN_PARALLELISM=2):
        threads = [threading.Thread(target=drainer) for _ in range(drains)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    assert errors == []
    assert sorted(pushed_ids(api), key=int) == keys  # each order exactly once
    assert everyone_in.is_set()
    assert pushing["most"] == 2  # two drains pushed at once, never three
    assert [report.stopped for report in reports].count("busy") == 1
    assert sum(report.sent for report in reports) == 60
    assert OutboxEntry.objects.filter(serializer=ORDERS, state=OutboxState.SENT).count() == 60
    assert not DrainSlot.objects.filter(holder__isnull=False).exists()


def test_a_patient_drain_waits_for_the_slots_of_killed_drains(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys = orders(2)
    held_elsewhere(0, 1)  # both beat a moment ago, then their worker was killed
    waits: list[float] = []

    def time_passes(clock: Any, moment: dt.datetime) -> None:  # without a beat
        seconds = (moment - timezone.now()).total_seconds()
        waits.append(seconds)
        DrainSlot.objects.update(lease_until=F("lease_until") - dt.timedelta(seconds=seconds))

    monkeypatch.setattr(drain_module.Clock, "sleep_until", time_passes)
    report = outbox.drain(patient=True, budget=5)
    assert (report.stopped, report.sent) == ("empty", 2)
    assert len(waits) == 1
    assert 9 < waits[0] <= 10  # two beats after the last one
    assert sorted(pushed_ids(api), key=int) == keys


def test_a_patient_drain_leaves_live_holders_the_request(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch
) -> None:
    orders(2)
    held_elsewhere(0, 1)
    waits: list[dt.datetime] = []

    def holders_beat(clock: Any, moment: dt.datetime) -> None:  # instead of sleeping
        waits.append(moment)
        DrainSlot.objects.update(lease_until=timezone.now() + dt.timedelta(seconds=15))

    monkeypatch.setattr(drain_module.Clock, "sleep_until", holders_beat)
    report = outbox.drain(patient=True, budget=5)
    assert (report.stopped, report.sent, len(waits)) == ("busy", 0, 1)  # looked once more
    assert flag_requested()  # owed to the live holders

"""From commit to push: what the drain sends, and what each API answer does to the rows."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import responses
from django.db import transaction
from django.utils import timezone

from django_bubblehouse import outbox
from django_bubblehouse.exceptions import RejectedAPIError, TransientAPIError
from django_bubblehouse.models import OutboxEntry, OutboxState
from django_bubblehouse.signals import push_failed, push_succeeded
from tests import shop_factories as shop
from tests.bubblehouse_overrides import bubblehouse_settings
from tests.delivery_support import answer, bodies, entry, pushed_ids, reset_outbox
from tests.test_receivers import save_then_fail
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db


@pytest.fixture
def committed(django_capture_on_commit_callbacks: Any) -> Any:
    """``with committed():`` runs the block's on-commit callbacks (the drain, in sync mode)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def placed_order(**fields: Any) -> Order:
    return shop.order([(None, 1, "10.00", "0")], customer=shop.customer(), **fields)


def test_rolled_back_change_is_never_pushed(api: responses.RequestsMock, committed: Any) -> None:
    with committed(), pytest.raises(RuntimeError):
        save_then_fail(placed_order)
    outbox.drain()
    assert len(api.calls) == 0


def test_committed_order_is_pushed_once(api: responses.RequestsMock, committed: Any) -> None:
    with committed():
        order = placed_order()
    assert pushed_ids(api) == [str(order.pk)]
    assert entry(order.pk).state == OutboxState.SENT
    assert entry(order.pk).sent_at is not None
    outbox.drain()
    assert pushed_ids(api) == [str(order.pk)]


def test_fifty_saves_push_the_final_state_once(api: responses.RequestsMock, committed: Any) -> None:
    order = placed_order()
    reset_outbox()
    with committed(), transaction.atomic():
        for number in range(50):
            order.store_location = f"shop-{number}"
            order.save()
    [body] = bodies(api)
    assert [o["store_location"] for o in body["orders"]] == ["shop-49"]


def test_one_request_per_batch(api: responses.RequestsMock) -> None:
    customer = shop.customer()
    orders = [shop.order(customer=customer, number=f"B{n}") for n in range(5)]
    with bubblehouse_settings(BATCH_SIZE=2):
        report = outbox.drain()
    assert [len(b["orders"]) for b in bodies(api)] == [2, 2, 1]
    assert sorted(pushed_ids(api)) == sorted(str(order.pk) for order in orders)
    assert report.sent >= 5


def test_change_during_the_push_is_pushed_again(api: responses.RequestsMock) -> None:
    order = placed_order()
    pushes: list[str] = []

    def change_while_in_flight(request: Any) -> tuple[int, dict[str, str], str]:
        pushes.append(request.body.decode())
        if len(pushes) == 1:
            reset_outbox()
            Order.objects.filter(pk=order.pk).update(store_location="moved")
            Order.objects.get(pk=order.pk).save()  # a host save while the push is in flight
        return 200, {}, '{"ok": true}'

    api.replace(
        responses.CallbackResponse(
            responses.POST,
            "https://bubblehouse.test/api/v2023061/testshop/UpdateOrders4",
            callback=change_while_in_flight,
        )
    )
    outbox.drain()
    assert len(pushes) == 2
    assert '"store_location": "moved"' in pushes[1] or '"store_location":"moved"' in pushes[1]
    assert entry(order.pk).state == OutboxState.SENT


def test_rate_limit_waits_for_retry_after_without_spending_an_attempt(
    api: responses.RequestsMock,
) -> None:
    order = placed_order()
    answer(
        api,
        "UpdateOrders4",
        429,
        json={"id": "rate_limit_exceeded"},
        headers={"Retry-After": "120"},
    )
    before = timezone.now()
    report = outbox.drain()
    row = entry(order.pk)
    assert (row.state, row.attempts, row.last_status) == (OutboxState.PENDING, 0, 429)
    assert row.next_attempt_at >= before + dt.timedelta(seconds=120)
    assert row.first_failure_at is None  # being rate-limited never ages a row towards dead
    assert report.retrying >= 1
    outbox.drain()  # not due yet: nothing is sent again
    assert len(bodies(api)) == 1


def test_transient_errors_dead_letter_after_max_attempts(api: responses.RequestsMock) -> None:
    order = placed_order()
    answer(api, "UpdateOrders4", 503, json={"id": "unavailable"})
    with bubblehouse_settings(MAX_ATTEMPTS=3, BACKOFF_BASE=0.0, BACKOFF_CAP=0.0):
        for _ in range(3):
            outbox.drain()
    row = entry(order.pk)
    assert (row.state, row.attempts) == (OutboxState.DEAD, 3)
    assert len(bodies(api)) == 3


def test_transient_errors_dead_letter_after_max_age(api: responses.RequestsMock) -> None:
    order = placed_order()
    answer(api, "UpdateOrders4", 502)
    outbox.drain()
    OutboxEntry.objects.filter(pk=entry(order.pk).pk).update(
        next_attempt_at=timezone.now(),
        first_failure_at=timezone.now() - dt.timedelta(days=2),
    )
    outbox.drain()
    assert entry(order.pk).state == OutboxState.DEAD


def test_rejection_fails_the_rows_for_good(api: responses.RequestsMock) -> None:
    order = placed_order()
    answer(api, "UpdateOrders4", 400, json={"id": "invalid_order", "message": "bad total"})
    failed: list[dict[str, Any]] = []
    push_failed.connect(lambda **kw: failed.append(kw), weak=False, dispatch_uid="t-rej")
    try:
        outbox.drain()
        outbox.drain()
    finally:
        push_failed.disconnect(dispatch_uid="t-rej")
    row = entry(order.pk)
    assert (row.state, row.last_status, row.last_error_id) == (
        OutboxState.FAILED,
        400,
        "invalid_order",
    )
    assert "bad total" in row.last_error
    assert len(bodies(api)) == 1
    [signal] = [kw for kw in failed if kw["kind"] == "orders"]
    assert signal["keys"] == [str(order.pk)]
    assert isinstance(signal["error"], RejectedAPIError)


def test_serialization_error_fails_only_that_row(api: responses.RequestsMock) -> None:
    good = placed_order()
    bad = shop.order([(None, 1, "10.00", "0")], status="on_hold", customer=good.customer)
    outbox.drain()
    assert pushed_ids(api) == [str(good.pk)]
    row = entry(bad.pk)
    assert row.state == OutboxState.FAILED
    assert "status" in row.last_error


def test_vanished_objects_are_skipped(api: responses.RequestsMock) -> None:
    order = placed_order()
    Order.objects.filter(pk=order.pk).update(status="paid")  # no signal
    OutboxEntry.objects.filter(serializer=entry(order.pk).serializer).update(object_key="999999")
    report = outbox.drain()
    assert OutboxEntry.objects.get(object_key="999999").state == OutboxState.SKIPPED
    assert report.skipped >= 1
    assert str(order.pk) not in pushed_ids(api)


def test_deleted_object_pushes_its_delete_payload(api: responses.RequestsMock) -> None:
    customer = shop.customer()
    key = str(customer.pk)
    customer.delete()
    outbox.drain()
    customers = [c for b in bodies(api, "UpdateCustomers3") for c in b["customers"]]
    assert {"id": key, "deleted": True} in customers


def test_success_signal(api: responses.RequestsMock) -> None:
    order = placed_order()
    seen: list[dict[str, Any]] = []
    push_succeeded.connect(lambda **kw: seen.append(kw), weak=False, dispatch_uid="t-ok")
    try:
        outbox.drain()
    finally:
        push_succeeded.disconnect(dispatch_uid="t-ok")
    assert {"orders": [str(order.pk)]}.items() <= {s["kind"]: s["keys"] for s in seen}.items()


def test_untyped_errors_are_retried(api: responses.RequestsMock) -> None:
    order = placed_order()
    answer(api, "UpdateOrders4", 200, body=ConnectionResetError("reset"))
    failed: list[Any] = []
    push_failed.connect(lambda **kw: failed.append(kw["error"]), weak=False, dispatch_uid="t-u")
    try:
        outbox.drain()
    finally:
        push_failed.disconnect(dispatch_uid="t-u")
    assert entry(order.pk).state == OutboxState.PENDING
    assert any(isinstance(error, TransientAPIError) for error in failed)

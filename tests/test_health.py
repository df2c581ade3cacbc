"""bubblehouse_status and the health view: each unhealthy condition, exit codes, access."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO
from typing import Any

import pytest
import responses
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from django_bubblehouse.health.clusters import ClusterInfo
from django_bubblehouse.kinds import Kind
from django_bubblehouse.models import (
    BackfillRange,
    BackfillRun,
    DrainRequest,
    DrainSlot,
    OutboxEntry,
    OutboxState,
    Pause,
)
from django_bubblehouse.outbox import drain
from django_bubblehouse.outbox.orphans import orphaned_serializers
from django_bubblehouse.outbox.wakeup import drain_started
from tests import shop_factories as shop
from tests.bubblehouse_overrides import bubblehouse_settings as bubblehouse
from tests.delivery_support import answer

pytestmark = pytest.mark.django_db

ORDERS = "tests.testapp.bubblehouse.OrderSerializer"
URL = "/bubblehouse-health/"


def row(
    key: str,
    state: str = OutboxState.PENDING,
    *,
    age: float = 0,
    serializer: str = ORDERS,
    **fields: object,
) -> None:
    stamp = timezone.now() - timedelta(seconds=age)
    OutboxEntry.objects.create(
        kind=Kind.ORDERS,
        serializer=serializer,
        object_key=key,
        state=state,
        updated_at=stamp,
        **fields,
    )


def drained(ago: float) -> None:
    DrainRequest.objects.update_or_create(
        pk=DrainRequest.SINGLETON,
        defaults={"last_drain_at": timezone.now() - timedelta(seconds=ago)},
    )


def status(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("bubblehouse_status", *args, stdout=out)
    except CommandError as error:
        return error.returncode, f"{out.getvalue()}\nCommandError: {error}"
    return 0, out.getvalue()


def problems(*args: str) -> list[str]:
    code, output = status("--json", *args)
    report = json.loads(output.split("\nCommandError")[0])
    assert (code == 0) == report["healthy"]
    return [problem["code"] for problem in report["problems"]]


def test_healthy_when_rows_flow() -> None:
    drained(ago=10)
    row("1", age=5)
    row("2", OutboxState.SENT, sent_at=timezone.now())

    code, output = status()

    assert code == 0
    assert "Bubblehouse sync: healthy: 1 row(s) waiting, lag 5s" in output
    assert "Last drain started:" in output
    assert "(10s ago)" in output
    assert problems() == []


def test_no_worker_while_rows_wait() -> None:
    drained(ago=301)
    row("1", age=30)

    code, output = status()

    assert code == 2
    assert "CommandError: unhealthy: no drain for 5m while 1 row(s) wait" in output
    assert problems() == ["no_worker"]


def test_no_drain_ever_is_no_worker_only_when_rows_wait() -> None:
    DrainRequest.objects.update(last_drain_at=None)
    assert problems() == []
    row("1")
    assert problems() == ["no_worker"]
    _code, output = status()
    assert "no drain has ever run while 1 row(s) wait" in output


def test_idle_threshold_is_a_setting() -> None:
    drained(ago=301)
    row("1")
    with bubblehouse(HEALTH_MAX_IDLE=400):
        assert problems() == []


def test_lag() -> None:
    drained(ago=1)
    row("1", age=601)
    row("2", OutboxState.SENDING, age=30)

    code, output = status()

    assert code == 2
    assert "sync lag 10m (more than 10m)" in output
    assert "oldest 10m" in output  # per serializer
    assert problems() == ["lag"]
    with bubblehouse(HEALTH_MAX_LAG=900):
        assert problems() == []


def test_lag_of_a_retrying_row_counts_from_its_first_failure() -> None:
    drained(ago=1)
    row("1", age=5, first_failure_at=timezone.now() - timedelta(seconds=700))
    assert problems() == ["lag"]


def test_failures_with_top_error_ids() -> None:
    drained(ago=1)
    row("1", OutboxState.FAILED, last_error_id="invalid_order")
    row("2", OutboxState.FAILED, last_error_id="invalid_order")
    row("3", OutboxState.DEAD, last_error_id="server_error")

    code, output = status()

    assert code == 2
    assert "3 failed or dead row(s) (invalid_order x2, server_error x1)" in output
    # Each with one of its rows to look up: the operator's first question is "which one?".
    top = "invalid_order x2 (e.g. orders 1), server_error x1 (e.g. orders 3)"
    assert f"Top errors of failed/dead rows: {top}" in output
    report = json.loads(status("--json")[1].split("\nCommandError")[0])
    assert report["top_errors"][1] == {"error_id": "server_error", "rows": 1, "example": "orders 3"}
    assert problems() == ["failures"]
    with bubblehouse(HEALTH_FAILED_ROWS=4):
        assert problems() == []


def test_pause_with_reason_and_next_probe() -> None:
    Pause.objects.create(
        scope=Pause.ALL,
        reason="UpdateOrders4 HTTP 401 unauthorized: bad token",
        error_id="unauthorized",
        probe_at=timezone.now() + timedelta(seconds=125),
    )

    code, output = status()

    assert code == 2
    assert "everything paused since" in output
    assert "Paused everything since" in output
    assert "(unauthorized): UpdateOrders4 HTTP 401 unauthorized: bad token; next probe" in output
    assert "(in 2m)" in output
    assert "the outbox admin's Resume now, or django_bubblehouse.outbox.resume()" in output
    code, raw = status("--json")
    (pause,) = json.loads(raw.split("\nCommandError")[0])["pauses"]
    assert pause["scope"] == "*"
    assert pause["next_probe_at"]
    assert problems() == ["paused"]


def test_a_rate_limit_hold_says_until_when_not_what_to_resume() -> None:
    Pause.objects.create(
        scope=Pause.THROTTLE,
        reason="UpdateOrders4 HTTP 429: slow down",
        status=429,
        probe_at=timezone.now() + timedelta(seconds=20),
    )
    line = next(text for text in status()[1].splitlines() if "Bubblehouse (HTTP 429)" in text)
    assert line.startswith("Rate-limited by Bubblehouse (HTTP 429): every request waits until ")
    assert "(in 1" in line  # 19 or 20 seconds from now
    assert "probe" not in line
    assert "resume" not in line.lower()


def test_orphaned_rows() -> None:
    drained(ago=1)
    row("1", OutboxState.PENDING, serializer="shop.old.OrderSerializer")
    row("2", OutboxState.PENDING, serializer="shop.old.OrderSerializer")
    row("3", OutboxState.SENT)

    assert orphaned_serializers() == {"shop.old.OrderSerializer": 2}
    code, output = status()
    assert code == 2
    assert "2 row(s) of unregistered serializer(s): shop.old.OrderSerializer (2)" in output
    assert problems() == ["orphaned_rows"]


def test_json_counts_per_serializer() -> None:
    drained(ago=1)
    row("1")
    row("2", OutboxState.SENDING)
    row("3", OutboxState.SENT)
    _, output = status("--json")
    report = json.loads(output)
    orders = next(s for s in report["serializers"] if s["serializer"] == ORDERS)
    assert (orders["pending"], orders["sending"], orders["failed"], orders["dead"]) == (1, 1, 0, 0)
    assert orders["kind"] == "orders"
    dealers = next(s for s in report["serializers"] if s["kind"] == "entities")
    assert dealers["entity_set"] == "authorized-dealers"
    assert report["clusters"] is None  # the test cache is process-local: unknown, not "none"


def test_last_push_is_the_newest_sent_row() -> None:
    now = timezone.now()
    newest = now - timedelta(minutes=1)
    row("1", OutboxState.SENT, sent_at=now - timedelta(hours=1))
    row("2", OutboxState.SENT, sent_at=newest)
    row("3", OutboxState.SENT, sent_at=now - timedelta(minutes=2))
    _, output = status("--json")
    assert json.loads(output.split("\nCommandError")[0])["last_sent_at"] == newest.isoformat()


def test_a_backfill_that_sent_something_is_a_push_too() -> None:
    def last_sent() -> str | None:
        found: str | None = json.loads(status("--json")[1].split("\nCommandError")[0])[
            "last_sent_at"
        ]
        return found

    now = timezone.now()
    row("1", OutboxState.SENT, sent_at=now - timedelta(hours=1))
    empty = BackfillRun.objects.create(batch_size=100, fingerprint="a")
    BackfillRange.objects.create(run=empty, serializer=ORDERS, sent=0)
    BackfillRun.objects.filter(pk=empty.pk).update(updated_at=now)
    assert last_sent() == (now - timedelta(hours=1)).isoformat()  # it sent nothing
    run = BackfillRun.objects.create(batch_size=100, fingerprint="b")
    BackfillRange.objects.create(run=run, serializer=ORDERS, sent=95)
    ended = now - timedelta(minutes=5)
    BackfillRun.objects.filter(pk=run.pk).update(updated_at=ended)
    assert last_sent() == ended.isoformat()


def test_drain_records_when_it_ran() -> None:
    DrainRequest.objects.update(last_drain_at=None)
    drain_started()
    (last,) = DrainRequest.objects.values_list("last_drain_at", flat=True)
    assert last is not None
    assert timezone.now() - last < timedelta(seconds=5)


def test_view_refuses_anonymous_and_non_staff(client: Client) -> None:
    response = client.get(URL)
    assert response.status_code == 403
    assert "serializers" not in response.json()
    client.force_login(User.objects.create_user("clerk"))
    assert client.get(URL).status_code == 403


def test_view_for_staff_answers_503_when_unhealthy(client: Client) -> None:
    client.force_login(User.objects.create_user("ops", is_staff=True))
    drained(ago=1)
    response = client.get(URL)
    assert response.status_code == 200
    assert response.json()["healthy"] is True
    assert response["Cache-Control"].startswith("max-age=0")
    row("1", OutboxState.FAILED, last_error_id="invalid_order")
    response = client.get(URL)
    assert response.status_code == 503
    assert [p["code"] for p in response.json()["problems"]] == ["failures"]


def no_worker() -> None:
    drained(ago=301)
    row("1")


def lag() -> None:
    drained(ago=1)
    row("1", age=601)


def failures() -> None:
    drained(ago=1)
    row("1", OutboxState.DEAD, last_error_id="server_error")


def paused() -> None:
    Pause.objects.create(
        scope="entity_set:authorized-dealers", reason="no such set", probe_at=timezone.now()
    )


def orphaned_rows() -> None:
    row("1", OutboxState.PENDING, serializer="shop.old.OrderSerializer")


@pytest.mark.parametrize("condition", [no_worker, lag, failures, paused, orphaned_rows])
def test_view_reports_each_unhealthy_condition(client: Client, condition) -> None:
    client.force_login(User.objects.create_user("ops", is_staff=True))
    condition()
    response = client.get(URL)
    assert response.status_code == 503
    assert [p["code"] for p in response.json()["problems"]] == [condition.__name__]
    assert response.json()["healthy"] is False


def test_view_with_token(client: Client) -> None:
    drained(ago=1)
    assert client.get(URL, HTTP_AUTHORIZATION="Bearer anything").status_code == 403
    with bubblehouse(HEALTH_TOKEN="s3cret-health-token"):
        assert client.get(URL, HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
        response = client.get(URL, HTTP_AUTHORIZATION="Bearer s3cret-health-token")
        assert response.status_code == 200
        assert "s3cret-health-token" not in response.content.decode()
        assert client.post(URL, HTTP_AUTHORIZATION="Bearer s3cret-health-token").status_code == 405


def test_running_drains_are_the_slots_whose_drain_still_beats() -> None:
    now = timezone.now()
    DrainSlot.objects.create(number=0, holder=1, lease_until=now + timedelta(seconds=14))
    # Its drain missed two beats: gone, whatever the lease says.
    DrainSlot.objects.create(number=1, holder=2, lease_until=now + timedelta(seconds=1))

    _code, output = status()
    assert "Drains running: 1 of 2 (DRAIN_PARALLELISM)" in output
    report = json.loads(status("--json")[1])
    assert (report["running_drains"], report["drain_parallelism"]) == (1, 2)

    with bubblehouse(DRAIN_PARALLELISM=1):
        assert "Drains running: 1 of 1" in status()[1]


def test_more_parallel_drains_than_live_workers_is_pointed_out(monkeypatch) -> None:
    def clusters(*workers: int) -> None:
        found = [
            ClusterInfo(f"c{n}", f"host{n}", "Idle", count, timezone.now())
            for n, count in enumerate(workers)
        ]
        monkeypatch.setattr("django_bubblehouse.health.report.live_clusters", lambda: found)

    clusters(1)
    line = next(text for text in status()[1].splitlines() if text.startswith("Drains running"))
    assert line.startswith("Drains running: 0 of 2 (DRAIN_PARALLELISM); the live clusters have 1")
    # Workers are per cluster process: two one-worker clusters can run both drains.
    clusters(1, 1)
    assert "Drains running: 0 of 2 (DRAIN_PARALLELISM)\n" in status()[1]
    clusters(3)
    with bubblehouse(DRAIN_PARALLELISM=4):
        assert "have 3 worker(s) in all" in status()[1]


@pytest.mark.parametrize(
    "answer_with",
    [
        {"status": 429, "headers": {"Retry-After": "30"}},  # a hold: no attempt spent
        {"status": 401, "json": {"id": "unauthorized", "message": "bad token"}},  # a pause
    ],
)
def test_the_lag_of_a_row_held_back_counts_from_its_change(
    api: responses.RequestsMock, answer_with: dict[str, Any]
) -> None:
    order = shop.order(customer=shop.customer())
    changed = timezone.now() - timedelta(minutes=12)
    OutboxEntry.objects.exclude(serializer=ORDERS).delete()  # only the order waits
    OutboxEntry.objects.filter(serializer=ORDERS).update(updated_at=changed)
    answer(api, "UpdateOrders4", **answer_with)
    drain()
    row = OutboxEntry.objects.get(serializer=ORDERS, object_key=str(order.pk))
    assert (row.state, row.attempts) == (OutboxState.PENDING, 0)
    report = json.loads(status("--json")[1].split("\nCommandError")[0])
    assert report["lag_seconds"] >= 12 * 60  # not reset by the claim or the held-back push
    assert "lag" in problems()

"""Two identical CreateDiscount4 deliveries at once: one handler call, two successes."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client

from django_bubblehouse.hooks import Discount
from tests.hooks_support import call, recording_hooks
from tests.testapp import hooks

pytestmark = pytest.mark.django_db(transaction=True)

# Another connection waiting for a row lock: the duplicate is blocked on the receipt's key.
LOCK_WAITERS = {
    "postgresql": "SELECT count(*) FROM pg_locks WHERE NOT granted",
}
WAIT_LIMIT = 20.0


def someone_waits_for_a_lock() -> bool:
    deadline = time.monotonic() + WAIT_LIMIT
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(LOCK_WAITERS[connection.vendor])
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


@pytest.mark.skipif(
    connection.vendor not in LOCK_WAITERS,
    reason="needs row locks: run with DATABASE_URL=postgres://",
)
def test_concurrent_duplicates_call_the_handler_once(monkeypatch: pytest.MonkeyPatch) -> None:
    saw_the_duplicate_wait: list[bool] = []

    def handler(discount: Discount) -> None:
        hooks.DISCOUNTS.append(discount)
        # Finish only once the other delivery is blocked behind this one's receipt.
        saw_the_duplicate_wait.append(someone_waits_for_a_lock())

    monkeypatch.setattr(hooks, "create_discount", handler)
    body = {"code": "RACE", "title": "10 % off", "percentage": 1000}
    start = threading.Barrier(2)
    statuses: list[int] = []
    errors: list[BaseException] = []

    def deliver(request_id: str) -> None:
        try:
            start.wait(timeout=10)
            response = call(Client(), "CreateDiscount4", body, request_id=request_id)
            statuses.append(response.status_code)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    with recording_hooks():
        threads = [threading.Thread(target=deliver, args=(f"r-{n}",)) for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        calls: list[Any] = list(hooks.DISCOUNTS)
    assert errors == []
    assert statuses == [200, 200]
    assert [discount.code for discount in calls] == ["RACE"]
    assert saw_the_duplicate_wait == [True]

"""The real django-q2 path: commit -> enqueue (ORM broker) -> a qcluster worker -> push.

Everything runs in separate processes against a file SQLite database, the way a
shop runs it; Bubblehouse is a small HTTP server in this process.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django_bubblehouse import tasks
from tests.worker_support import Received, WorkerShop, wait_for


def test_commit_reaches_bubblehouse_through_a_real_cluster(
    tmp_path: Path, fake_api: tuple[str, Received]
) -> None:
    api_url, received = fake_api
    q_cluster = {"name": "bhtest", "workers": 2, "timeout": 60, "retry": 90, "orm": "default"}
    shop = WorkerShop(tmp_path, api_url, {**q_cluster, "poll": 0.1})
    with shop.cluster():
        order_id = shop.run("""
            from django.db import transaction
            from tests import shop_factories as shop
            with transaction.atomic():
                order = shop.order([(None, 2, "9.50", "0")], customer=shop.customer())
            print(order.pk)
        """)

        def order_pushed() -> list[dict[str, Any]] | None:
            return [
                order
                for path, body in list(received)
                if path.endswith("/UpdateOrders4")
                for order in body["orders"]
                if order["id"] == order_id
            ] or None

        [pushed] = wait_for(order_pushed, "the order push")
        assert pushed["items"][0]["amount_full"] == "19.00"

        def drain_results() -> list[tuple[str]] | None:
            rows = shop.query(
                "SELECT state FROM django_bubblehouse_outboxentry WHERE object_key = ?"
                " AND serializer LIKE '%OrderSerializer'",
                order_id,
            )
            return rows if rows and rows[0][0] == "sent" else None

        wait_for(drain_results, "the outbox row to be sent")

        def drain_task_succeeded() -> int | None:
            [(count,)] = shop.query(
                "SELECT COUNT(*) FROM django_q_task WHERE func = ? AND success = 1",
                tasks.drain_task.__module__ + ".drain_task",
            )
            return int(count) or None

        assert wait_for(drain_task_succeeded, "a successful drain task") >= 1

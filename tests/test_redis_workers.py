"""Several django-q2 workers behind the Redis broker, fed by concurrent writers.

Two host processes commit a stream of changes; every commit goes through the
outbox's wake-up to the Redis broker, extra drains are enqueued the way the
sweep schedule does, and a two-worker ``qcluster`` drains concurrently.
Bubblehouse must end up with exactly what the database holds, and never
receive an object's older state after a newer one.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from django_bubblehouse import tasks
from tests.worker_support import Received, WorkerShop, finish, wait_for

pytestmark = pytest.mark.redis

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
WRITERS = 2
ORDERS_PER_WRITER = 5
ROUNDS = 20
BUDGET = 50  # seconds for the whole test, setup included

WRITER = """
    import json
    from django.db import transaction
    from django_bubblehouse.outbox.wakeup import enqueue_drain
    from tests import shop_factories as shop

    writer = {writer}
    with transaction.atomic():
        customer = shop.customer(email=f"writer{{writer}}@example.com")
    orders = []
    for index in range({orders}):
        with transaction.atomic():
            orders.append(shop.order([(None, 1, "5.00", "0")], customer=customer,
                                     number=f"W{{writer}}-{{index}}"))
    for round_ in range({rounds}):
        for order in orders:
            with transaction.atomic():  # one commit per change, as separate requests would
                order.store_location = f"round-{{round_:02d}}"
                order.save()
        with transaction.atomic():
            customer.phone = f"+44 {{round_:02d}}"
            customer.save()
        enqueue_drain()  # as the sweep schedule would: more drains racing the woken ones
    print(json.dumps([order.pk for order in orders]))
"""


@pytest.fixture
def redis_cluster_name() -> Iterator[str]:
    """A cluster name (so a Redis key prefix) no other run uses; its keys are removed after."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.skip(f"Redis is not reachable (REDIS_URL or 127.0.0.1:6379): {type(error).__name__}")
    name = f"bhtest-{uuid.uuid4().hex[:12]}"
    try:
        yield name
    finally:
        leftovers = list(client.scan_iter(f"django_q:{name}:*"))
        if leftovers:
            client.delete(*leftovers)
        client.close()


def pushes_by_id(received: Received, call: str, key: str) -> dict[str, list[dict[str, Any]]]:
    """Per object id, the payloads under ``key`` pushed, in arrival order."""
    pushed: dict[str, list[dict[str, Any]]] = {}
    for path, body in list(received):
        if path.endswith(f"/{call}"):
            for item in body[key]:
                pushed.setdefault(item["id"], []).append(item)
    return pushed


def test_concurrent_writers_and_workers_deliver_the_database_state(
    tmp_path: Path, fake_api: tuple[str, Received], redis_cluster_name: str
) -> None:
    api_url, received = fake_api
    deadline = time.monotonic() + BUDGET
    q_cluster = {
        "name": redis_cluster_name,
        "workers": 2,
        "timeout": 60,
        "retry": 90,
        "redis": REDIS_URL,
    }
    # Small batches, so that concurrent drains share the work instead of one taking it all.
    shop = WorkerShop(tmp_path, api_url, q_cluster, bubblehouse={"BATCH_SIZE": 3})
    with shop.cluster():
        writers = [
            shop.start(WRITER.format(writer=n, orders=ORDERS_PER_WRITER, rounds=ROUNDS))
            for n in range(WRITERS)
        ]
        order_ids = [
            str(pk) for writer in writers for pk in json.loads(finish(writer, timeout=BUDGET))
        ]

        expected_orders = dict(
            shop.query("SELECT CAST(id AS TEXT), store_location FROM testapp_order")
        )
        expected_customers = dict(
            shop.query("SELECT CAST(id AS TEXT), phone FROM testapp_customer")
        )
        assert sorted(expected_orders) == sorted(order_ids)
        assert set(expected_orders.values()) == {f"round-{ROUNDS - 1:02d}"}

        def delivered() -> bool:
            orders = pushes_by_id(received, "UpdateOrders4", "orders")
            customers = pushes_by_id(received, "UpdateCustomers3", "customers")
            unsent = shop.query(
                "SELECT COUNT(*) FROM django_bubblehouse_outboxentry WHERE state != 'sent'"
            )
            return (
                unsent == [(0,)]
                and {key: pushes[-1].get("store_location", "") for key, pushes in orders.items()}
                == expected_orders
                and {key: pushes[-1].get("phone", "") for key, pushes in customers.items()}
                == expected_customers
            )

        left = deadline - time.monotonic()
        wait_for(delivered, "Bubblehouse to hold the database's state", timeout=left)

        def drains_done() -> int | None:
            [(count,)] = shop.query(
                "SELECT COUNT(*) FROM django_q_task WHERE func = ?",
                tasks.drain_task.__module__ + ".drain_task",
            )
            return int(count) if count >= WRITERS * ROUNDS else None

        wait_for(drains_done, "the enqueued drains to finish", timeout=deadline - time.monotonic())
        assert delivered()  # the drains that ran late sent nothing stale
        [(failed,)] = shop.query("SELECT COUNT(*) FROM django_q_task WHERE success = 0")
        assert failed == 0

    # An older state never arrives after a newer one (concurrent drains never both
    # hold a row, so no stale push can overwrite a fresh one).
    for pushes in pushes_by_id(received, "UpdateOrders4", "orders").values():
        # A new order has no store location yet: the field is left out.
        rounds = [push.get("store_location", "") for push in pushes]
        assert rounds == sorted(rounds)


LIVE_CLUSTERS = """
    import json
    from django_bubblehouse.health.clusters import live_clusters

    print(json.dumps([cluster.as_json() for cluster in live_clusters()]))
"""


def test_status_sees_a_live_cluster_through_redis(
    tmp_path: Path, fake_api: tuple[str, Received], redis_cluster_name: str
) -> None:
    api_url, _ = fake_api
    q_cluster = {"name": redis_cluster_name, "workers": 1, "timeout": 60, "retry": 90}
    shop = WorkerShop(tmp_path, api_url, {**q_cluster, "redis": REDIS_URL})
    assert json.loads(shop.run(LIVE_CLUSTERS)) == []  # none yet: "none alive", not "unknown"
    with shop.cluster():
        # django-q2 saves its first heartbeat before it spawns the workers: wait for
        # one that counts them.
        (cluster,) = wait_for(
            lambda: [c for c in json.loads(shop.run(LIVE_CLUSTERS)) if c["workers"]] or None,
            "a heartbeat of the cluster with its worker",
            30,
        )
        assert cluster["workers"] == 1
    # A stopped cluster's heartbeat expires within seconds.
    wait_for(lambda: json.loads(shop.run(LIVE_CLUSTERS)) == [] or None, "no cluster", 30)

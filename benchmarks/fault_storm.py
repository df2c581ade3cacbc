"""The outbox under a hostile Bubblehouse, with two real qcluster workers on PostgreSQL + Redis.

Storm (default): the bundled emulator answers 15 % 500, 10 % 503, 10 % connection resets,
5 % timeouts and 5 % 429 (Retry-After: 2 s) while the shop makes over 2,000 changes
(creates, updates, status changes and deletes of every kind, in bursts and single
transactions); then the faults stop. It prints lost and stale objects, failed and dead
rows, duplicate deliveries, retried 4xx, requests that left before a Retry-After
ended, and the seconds the outbox took to drain after the faults stopped. "Stale" compares
every object's current payload with the emulator's record of it (an order's customer and
products by identity: they are records of their own, compared on their own).

``--kill``: no faults, but 1-2 s per request; once batches are in flight every
qcluster process is killed with SIGKILL and restarted at once, with the app's
default settings. It prints the seconds from the kill until everything is delivered.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mydb REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python benchmarks/fault_storm.py [--kill] [--changes 2000]

The database named in DATABASE_URL is dropped and created again.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import ROOT, Clusters, clusters, manage, recreate_database, write_settings

sys.path.insert(0, str(ROOT))

STORM = {"500": 0.15, "503": 0.10, "reset": 0.10, "timeout": 0.05, "429": 0.05}
RETRY_AFTER = 2
# A request needs this long after a 429 answer before the shop can know about it: the
# answer's trip back and the hold's INSERT. Requests already on their way are not counted.
HOLD_GRACE = 0.2
DEADLINE = 600.0  # seconds any wait may take before the run is declared failed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kill", action="store_true", help="kill every worker mid-batch")
    parser.add_argument("--changes", type=int, default=2000)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # still stop the clusters
    database = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/storm")
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
    recreate_database(database)

    from django_bubblehouse.testing.emulator import EmulatorConfig, EmulatorState
    from django_bubblehouse.testing.emulator.faults import FaultConfig
    from django_bubblehouse.testing.emulator.server import EmulatorServer

    sys.path.insert(0, str(ROOT / "tests"))
    state = EmulatorState()
    server = EmulatorServer(state).start()
    work = Path(tempfile.mkdtemp(prefix="storm-"))
    # Kill mode keeps the app's defaults; the storm shortens what the faults would stretch.
    overrides = (
        {}
        if args.kill
        else {"TIMEOUT": (2, 3), "BACKOFF_CAP": 10.0, "BATCH_SIZE": 20, "PAUSE_COOLDOWN": 30}
    )
    cluster = {"timeout": 60, "retry": 90} if args.kill else {"timeout": 30, "retry": 60}
    q_cluster = {"name": f"storm-{os.getpid()}", "workers": 1, "redis": redis, "poll": 0.2}
    q_cluster |= {"catch_up": False, **cluster}
    api = {"API_HOST": server.url, **overrides}
    write_settings(work, "storm_settings", "tests.settings", database, q_cluster, api)
    os.environ["DJANGO_SETTINGS_MODULE"] = "storm_settings"
    sys.path.insert(0, str(work))
    import django

    django.setup()
    from django.conf import settings

    bubblehouse = settings.BUBBLEHOUSE
    state.reset(
        EmulatorConfig(
            shop=str(bubblehouse["SHOP"]),
            keys=_keys(),
            entity_sets={
                "authorized-dealers": None,
                "spring-cleaning-eligible-dealers": "authorized-dealers",
            },
        )
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(work), str(ROOT)])}
    manage(env, "migrate", "--run-syncdb", "-v0")
    manage(env, "bubblehouse_setup")
    print(f"emulator {server.url}, database {database.rsplit('/', 1)[-1]}, redis {redis}")
    if args.kill:
        state.set_faults(FaultConfig(latency=(1.0, 2.0)))
    else:
        state.set_faults(FaultConfig(seed=7, rates=STORM, retry_after=RETRY_AFTER, timeout_delay=4))
    if args.kill:  # a backlog first, so that the workers are surely mid-batch when killed
        _changes(args.changes)
        with clusters(work, env, 2) as running:
            _kill_mid_batch(running)
    else:
        with clusters(work, env, 2):
            _changes(args.changes, pace=0.02)
            time.sleep(10)  # the storm goes on a little after the last change
            state.set_faults(FaultConfig())
            calm = time.monotonic()
            _wait(lambda: _settled(state), "the outbox to drain", lambda: _describe(state))
            print(f"seconds to drain after the faults stopped: {time.monotonic() - calm:.1f}")
    _report(state)
    server.stop()


def _changes(target: int, pace: float = 0.0) -> None:
    started = time.monotonic()
    made = _make_changes(target, pace)
    print(f"{made} changes in {time.monotonic() - started:.1f} s")


def _keys() -> tuple[Any, ...]:
    from django_bubblehouse.conf import get_settings

    return get_settings().keys


def _make_changes(target: int, pace: float) -> int:
    """Creates, updates, status changes and deletes of every kind; returns how many."""
    from decimal import Decimal

    from django.db import transaction

    from tests.testapp.models import Collection, Customer, Dealer, Order, OrderLine, Product

    rng = random.Random(3)
    made = 0

    def count(n: int = 1) -> None:
        nonlocal made
        made += n
        if pace:
            time.sleep(pace * n)  # a shop's pace, so that the storm meets many drains

    with transaction.atomic():  # a burst: one transaction
        collections = [Collection.objects.create(title=f"C{n}", slug=f"c{n}") for n in range(10)]
        count(10)
    customers, products = [], []
    for block in range(4):
        with transaction.atomic():
            for n in range(50):
                customers.append(
                    Customer.objects.create(
                        email=f"c{block}-{n}@example.com", first_name="Ada", last_name=f"L{n}"
                    )
                )
                product = Product.objects.create(title=f"P{block}-{n}", slug=f"p{block}-{n}")
                # The last collection stays empty: it is deleted later, and a delete cascading
                # through a queryset to products is not this benchmark's subject.
                product.collections.set([rng.choice(collections[:-1])])
                products.append(product)
                count(3)
        with transaction.atomic():
            for n in range(10):
                Dealer.objects.create(code=f"D{block}-{n}", name=f"Dealer {block}-{n}")
            count(10)
    orders = []
    buyers = customers[:120]  # the other customers are deleted later, without orders
    sold = products[:150]
    per_phase = max(1, (target - made) // 5)
    for n in range(per_phase):  # single transactions
        with transaction.atomic():
            order = Order.objects.create(
                number=f"S{n}", customer=rng.choice(buyers), status="pending", placed_at=_now()
            )
            OrderLine.objects.create(
                order=order,
                product=rng.choice(sold),
                quantity=rng.randint(1, 3),
                unit_price=Decimal("19.90"),
            )
            orders.append(order)
        count(2)
    for n in range(per_phase):  # status changes, one by one
        order = orders[n % len(orders)]
        order.status = {"pending": "paid", "paid": "shipped"}.get(order.status, "refunded")
        order.save()
        count()
    for start in range(0, per_phase, 25):  # updates in bursts of 25
        with transaction.atomic():
            for n in range(start, min(start + 25, per_phase)):
                buyer = buyers[n % len(buyers)]
                buyer.phone = f"+4410{n:06d}"
                buyer.save()
                item = sold[n % len(sold)]
                item.title = f"{item.title.split(' v')[0]} v{n}"
                item.save()
                count(2)
    dealers = list(Dealer.objects.all())
    with transaction.atomic():
        for dealer in dealers[:20]:
            dealer.name += " (renamed)"
            dealer.save()
            count()
    # Deletes of every kind, some in bursts, some alone.
    for order in orders[: len(orders) // 5]:
        order.delete()
        count()
    with transaction.atomic():
        for customer in customers[150:]:
            customer.delete()
            count()
        for product in products[170:]:
            product.delete()
            count()
    collections[-1].delete()
    count()
    for dealer in dealers[-8:]:
        dealer.delete()
        count()
    return made


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()


def _kill_mid_batch(running: Clusters) -> None:
    from django_bubblehouse.models import OutboxEntry

    sending = OutboxEntry.objects.filter(state="sending")
    _wait(sending.exists, "a batch in flight")
    # Both workers mid-batch if they get there soon (two batches carry two generations).
    both = time.monotonic() + 3
    while time.monotonic() < both or not sending.exists():
        if sending.values("generation").distinct().count() >= 2:
            break
        time.sleep(0.05)  # polling, not a timing assumption
    in_flight = sending.count()
    left = OutboxEntry.objects.exclude(state__in=["sent", "skipped"]).count()
    running.kill()
    killed = time.monotonic()
    running.start()
    print(f"killed both clusters with {in_flight} rows in flight, {left} not yet delivered")
    _wait(lambda: _delivered(), "everything to be delivered after the kill")
    print(f"seconds from kill -9 to everything delivered: {time.monotonic() - killed:.1f}")


def _wait(probe: Callable[[], bool], what: str, describe: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + DEADLINE
    report_at = time.monotonic() + 60
    while not probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}: {describe()}")
        if time.monotonic() > report_at:
            print(f"still waiting for {what}: {describe()}", flush=True)
            report_at += 60
        time.sleep(1)  # polling interval of a benchmark, not a timing assumption


def _delivered() -> bool:
    from django_bubblehouse.models import OutboxEntry

    return not OutboxEntry.objects.filter(state__in=["pending", "sending"]).exists()


def _settled(state: Any) -> bool:
    return _delivered() and _compare(state)[1] == 0


def _describe(state: Any) -> str:
    expected, held = _expected(), _received(state)
    for key, payload in expected.items():
        if not _matches(payload, held.get(key)):
            return f"{key}: expected {payload}, Bubblehouse has {held.get(key)}"
    return "nothing stale"


def _expected() -> dict[tuple[str, str], dict[str, Any]]:
    """(kind, id) -> what the serializers produce now (deleted objects: their delete)."""
    from django_bubblehouse.encoding import dumps
    from django_bubblehouse.models import OutboxEntry
    from django_bubblehouse.serializers.registry import all_serializers

    expected: dict[tuple[str, str], dict[str, Any]] = {}
    for serializer_cls in all_serializers():
        kind = serializer_cls.entity_set or serializer_cls.kind.value
        keys = [str(pk) for pk in serializer_cls().get_queryset().values_list("pk", flat=True)]
        result = serializer_cls().serialize_keys(keys)
        for payload in result.payloads.values():
            expected[(kind, payload["id"])] = json.loads(dumps(payload))
        deleted = OutboxEntry.objects.filter(
            serializer=serializer_cls.label(), delete_payload__isnull=False
        ).exclude(object_key__in=keys)
        for captured in deleted.values_list("delete_payload", flat=True):
            if captured is not None:
                expected[(kind, captured["id"])] = captured
    return expected


def _received(state: Any) -> dict[tuple[str, str], dict[str, Any]]:
    with state.lock:
        held = {
            **{("orders", k): v for k, v in state.orders.items()},
            **{("customers", k): v for k, v in state.customers.items()},
            **{("products", k): v for k, v in state.products.items()},
            **{("collections", k): v for k, v in state.collections.items()},
        }
        for name in state.entity_sets:
            for entity in state.entities(name, include_deleted=True):
                held[(name, entity["id"])] = entity
    return held


def _matches(expected: dict[str, Any], record: dict[str, Any] | None) -> bool:
    if expected.get("deleted") or expected.get("status") == "canceled":
        # Gone, canceled, or never known to Bubblehouse: all the same to it.
        return record is None or bool(record.get("deleted")) or record.get("status") == "canceled"
    if record is None:
        return False
    expected, record = _own_fields(expected), _own_fields(record)
    for name, value in expected.items():
        got = record.get(name)
        if name == "variants" and isinstance(got, dict):  # the emulator keys variants by id
            got = [{k: got.get(v["id"], {}).get(k) for k in v} for v in value]
        if got != value:
            return False
    return True


def _own_fields(payload: dict[str, Any]) -> dict[str, Any]:
    """An order's customer and products are records of their own, compared on their own: in
    the order only their identity counts (an order is not pushed again when they change)."""
    own = dict(payload)
    if isinstance(own.get("customer"), dict):
        own["customer"] = own["customer"].get("id") or own["customer"].get("email")
    if isinstance(own.get("items"), list):
        own["items"] = [{**item, "product": item["product"]["id"]} for item in own["items"]]
    return own


def _compare(state: Any) -> tuple[int, int, list[str]]:
    expected, held = _expected(), _received(state)
    lost = [key for key in expected if key not in held and not _matches(expected[key], None)]
    stale = [key for key in expected if key in held and not _matches(expected[key], held[key])]
    return len(lost), len(lost) + len(stale), [f"{k[0]} {k[1]}" for k in (lost + stale)[:5]]


def _report(state: Any) -> None:
    from django_bubblehouse.models import OutboxEntry

    lost, lost_or_stale, examples = _compare(state)
    rows = Counter(OutboxEntry.objects.values_list("state", flat=True))
    with state.lock:
        requests = list(state.requests)
    accepted: dict[tuple[str, str], list[str]] = defaultdict(list)
    for request in requests:
        if request.status == 200 and isinstance(request.body, dict):
            for listing in ("orders", "customers", "products", "collections", "entities"):
                for item in request.body.get(listing, ()):
                    accepted[(listing, str(item.get("id")))].append(
                        json.dumps(item, sort_keys=True)
                    )
    duplicates = sum(
        1
        for pushes in accepted.values()
        for before, after in itertools.pairwise(pushes)
        if before == after
    )
    bodies = Counter(json.dumps(r.body, sort_keys=True) for r in requests if r.func)
    rejected = {
        json.dumps(r.body, sort_keys=True)
        for r in requests
        if r.status is not None and 400 <= r.status < 500 and r.status != 429
    }
    retried_4xx = sum(bodies[body] - 1 for body in rejected)
    limited = [r.received_at for r in requests if r.fault == "429"]
    early = sum(
        1
        for t in limited
        for r in requests
        if t + HOLD_GRACE < r.received_at < t + RETRY_AFTER and r.func is not None
    )
    faults = Counter(r.fault or "ok" for r in requests)
    print(f"requests: {len(requests)} ({', '.join(f'{k} {v}' for k, v in sorted(faults.items()))})")
    print(f"lost: {lost}")
    print(f"stale: {lost_or_stale - lost}{' e.g. ' + ', '.join(examples) if examples else ''}")
    print(f"failed rows: {rows.get('failed', 0)}, dead rows: {rows.get('dead', 0)}")
    print(f"duplicate deliveries (same payload accepted twice in a row): {duplicates}")
    print(f"retried 4xx: {retried_4xx}")
    print(f"requests sent before a Retry-After ended: {early} (after {len(limited)} 429s)")


if __name__ == "__main__":
    main()

"""What one reconciliation run costs: 100,000 orders, 1 % of them changed without a signal.

    .venv/bin/python benchmarks/reconcile.py [--rows 100000] [--changed 0.01]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scratch .venv/bin/python benchmarks/reconcile.py

Builds the framework-shaped shop's orders (tests/framework_shop) on a throwaway
file SQLite database and, when DATABASE_URL is set, on that database too (each
backend in its own process; the benchmark migrates it, so give it a scratch
database). The orders' ``date_updated`` (indexed, as the README asks) is spread
over 30 days and the outbox holds a delivered row for every order of the last
7 days (RETENTION), each recorded after its update. The previous run's
watermark is five minutes old; in those five minutes ``changed`` of the orders
were updated with ``QuerySet.update()`` (no signal). The timed run is one
``reconcile()``; a second run right after it shows the cost when nothing changed.
It prints the queries, the seconds, the rows read and marked, and the query
plan of the range query (it must use the index on ``date_updated``).
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from harness import BACKENDS, ROOT, configure, each_backend

sys.path.insert(0, str(ROOT))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--changed", type=float, default=0.01, help="share changed (0.01)")
    parser.add_argument("--backend", choices=BACKENDS, help="one backend only")
    args = parser.parse_args()
    if each_backend(args.backend, ["--rows", str(args.rows), "--changed", str(args.changed)]):
        return
    import tests.settings as base
    from tests.framework_shop import config

    bubblehouse = {
        **base.BUBBLEHOUSE,
        "SERIALIZERS": config.SERIALIZERS,
        "ORDER_STATUS_MAP": config.ORDER_STATUS_MAP,
    }
    with tempfile.TemporaryDirectory() as tmp:
        configure(base, Path(tmp) / "bench.sqlite3", args.backend, BUBBLEHOUSE=bubblehouse)
        run(args.rows, args.changed)


def run(rows: int, changed: float) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.db.models import F
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from django_bubblehouse.models import OutboxEntry, OutboxState, ReconcileMark
    from django_bubblehouse.outbox import wakeup
    from django_bubblehouse.reconcile import OVERLAP, reconcile
    from tests.framework_shop.bubblehouse import OrderSerializer
    from tests.framework_shop.models import Order

    call_command("migrate", run_syncdb=True, verbosity=0)
    Order.objects.all().delete()
    OutboxEntry.objects.all().delete()
    ReconcileMark.objects.all().delete()
    now = timezone.now()
    rng = random.Random(11)
    label = OrderSerializer.label()
    with transaction.atomic():
        Order.objects.bulk_create(
            (
                Order(
                    number=f"{100000 + i}",
                    guest_email=f"g{i}@example.com",
                    status="Complete",
                    total_incl_tax=Decimal("24.00"),
                    total_excl_tax=Decimal("20.00"),
                    date_placed=now - dt.timedelta(seconds=rng.uniform(600, 30 * 86400)),
                )
                for i in range(rows)
            ),
            batch_size=5000,
        )
        Order.objects.update(date_updated=F("date_placed"))  # bulk_create stamped them all now
        retention = now - dt.timedelta(days=7)
        recent = list(
            Order.objects.filter(date_updated__gte=retention).values_list("pk", "date_updated")
        )
        OutboxEntry.objects.bulk_create(
            (
                OutboxEntry(
                    kind="orders",
                    serializer=label,
                    object_key=str(pk),
                    state=OutboxState.SENT,
                    created_at=updated,
                    updated_at=updated + dt.timedelta(seconds=1),
                    sent_at=updated + dt.timedelta(seconds=2),
                )
                for pk, updated in recent
            ),
            batch_size=5000,
        )
        ReconcileMark.objects.create(
            serializer=label, reconciled_until=now - dt.timedelta(minutes=5)
        )
        pks = list(Order.objects.values_list("pk", flat=True))
        chosen = rng.sample(pks, int(rows * changed))
        for start in range(0, len(chosen), 500):
            Order.objects.filter(pk__in=chosen[start : start + 500]).update(
                status="Refunded", date_updated=now - dt.timedelta(seconds=rng.uniform(1, 240))
            )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"{connection.vendor}: {rows:,} orders, {len(chosen):,} changed by update() since the "
        f"last run, {len(recent):,} delivered outbox rows, window = 5 min + {OVERLAP}"
    )
    for label_run in ("changed", "nothing changed"):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            report = reconcile()
            seconds = time.perf_counter() - started
        wakeup.flush(60.0)  # the after-commit wake-up check runs on its own thread
        print(
            f"  reconcile ({label_run}): {len(queries)} queries, {seconds:.3f} s, "
            f"{report.checked:,} rows read, {report.marked:,} marked dirty"
        )
    since = timezone.now() - OVERLAP
    plan = Order.objects.filter(date_updated__gte=since, date_updated__lt=timezone.now())
    print("  plan of the range query:", plan.values_list("pk", "date_updated").explain())


if __name__ == "__main__":
    main()

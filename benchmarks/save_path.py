"""What change capture costs a host's save: the app on vs AUTO_SYNC off, in one run.

    .venv/bin/python benchmarks/save_path.py [--orders 2000] [--rounds 5]

Saves orders one transaction each (and 50 saves of one order per transaction)
on a file SQLite database (or DATABASE_URL), with django-q2's real ORM broker
and sync off, so the timed part pays exactly what a shop's save pays: the outbox
upsert inside the transaction, and after commit the drain-request UPDATE plus
an enqueue whenever the flag was clear. No worker runs and nothing is sent.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def configure(database: Path) -> None:
    import dj_database_url

    import tests.settings as base

    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
    url = os.environ.get("DATABASE_URL")
    values["DATABASES"] = {
        "default": dj_database_url.parse(url)
        if url
        else {"ENGINE": "django.db.backends.sqlite3", "NAME": str(database)}
    }
    values["Q_CLUSTER"] = {**base.Q_CLUSTER, "sync": False}
    settings.configure(**values)
    django.setup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=2000, help="transactions per timed run")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        configure(Path(tmp) / "bench.sqlite3")
        run(args.orders, args.rounds)


def run(transactions: int, rounds: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext, override_settings
    from django_q.models import OrmQ

    from django_bubblehouse.models import DrainRequest
    from tests import shop_factories as shop

    logging.getLogger("django-q").setLevel(logging.WARNING)
    call_command("migrate", run_syncdb=True, verbosity=0)
    order = shop.order(customer=shop.customer())
    off = override_settings(BUBBLEHOUSE={**settings.BUBBLEHOUSE, "AUTO_SYNC": False})

    def one_save_each(reset_flag: bool = False) -> float:
        """Seconds spent in the host's transactions (commit and on-commit work included)."""
        spent = 0.0
        for number in range(transactions):
            if reset_flag:  # a worker's drain clears the flag: untimed, it is not host cost
                DrainRequest.objects.update(requested=False)
            started = time.perf_counter()
            with transaction.atomic():
                order.store_location = str(number)
                order.save()
            spent += time.perf_counter() - started
        return spent

    def drain_started_every_time() -> float:
        return one_save_each(reset_flag=True)

    def compare(label: str, work: Callable[[], float]) -> None:
        on, unsynced = [], []
        for _ in range(rounds):  # interleaved, so drift hits both sides alike
            with off:
                unsynced.append(work())
            on.append(work())
        base, synced = statistics.median(unsynced), statistics.median(on)
        print(
            f"{label:<44} off {base / transactions * 1e6:7.1f} us/tx"
            f"   on {synced / transactions * 1e6:7.1f} us/tx   ratio {synced / base:.2f}"
        )

    def added_queries(saves: int) -> tuple[int, int]:
        def one_transaction() -> int:
            with CaptureQueriesContext(connection) as queries, transaction.atomic():
                for number in range(saves):
                    order.store_location = f"q{number}"
                    order.save()
            return len(queries)

        with off:
            without = one_transaction()
        return without, one_transaction()

    print(f"database: {connection.vendor}; {transactions} transactions x {rounds} rounds")
    compare("1 save per transaction (flag already set)", one_save_each)
    enqueued_before = OrmQ.objects.count()
    compare("1 save per transaction (enqueue every time)", drain_started_every_time)
    print(f"  drains enqueued in the worst case: {OrmQ.objects.count() - enqueued_before}")
    for saves in (1, 50):
        DrainRequest.objects.update(requested=False)
        without, with_app = added_queries(saves)
        print(
            f"queries in a transaction of {saves:>2} save(s): {without} without the app, "
            f"{with_app} with it (+{with_app - without}, incl. the first enqueue)"
        )
        without, with_app = added_queries(saves)
        print(f"  same, flag already set: +{with_app - without}")


if __name__ == "__main__":
    main()

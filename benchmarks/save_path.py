"""What change capture costs a host's save: the app on vs AUTO_SYNC off, in one run.

    .venv/bin/python benchmarks/save_path.py [--transactions 2000] [--rounds 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scratch .venv/bin/python benchmarks/save_path.py

Saves N orders in N transactions on a throwaway file SQLite database
and, when DATABASE_URL is set, on that database too (each backend in its own
process; the benchmark migrates it, so give it a scratch database). django-q2
uses its real ORM broker with sync off, so the timed part pays exactly what a
shop's save pays: the outbox upsert inside the transaction, and after commit the
drain-request read, plus an enqueue whenever the flag was clear. No worker runs
and nothing is sent.

Both arms save the same orders in alternating blocks of transactions, so load
on the machine hits them alike; each figure is the median of the blocks' per
transaction times. The orders are created first (captured, as a shop's would be),
so every timed save refreshes an existing outbox row. Switching AUTO_SYNC clears
the app's caches, so every block starts with one untimed save, as a long-running
process would have warm caches.
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import django
from django.conf import settings

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BACKENDS = ("sqlite", "postgresql")
BLOCK = 100  # transactions per block; an arm's figure is the median over its blocks


def configure(database: Path, url: str | None) -> None:
    import dj_database_url

    import tests.settings as base

    values = {name: getattr(base, name) for name in dir(base) if name.isupper()}
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
    parser.add_argument(
        "--transactions", "--orders", type=int, default=2000, help="per arm and round"
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        help="run one backend only (default: SQLite, then DATABASE_URL's database if set)",
    )
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL")
    if args.backend is None and url:
        for backend in BACKENDS:
            command = [sys.executable, __file__, "--backend", backend]
            command += ["--transactions", str(args.transactions), "--rounds", str(args.rounds)]
            subprocess.run(command, check=True)
            print()
        return
    if args.backend == "postgresql" and not url:
        parser.error("--backend postgresql needs DATABASE_URL")
    with tempfile.TemporaryDirectory() as tmp:
        configure(Path(tmp) / "bench.sqlite3", url if args.backend == "postgresql" else None)
        run(args.transactions, args.rounds)


def run(transactions: int, rounds: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext, override_settings
    from django_q.models import OrmQ

    from django_bubblehouse.models import DrainRequest
    from tests import shop_factories as shop

    logging.getLogger("django-q").setLevel(logging.WARNING)
    call_command("migrate", run_syncdb=True, verbosity=0)
    blocks = max(1, transactions // BLOCK)
    customer = shop.customer()
    orders = [shop.order(customer=customer) for _ in range(blocks * BLOCK)]
    order = orders[0]
    off = override_settings(BUBBLEHOUSE={**settings.BUBBLEHOUSE, "AUTO_SYNC": False})

    def save(number: int) -> float:
        """Seconds spent in one host transaction (commit and on-commit work included)."""
        saved = orders[number]
        started = time.perf_counter()
        with transaction.atomic():
            saved.store_location = str(number)
            saved.save()
        return time.perf_counter() - started

    def flag_cleared(number: int) -> float:
        # A worker's drain clears the flag between commits: untimed, it is not host cost.
        DrainRequest.objects.update(requested=False)
        return save(number)

    def block(work: Callable[[int], float], first: int) -> float:
        work(first)  # warms the caches the AUTO_SYNC switch cleared
        return sum(work(number) for number in range(first, first + BLOCK)) / BLOCK

    def compare(label: str, work: Callable[[int], float]) -> None:
        unsynced, synced = [], []
        for _ in range(rounds):
            for first in range(0, blocks * BLOCK, BLOCK):
                with off:
                    unsynced.append(block(work, first))
                synced.append(block(work, first))
        base, on = statistics.median(unsynced), statistics.median(synced)
        print(
            f"{label:<44} off {base * 1e6:7.1f} us/tx   on {on * 1e6:7.1f} us/tx"
            f"   ratio {on / base:.2f}"
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

    print(
        f"database: {connection.vendor}; {blocks * BLOCK} transactions per arm x {rounds} rounds"
        f" (blocks of {BLOCK})"
    )
    compare("1 save per transaction (flag already set)", save)
    enqueued_before = OrmQ.objects.count()
    compare("1 save per transaction (enqueue every time)", flag_cleared)
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

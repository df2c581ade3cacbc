"""What change capture costs a host's save: the app on vs AUTO_SYNC off, in one run.

    .venv/bin/python benchmarks/save_path.py [--transactions 2000] [--rounds 5]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scratch .venv/bin/python benchmarks/save_path.py

Saves N orders in N transactions on a throwaway file SQLite database
and, when DATABASE_URL is set, on that database too (each backend in its own
process; the benchmark migrates it, so give it a scratch database). django-q2
uses its real ORM broker with sync off, so the timed part pays exactly what a
shop's save pays on its own thread: the outbox upsert inside the transaction and,
after commit, signalling the waker. The waker's check (the drain-request read,
plus an enqueue whenever the flag was clear) runs on its own thread, during the
timed part where it overlaps it; what it does is reported separately: checks and
enqueues per 1,000 commits, and the time per transaction when each block also
waits for the waker to finish (``flush``). No worker runs and nothing is sent.

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
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from harness import BACKENDS, ROOT, configure, each_backend

sys.path.insert(0, str(ROOT))
BLOCK = 100  # transactions per block; an arm's figure is the median over its blocks
TIMEOUT = 60.0  # bound on waiting for the waker


class CountedChecks:
    """Stands in for the waker's flag check: counts its runs and, when asked, its queries
    (on the waker's own connection, the one current on the thread that runs it)."""

    def __init__(self, check: Callable[[], bool]) -> None:
        self.check = check
        self.runs = self.queries = 0
        self.capture = False

    def __call__(self) -> bool:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        self.runs += 1
        if not self.capture:
            return self.check()
        with CaptureQueriesContext(connection) as queries:
            try:
                return self.check()
            finally:
                self.queries += len(queries)


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
    if each_backend(
        args.backend, ["--transactions", str(args.transactions), "--rounds", str(args.rounds)]
    ):
        return
    import tests.settings as base

    with tempfile.TemporaryDirectory() as tmp:
        configure(base, Path(tmp) / "bench.sqlite3", args.backend)
        run(args.transactions, args.rounds)


def run(transactions: int, rounds: int) -> None:
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext, override_settings
    from django_q.models import OrmQ

    from django_bubblehouse.models import DrainRequest
    from django_bubblehouse.outbox import wakeup
    from tests import shop_factories as shop

    logging.getLogger("django-q").setLevel(logging.WARNING)
    call_command("migrate", run_syncdb=True, verbosity=0)
    blocks = max(1, transactions // BLOCK)
    customer = shop.customer()
    orders = [shop.order(customer=customer) for _ in range(blocks * BLOCK)]
    order = orders[0]
    off = override_settings(BUBBLEHOUSE={**settings.BUBBLEHOUSE, "AUTO_SYNC": False})
    checks = CountedChecks(wakeup.request_drain)
    wakeup.request_drain = checks

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
        wakeup.flush(TIMEOUT)  # so that this commit's check finds the flag clear
        DrainRequest.objects.update(requested=False)
        return save(number)

    def block(work: Callable[[int], float], first: int) -> tuple[float, float]:
        """Host seconds per transaction, and wall seconds per transaction until the
        waker is idle again."""
        work(first)  # warms the caches the AUTO_SYNC switch cleared
        wakeup.flush(TIMEOUT)
        started = time.perf_counter()
        host = sum(work(number) for number in range(first, first + BLOCK))
        wakeup.flush(TIMEOUT)
        return host / BLOCK, (time.perf_counter() - started) / BLOCK

    def compare(label: str, work: Callable[[int], float]) -> None:
        unsynced, synced, synced_flushed = [], [], []
        checks_before, enqueued_before = checks.runs, OrmQ.objects.count()
        for _ in range(rounds):
            for first in range(0, blocks * BLOCK, BLOCK):
                with off:
                    unsynced.append(block(work, first)[0])
                host, flushed = block(work, first)
                synced.append(host)
                synced_flushed.append(flushed)
        base, on = statistics.median(unsynced), statistics.median(synced)
        print(
            f"{label:<44} off {base * 1e6:7.1f} us/tx   on {on * 1e6:7.1f} us/tx"
            f"   ratio {on / base:.2f}"
        )
        commits = rounds * blocks * (BLOCK + 1)
        print(
            f"  waker, off the host thread: {(checks.runs - checks_before) * 1000 / commits:.0f}"
            f" checks and {(OrmQ.objects.count() - enqueued_before) * 1000 / commits:.0f}"
            f" enqueues per 1000 commits; waiting for it at each block's end:"
            f" {statistics.median(synced_flushed) * 1e6:.1f} us/tx"
        )

    def added_queries(saves: int) -> tuple[int, int, int]:
        """Queries on the host thread without and with the app, and the waker's."""

        def one_transaction() -> int:
            with CaptureQueriesContext(connection) as queries, transaction.atomic():
                for number in range(saves):
                    order.store_location = f"q{number}"
                    order.save()
            wakeup.flush(TIMEOUT)
            return len(queries)

        with off:
            without = one_transaction()
        checks.capture, checks.queries = True, 0
        with_app = one_transaction()
        checks.capture = False
        return without, with_app, checks.queries

    print(
        f"database: {connection.vendor}; {blocks * BLOCK} transactions per arm x {rounds} rounds"
        f" (blocks of {BLOCK})"
    )
    compare("1 save per transaction (flag already set)", save)
    compare("1 save per transaction (enqueue every time)", flag_cleared)
    for saves in (1, 50):
        DrainRequest.objects.update(requested=False)
        without, with_app, by_waker = added_queries(saves)
        print(
            f"queries in a transaction of {saves:>2} save(s): {without} without the app, "
            f"{with_app} with it on the host thread (+{with_app - without}),"
            f" +{by_waker} off it (incl. the first enqueue)"
        )
        without, with_app, by_waker = added_queries(saves)
        print(
            f"  same, flag already set: +{with_app - without} on the host thread,"
            f" +{by_waker} off it"
        )


if __name__ == "__main__":
    main()

"""A backlog drained by 1, 2 and 4 django-q2 workers: real ``qcluster`` processes on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scratch REDIS_URL=redis://127.0.0.1:6379/5 \\
        .venv/bin/python benchmarks/worker_scaling.py [--orders 10000] [--rounds 3] \\
        [--workers 1,2,4] [--latency 0,0.03]

The example shop (its schema, serializers and settings) on DATABASE_URL's
database, which is dropped and created again, seeded with N orders of 3 lines
(as in ``backfill_vs_limit.py``). An arm starts one ``qcluster`` with W workers
(Redis broker) and ``DRAIN_PARALLELISM`` W, waits until every worker has run the
sweep it enqueues when it starts, then marks all N orders dirty in one
transaction, as a bulk change would: its commit wakes one drain. The arm's time
runs from that commit until no row is pending or sending. The drains push to the
bundled emulator in its own process, answering at once or after ``--latency``
seconds per request (Bubblehouse is across the internet); afterwards it tells
how often each order arrived: an order accepted twice is a duplicate delivery
(nothing changed it in between), one never accepted is lost. "cores" is the CPU
time of the cluster's processes over the arm's time, "busy" the whole machine's
(PostgreSQL, the emulator and anything else running): what was left to the drains.

The arms alternate within each round, in an order that rotates from round to
round, so load on the machine hits them alike; figures are medians. Speed-ups
are against the first worker count at the same latency: of the medians, and
the median of each round's own ratio (arms of one round run minutes apart at
most, so a load that comes and goes skews them less).
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from harness import (
    ROOT,
    clusters,
    emulator_call,
    emulator_process,
    recreate_database,
    write_settings,
)

DEADLINE = 900.0  # seconds any wait may take before the run is declared failed
TICKS = os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", default="1,2,4", help="worker counts, comma-separated")
    parser.add_argument("--latency", default="0,0.03", help="seconds per request, comma-separated")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("stopped"))  # still stop the cluster
    database = os.environ.get("DATABASE_URL", "")
    if not database.startswith("postgres"):
        sys.exit("set DATABASE_URL to a scratch PostgreSQL database (it is dropped)")
    redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/9")
    workers = [int(n) for n in args.workers.split(",")]
    latencies = [float(s) for s in args.latency.split(",")]
    recreate_database(database)
    sys.path[:0] = [str(ROOT / "example_project")]
    import config.settings as example

    work = Path(tempfile.mkdtemp(prefix="scaling-"))
    with emulator_process(example.BUBBLEHOUSE) as api:
        for count in workers:
            q_cluster = {
                "name": f"scaling-{os.getpid()}",  # one at a time: the arms share its queue
                "workers": count,
                "timeout": 60,
                "retry": 90,
                "redis": redis,
                "catch_up": False,
            }
            bubblehouse = {"API_HOST": api, "DEBUG_MODE": False, "DRAIN_PARALLELISM": count}
            write_settings(
                work, settings_module(count), "config.settings", database, q_cluster, bubblehouse
            )
        path = [str(work), str(ROOT), str(ROOT / "example_project")]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(path), "DJANGO_DEBUG": "0"}
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module(workers[0])
        sys.path[:0] = [str(work)]
        import django

        django.setup()
        from backfill_vs_limit import seed
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        seed(args.orders)
        print(
            f"{args.orders} orders x 3 lines, batch 100, {args.rounds} rounds,"
            f" database {database.rsplit('/', 1)[-1]}, redis {redis}, emulator {api}"
        )
        arms = [(latency, count) for latency in latencies for count in workers]
        results: dict[tuple[float, int], list[Arm]] = defaultdict(list)
        for round_ in range(args.rounds):
            shift = round_ % len(arms)
            for latency, count in arms[shift:] + arms[:shift]:
                arm = run_arm(api, work, env, count, latency, args.orders)
                results[latency, count].append(arm)
                print(f"  round {round_ + 1}: {arm}", flush=True)
    report(results, latencies, workers, args.orders)


def settings_module(workers: int) -> str:
    return f"scaling_w{workers}"


class Arm:
    def __init__(self, workers: int, latency: float) -> None:
        self.workers, self.latency = workers, latency
        self.seconds = self.cores = self.busy = 0.0
        self.duplicates = self.lost = self.requests = self.drains = 0

    def __str__(self) -> str:
        return (
            f"{self.workers} worker(s), {self.latency * 1000:.0f} ms: {self.seconds:.2f} s,"
            f" {self.cores:.2f} cores (machine busy {self.busy:.2f}), {self.requests} requests,"
            f" {self.drains} drains started, {self.duplicates} duplicates, {self.lost} lost"
        )


def run_arm(
    api: str, work: Path, env: dict[str, str], workers: int, latency: float, orders: int
) -> Arm:
    from backfill_vs_limit import prepare_drain
    from django.utils import timezone
    from django_q.brokers import get_broker
    from django_q.models import Success

    from django_bubblehouse.models import OutboxEntry
    from django_bubblehouse.tasks import SWEEP_TASK

    get_broker().purge_queue()  # drains a stopped cluster left enqueued
    emulator_call(api, "reset", {})
    emulator_call(api, "faults", {"latency": [latency, latency]})
    vacuum()  # every arm starts from the same tables, not from its predecessor's dead rows
    started = timezone.now()
    log = work / "qcluster-0.log"
    offset = len(log.read_text()) if log.exists() else 0
    with clusters(work, {**env, "DJANGO_SETTINGS_MODULE": settings_module(workers)}) as cluster:
        # Every worker sweeps once when it starts: once they all have, the cluster is up.
        swept = Success.objects.filter(func=SWEEP_TASK, started__gte=started)
        wait(lambda: swept.count() >= workers, "the workers to start")
        prepare_drain()
        group = cluster.processes[0].pid
        clock, cpu, busy = time.perf_counter(), group_cpu(group), machine_busy()
        undelivered = OutboxEntry.objects.filter(state__in=["pending", "sending"])
        wait(lambda: not undelivered.exists(), "the outbox to drain", interval=0.1)
        arm = Arm(workers, latency)
        arm.seconds = time.perf_counter() - clock
        arm.cores = (group_cpu(group) - cpu) / arm.seconds
        arm.busy = (machine_busy() - busy) / arm.seconds
    # Started, from the cluster's log: a sibling still waiting for rows when the cluster is
    # stopped never records a result.
    arm.drains = log.read_text()[offset:].count("processing bubblehouse drain")
    received: Counter[str] = Counter()
    for request in emulator_call(api, "requests"):
        if request["status"] == 200 and request["func"] == "UpdateOrders4":
            arm.requests += 1
            received.update(str(order["id"]) for order in request["body"]["orders"])
    arm.duplicates = sum(times - 1 for times in received.values())
    arm.lost = orders - len(received)
    return arm


def vacuum() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


def group_cpu(group: int) -> float:
    """CPU seconds (user + system) of the live processes in process group ``group``."""
    total = 0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == group:  # pgrp; utime and stime follow at 11 and 12
            total += int(fields[11]) + int(fields[12])
    return total / TICKS


def machine_busy() -> float:
    """CPU seconds the whole machine has spent on anything but idling, since boot."""
    times = [int(field) for field in Path("/proc/stat").read_text().split()[1:9]]
    return (sum(times) - times[3] - times[4]) / TICKS  # all but idle and iowait


def wait(probe: Any, what: str, interval: float = 0.5) -> None:
    deadline = time.monotonic() + DEADLINE
    while not probe():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(interval)  # polling interval of a benchmark, not a timing assumption


def report(
    results: dict[tuple[float, int], list[Arm]],
    latencies: list[float],
    workers: list[int],
    orders: int,
) -> None:
    for latency in latencies:
        first = results[latency, workers[0]]
        base = statistics.median(arm.seconds for arm in first)
        print(f"latency {latency * 1000:.0f} ms per request:")
        for count in workers:
            arms = results[latency, count]
            median = statistics.median(arm.seconds for arm in arms)
            per_round = [one.seconds / arm.seconds for one, arm in zip(first, arms, strict=True)]
            print(
                f"  {count} worker(s): {median:6.2f} s  {orders / median:5.0f} orders/s"
                f"  speed-up {base / median:4.2f}x (per round {statistics.median(per_round):4.2f}x)"
                f"  cores {statistics.median(arm.cores for arm in arms):4.2f}"
                f" busy {statistics.median(arm.busy for arm in arms):4.2f}"
                f"  duplicates {sum(arm.duplicates for arm in arms)}"
                f"  lost {sum(arm.lost for arm in arms)}"
                f"  (rounds: {', '.join(f'{arm.seconds:.2f}' for arm in arms)})"
            )


if __name__ == "__main__":
    main()

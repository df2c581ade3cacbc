"""Is the sync healthy? Counts, lag, pauses, errors, workers; an exit code for monitors."""

from __future__ import annotations

import json
from argparse import ArgumentParser
from datetime import datetime
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_bubblehouse.health import HealthReport, collect
from django_bubblehouse.health.report import SerializerCounts, describe_scope, duration
from django_bubblehouse.models import Pause

UNHEALTHY_EXIT = 2
COLUMNS = ("pending", "sending", "failed", "dead")


class Command(BaseCommand):
    help = (
        "Show the Bubblehouse sync's health: rows per serializer and state, the sync lag, "
        "pauses, top errors, the last drain and django-q2 clusters. Exits 0 when healthy, "
        f"{UNHEALTHY_EXIT} with a one-line reason when a HEALTH_* threshold is passed."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--json", action="store_true", help="machine-readable output")

    def handle(self, *args: Any, **options: Any) -> None:
        report = collect()
        if options["json"]:
            self.stdout.write(json.dumps(report.as_json(), indent=2))
        else:
            self.write_human(report)
        if not report.healthy:
            raise CommandError(report.summary(), returncode=UNHEALTHY_EXIT)

    def write_human(self, report: HealthReport) -> None:
        now = report.checked_at
        out = self.stdout.write
        if report.healthy:
            out(self.style.SUCCESS(f"Bubblehouse sync: {report.summary()}"))
        else:
            out(self.style.ERROR("Bubblehouse sync: unhealthy"))
            for problem in report.problems:
                out(self.style.ERROR(f"  ! {problem.message}"))
        kinds = [_kind(counts) for counts in report.serializers]
        width = max([len("serializer"), *(len(c.serializer) for c in report.serializers)])
        kind_width = max([len("kind"), *map(len, kinds)])
        out("")
        out(
            f"{'serializer':<{width}}  {'kind':<{kind_width}}" + "".join(f"{c:>9}" for c in COLUMNS)
        )
        for counts, kind in zip(report.serializers, kinds, strict=True):
            numbers = "".join(f"{getattr(counts, column):>9}" for column in COLUMNS)
            oldest = counts.oldest_pending_at
            age = f"  oldest {duration((now - oldest).total_seconds())}" if oldest else ""
            out(f"{counts.serializer:<{width}}  {kind:<{kind_width}}{numbers}{age}")
        out("")
        out(f"Sync lag (oldest pending change): {duration(report.lag_seconds)}")
        if not report.pauses:
            out("Pauses: none")
        for pause in report.pauses:
            out(_pause(pause, now))
        errors = (
            ", ".join(f"{e.error_id} x{e.rows} (e.g. {e.example})" for e in report.top_errors)
            or "none"
        )
        out(f"Top errors of failed/dead rows: {errors}")
        out(f"Last drain started: {_when(report.last_drain_at, now)}")
        out(f"Drains running: {_drains(report)}")
        out(f"Last successful push: {_when(report.last_sent_at, now)}")
        out(f"django-q2 clusters: {_clusters(report)}")
        orphans = ", ".join(f"{label} ({rows})" for label, rows in report.orphans.items())
        out(f"Rows of unregistered serializers: {orphans or 'none'}")


def _pause(pause: Pause, now: datetime) -> str:
    if pause.scope == Pause.THROTTLE:  # a hold that ends by itself: nothing to probe or resume
        return (
            f"Rate-limited by Bubblehouse (HTTP {pause.status}): every request waits until "
            f"{_when(pause.probe_at, now)}; {pause.reason}"
        )
    scope = "" if pause.scope == Pause.ALL else repr(pause.scope)
    return (
        f"Paused {describe_scope(pause.scope)} since {_when(pause.since, now)}"
        f"{f' ({pause.error_id})' if pause.error_id else ''}: {pause.reason}; "
        f"next probe {_when(pause.probe_at, now)} (once fixed, resume at once: the outbox "
        f"admin's Resume now, or django_bubblehouse.outbox.resume({scope}) in manage.py shell)"
    )


def _kind(counts: SerializerCounts) -> str:
    return f"{counts.kind}:{counts.entity_set}" if counts.entity_set else counts.kind


def _when(moment: datetime | None, now: datetime) -> str:
    if moment is None:
        return "never"
    seconds = (now - moment).total_seconds()
    relative = f"{duration(seconds)} ago" if seconds >= 0 else f"in {duration(-seconds)}"
    return f"{moment:%Y-%m-%d %H:%M:%S} UTC ({relative})"


def _drains(report: HealthReport) -> str:
    line = f"{report.running_drains} of {report.drain_parallelism} (DRAIN_PARALLELISM)"
    # Workers are per cluster process, so only the live clusters tell how many there are.
    workers = sum(cluster.workers for cluster in report.clusters or ())
    if report.clusters and workers < report.drain_parallelism:
        line += (
            f"; the live clusters have {workers} worker(s) in all, so fewer drains can run,"
            " and during a backlog they take every worker"
        )
    return line


def _clusters(report: HealthReport) -> str:
    if report.clusters is None:
        return "unknown (the broker shares no heartbeats with this process; see Last drain)"
    if not report.clusters:
        return "none alive"
    alive = ", ".join(
        f"{c.cluster_id} on {c.host} ({c.status}, {c.workers} worker(s))" for c in report.clusters
    )
    return f"{len(report.clusters)} alive: {alive}"

"""What an operator needs to know about the sync, and whether it is healthy.

Everything comes from this app's own tables (outbox counts, pauses, the time the
last drain started) plus django-q2's cluster heartbeats when its broker shares
them between processes. :func:`collect` runs a fixed handful of queries, however
large the outbox is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Max, Min, Value
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone

from ..conf import get_settings
from ..models import TERMINAL_STATES, BackfillRun, OutboxEntry, OutboxState, Pause
from ..outbox import slots
from ..outbox.orphans import orphaned_serializers
from ..outbox.wakeup import last_drain_at
from ..serializers.registry import all_serializers
from .clusters import ClusterInfo, live_clusters

WAITING_STATES = (OutboxState.PENDING, OutboxState.SENDING)
TOP_ERRORS = 5


@dataclass
class SerializerCounts:
    serializer: str
    kind: str
    entity_set: str | None = None
    pending: int = 0
    sending: int = 0
    failed: int = 0
    dead: int = 0
    oldest_pending_at: datetime | None = None


@dataclass(frozen=True)
class TopError:
    error_id: str
    rows: int
    example: str  # one of its rows, "<kind> <key>", for the operator to look up


@dataclass(frozen=True)
class Problem:
    code: str  # no_worker, lag, failures, paused, orphaned_rows
    message: str


@dataclass
class HealthReport:
    checked_at: datetime
    serializers: list[SerializerCounts]
    pauses: list[Pause]
    top_errors: list[TopError]
    last_drain_at: datetime | None
    running_drains: int
    drain_parallelism: int
    last_sent_at: datetime | None
    clusters: list[ClusterInfo] | None  # None: the broker shares no heartbeats to read
    orphans: dict[str, int]
    problems: list[Problem] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.problems

    @property
    def waiting(self) -> int:
        """Rows still to be sent: pending or being sent."""
        return sum(counts.pending + counts.sending for counts in self.serializers)

    @property
    def failed(self) -> int:
        return sum(counts.failed for counts in self.serializers)

    @property
    def dead(self) -> int:
        return sum(counts.dead for counts in self.serializers)

    @property
    def terminal(self) -> int:
        return self.failed + self.dead

    @property
    def oldest_pending_at(self) -> datetime | None:
        times = [c.oldest_pending_at for c in self.serializers if c.oldest_pending_at]
        return min(times, default=None)

    @property
    def lag_seconds(self) -> float:
        """How long the oldest pending change has waited (0 when nothing waits)."""
        oldest = self.oldest_pending_at
        return (self.checked_at - oldest).total_seconds() if oldest else 0.0

    def summary(self) -> str:
        """One line for a monitor: "healthy", or every problem."""
        if self.healthy:
            return f"healthy: {self.waiting} row(s) waiting, lag {duration(self.lag_seconds)}"
        return "unhealthy: " + "; ".join(problem.message for problem in self.problems)

    def as_json(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "summary": self.summary(),
            "problems": [{"code": p.code, "message": p.message} for p in self.problems],
            "checked_at": self.checked_at.isoformat(),
            "lag_seconds": round(self.lag_seconds, 1),
            "oldest_pending_at": _iso(self.oldest_pending_at),
            "serializers": [
                {**vars(counts), "oldest_pending_at": _iso(counts.oldest_pending_at)}
                for counts in self.serializers
            ],
            "pauses": [
                {
                    "scope": pause.scope,
                    "reason": pause.reason,
                    "status": pause.status,
                    "error_id": pause.error_id,
                    "since": _iso(pause.since),
                    "next_probe_at": _iso(pause.probe_at),
                }
                for pause in self.pauses
            ],
            "top_errors": [vars(error) for error in self.top_errors],
            "last_drain_at": _iso(self.last_drain_at),
            "running_drains": self.running_drains,
            "drain_parallelism": self.drain_parallelism,
            "last_sent_at": _iso(self.last_sent_at),
            "clusters": None
            if self.clusters is None
            else [cluster.as_json() for cluster in self.clusters],
            "orphaned_serializers": self.orphans,
        }


def collect(*, clusters: bool = True) -> HealthReport:
    """The report; ``clusters=False`` skips asking the broker (the admin shows no clusters)."""
    now = timezone.now()
    report = HealthReport(
        checked_at=now,
        serializers=_counts(),
        # An ended rate-limit hold is history, not a state.
        pauses=list(
            Pause.objects.exclude(scope=Pause.THROTTLE, probe_at__lte=timezone.now()).order_by(
                "since", "scope"
            )
        ),
        top_errors=_top_errors(),
        last_drain_at=last_drain_at(),
        running_drains=slots.held(),
        drain_parallelism=get_settings().drain_parallelism,
        last_sent_at=_last_sent_at(),
        clusters=live_clusters() if clusters else None,
        orphans=orphaned_serializers(),
    )
    report.problems = list(_problems(report))
    return report


def _counts() -> list[SerializerCounts]:
    """Per registered serializer; rows of unregistered ones are reported as orphans."""
    by_label = {
        cls.label(): SerializerCounts(cls.label(), str(cls.kind), cls.entity_set)
        for cls in all_serializers()
    }
    # A row's change waits since its first failed attempt, or else since it last changed.
    rows = (
        OutboxEntry.objects.filter(state__in=[*WAITING_STATES, *TERMINAL_STATES])
        .values_list("serializer", "state")
        .annotate(rows=Count("pk"), oldest=Min(Coalesce("first_failure_at", "updated_at")))
        .order_by()
    )
    for label, state, count, oldest in rows:
        counts = by_label.get(label)
        if counts is None:
            continue
        setattr(counts, state, count)
        if state in WAITING_STATES and oldest is not None:
            earlier = counts.oldest_pending_at
            counts.oldest_pending_at = oldest if earlier is None else min(earlier, oldest)
    return list(by_label.values())


def _last_sent_at() -> datetime | None:
    """The newest push of the live sync or of a backfill (which writes no outbox rows for
    what it sends: its runs count what they sent, and are stamped when they end)."""
    # The (state, sent_at) index finds the newest push without reading every delivered row.
    drained = OutboxEntry.objects.filter(state=OutboxState.SENT).aggregate(newest=Max("sent_at"))
    backfilled = BackfillRun.objects.filter(ranges__sent__gt=0).aggregate(newest=Max("updated_at"))
    pushes = [stamp for stamp in (drained["newest"], backfilled["newest"]) if stamp is not None]
    return max(pushes, default=None)


def _top_errors() -> list[TopError]:
    rows = (
        OutboxEntry.objects.filter(state__in=TERMINAL_STATES)
        .values_list("last_error_id")
        .annotate(rows=Count("pk"), example=Min(Concat("kind", Value(" "), "object_key")))
        .order_by("-rows", "last_error_id")
    )
    return [
        TopError(error_id or "(no error id)", count, example)
        for error_id, count, example in rows[:TOP_ERRORS]
    ]


def _problems(report: HealthReport) -> list[Problem]:
    conf = get_settings()
    problems = []
    now = report.checked_at
    idle_limit = timedelta(seconds=conf.health_max_idle)
    if report.waiting and (report.last_drain_at is None or now - report.last_drain_at > idle_limit):
        since = (
            "no drain has ever run"
            if report.last_drain_at is None
            else f"no drain for {duration((now - report.last_drain_at).total_seconds())}"
        )
        problems.append(
            Problem(
                "no_worker",
                f"{since} while {report.waiting} row(s) wait: is a qcluster worker running?",
            )
        )
    if report.lag_seconds > conf.health_max_lag:
        problems.append(
            Problem(
                "lag",
                f"sync lag {duration(report.lag_seconds)} (more than "
                f"{duration(conf.health_max_lag)})",
            )
        )
    if report.terminal >= conf.health_failed_rows:
        top = ", ".join(f"{e.error_id} x{e.rows}" for e in report.top_errors[:3])
        problems.append(Problem("failures", f"{report.terminal} failed or dead row(s) ({top})"))
    problems.extend(
        Problem(
            "paused",
            f"{describe_scope(pause.scope)} paused since {pause.since:%Y-%m-%d %H:%M} UTC: "
            f"{pause.reason}",
        )
        for pause in report.pauses
    )
    if report.orphans:
        listed = ", ".join(f"{label} ({rows})" for label, rows in report.orphans.items())
        problems.append(
            Problem(
                "orphaned_rows",
                f"{sum(report.orphans.values())} row(s) of unregistered serializer(s): {listed}",
            )
        )
    return problems


def describe_scope(scope: str) -> str:
    if scope == Pause.THROTTLE:
        return "every request (rate-limited by Bubblehouse)"
    return "everything" if scope == Pause.ALL else scope


def duration(seconds: float) -> str:
    """``45s``, ``12m``, ``3h05m``, ``2d04h``: short enough for one line."""
    whole = int(seconds)
    if whole < 60:
        return f"{whole}s"
    minutes, hours, days = whole // 60, whole // 3600, whole // 86400
    if hours == 0:
        return f"{minutes}m"
    if days == 0:
        return f"{hours}h{minutes % 60:02d}m"
    return f"{days}d{hours % 24:02d}h"


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None

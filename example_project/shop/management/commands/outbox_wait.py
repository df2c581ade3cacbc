"""Wait until the worker has delivered everything in the Bubblehouse outbox."""

from __future__ import annotations

import json
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count

from django_bubblehouse.models import TERMINAL_STATES, OutboxEntry, OutboxState

IN_FLIGHT = (OutboxState.PENDING, OutboxState.SENDING)


class Command(BaseCommand):
    help = "Poll the outbox until nothing is pending; fail on failed/dead rows or at the deadline."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--timeout", type=float, default=60.0, help="Seconds to wait at most.")
        parser.add_argument("--interval", type=float, default=0.2)

    def handle(self, *args: Any, **options: Any) -> None:
        deadline = time.monotonic() + options["timeout"]
        while True:
            counts = state_counts()
            if not any(counts.get(state, 0) for state in IN_FLIGHT):
                break
            if time.monotonic() > deadline:
                raise CommandError(
                    f"the outbox is still busy after {options['timeout']}s: {counts}"
                )
            time.sleep(options["interval"])
        self.stdout.write(f"Outbox: {json.dumps(counts, sort_keys=True)}")
        failures = OutboxEntry.objects.filter(state__in=TERMINAL_STATES).order_by("pk")
        for entry in failures[:10]:
            self.stderr.write(f"  {entry}: {entry.last_error}")
        if failures.exists():
            raise CommandError(f"{failures.count()} outbox row(s) failed")


def state_counts() -> dict[str, int]:
    rows = OutboxEntry.objects.values("state").annotate(n=Count("pk")).order_by()
    return {row["state"]: row["n"] for row in rows}

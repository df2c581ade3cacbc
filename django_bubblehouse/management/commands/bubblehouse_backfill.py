"""``manage.py bubblehouse_backfill``: push existing data, or replace a whole set, in batches."""

from __future__ import annotations

import datetime as dt
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ...backfill import fanout, runs
from ...backfill.output import print_samples, print_summary, run_replace
from ...backfill.progress import Progress, make_progress
from ...backfill.runner import BackfillAborted, BatchRunner
from ...backfill.selection import (
    Selection,
    SelectionError,
    SerializerClass,
    count,
    selected_serializers,
)
from ...client import get_client
from ...conf import get_settings
from ...kinds import Kind
from ...models import BackfillRun


class Command(BaseCommand):
    help = (
        "Push existing objects to Bubblehouse in batches (all kinds unless some are named), "
        "or, with --replace, send a whole entity set / all products / all collections as "
        "one replace request."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        # No argparse ``choices``: with nargs="*" it rejects the empty list on Python 3.11.
        parser.add_argument("kinds", nargs="*", help=f"Any of {', '.join(Kind)}; none: all.")
        parser.add_argument("--since", type=iso_datetime, help="updated_field >= this")
        parser.add_argument("--until", type=iso_datetime, help="updated_field < this")
        parser.add_argument(
            "--ids",
            action="append",
            default=[],
            help="Only these Bubblehouse ids, comma-separated (an order number when it is the id).",
        )
        parser.add_argument("--batch-size", type=int, help="Objects per request (BATCH_SIZE).")
        parser.add_argument(
            "--concurrency",
            type=int,
            default=1,
            help="Requests in flight while the next batch is prepared (default 1; raise it "
            "when Bubblehouse is far away).",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Serialize and validate; send nothing."
        )
        parser.add_argument(
            "--async", action="store_true", dest="fan_out", help="Fan out as django-q2 tasks."
        )
        parser.add_argument("--batches-per-task", type=int, default=10, help="With --async.")
        parser.add_argument(
            "--resume", action="store_true", help="Continue the last unfinished identical run."
        )
        parser.add_argument("--no-progress", action="store_true")
        parser.add_argument("--entity-set", help="Only serializers feeding this entity set.")
        parser.add_argument("--replace", action="store_true", help="One full replace request.")
        parser.add_argument("--allow-empty", action="store_true", help="Allow an empty replace.")
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        parser.add_argument("--no-input", "--noinput", action="store_false", dest="interactive")

    def handle(self, *args: Any, **options: Any) -> None:
        batch_size = options["batch_size"] or get_settings().batch_size
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        if options["concurrency"] < 1:
            raise CommandError("--concurrency must be at least 1")
        unknown = set(options["kinds"]) - set(Kind)
        if unknown:
            raise CommandError(f"unknown kind(s) {sorted(unknown)}; choose from {', '.join(Kind)}")
        kinds = tuple(Kind(kind) for kind in options["kinds"])
        try:
            if options["replace"]:
                run_replace(self, kinds, options, batch_size)
                return
            selection = Selection(
                kinds=kinds,
                since=_as_datetime(options, "since"),
                until=_as_datetime(options, "until"),
                ids=tuple(key for value in options["ids"] for key in value.split(",") if key),
                entity_set=options["entity_set"],
            )
            serializers = selected_serializers(selection)
            if options["dry_run"]:
                self.dry_run(selection, serializers, batch_size, options)
            else:
                self.backfill(selection, serializers, batch_size, options)
        except SelectionError as error:
            raise CommandError(str(error)) from error

    def dry_run(
        self,
        selection: Selection,
        serializers: list[SerializerClass],
        batch_size: int,
        options: dict[str, Any],
    ) -> None:
        progress = make_progress(self.stdout, enabled=not options["no_progress"])
        runner = BatchRunner(get_client(), batch_size, dry_run=True, progress=progress)
        tallies = {}
        for cls in serializers:
            progress.start(cls.label(), count(cls, selection))
            tallies[cls] = runner.run(cls, selection)
            progress.finish()
        print_samples(self, tallies)
        failed = sum(tally.failed for tally in tallies.values())
        if failed:
            raise CommandError(f"dry run: {failed} object(s) would fail to serialize")

    def backfill(
        self,
        selection: Selection,
        serializers: list[SerializerClass],
        batch_size: int,
        options: dict[str, Any],
    ) -> None:
        if options["resume"]:
            run = runs.resumable_run(selection)
            self.stdout.write(f"Resuming backfill #{run.pk} (stopped: {run.reason or 'crash'})")
        else:
            run = runs.start_run(selection, batch_size, is_async=options["fan_out"])
            if options["fan_out"]:
                fanout.plan_ranges(
                    run, serializers, selection, batch_size * options["batches_per_task"]
                )
            else:
                runs.add_whole_ranges(run, serializers)
        progress = make_progress(self.stdout, enabled=not options["no_progress"])
        if options["fan_out"]:
            self.fan_out(run, progress)
            return
        runner = BatchRunner(
            get_client(), run.batch_size, progress=progress, concurrency=options["concurrency"]
        )
        try:
            tally = runs.run_inline(run, runner, progress)
        except KeyboardInterrupt:
            runs.stop_run(run, "interrupted")
            raise CommandError(f"backfill #{run.pk} interrupted; continue with --resume") from None
        except BackfillAborted as error:
            runs.stop_run(run, str(error))
            raise CommandError(
                f"backfill #{run.pk} stopped: {error}. Fix it, then continue with --resume."
            ) from error
        except Exception as error:
            runs.stop_run(run, f"{type(error).__name__}: {error}")
            raise
        print_summary(self, run, runs.finish_run(run), tally.errors)

    def fan_out(self, run: BackfillRun, progress: Progress) -> None:
        count = fanout.enqueue(run)
        self.stdout.write(f"Backfill #{run.pk}: {count} task(s) enqueued; following them.")
        try:
            failures = fanout.watch(run, progress)
        except KeyboardInterrupt:
            raise CommandError(
                f"stopped following backfill #{run.pk}; its tasks go on in the workers"
            ) from None
        if failures:
            raise CommandError(
                f"backfill #{run.pk}: {len(failures)} task(s) failed ({failures[0]}); "
                "continue with --resume --async"
            )
        run.refresh_from_db()
        print_summary(self, run, runs.run_totals(run), [])


def iso_datetime(value: str) -> dt.datetime:
    """An aware datetime from an ISO date or date-time; naive input is in TIME_ZONE."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise ValueError(value)
        moment = dt.datetime.combine(day, dt.time())
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment)


def _as_datetime(options: dict[str, Any], name: str) -> dt.datetime | None:
    value: str | dt.datetime | None = options[name]
    if not isinstance(value, str):
        return value
    # call_command(since="2026-01-01") passes the string through without argparse's type=.
    try:
        return iso_datetime(value)
    except ValueError:
        raise CommandError(f"--{name} {value!r} is not an ISO date or date-time") from None

"""``manage.py bubblehouse_preflight``: serialize real rows before the first push."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_bubblehouse.preflight import preflight


class Command(BaseCommand):
    help = (
        "Serialize a sample of real rows of every registered serializer (and every order "
        "status in the table) and report each error with its serializer, object and field. "
        "Sends nothing; exits non-zero when anything fails."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--sample", type=int, default=200, help="Newest rows per serializer (200)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["sample"] < 1:
            raise CommandError("--sample must be at least 1")
        failed = 0
        for report in preflight(options["sample"]):
            label = report.serializer.label()
            if report.problems:
                failed += len(report.problems)
                self.stdout.write(
                    self.style.ERROR(
                        f"{label}: {len(report.problems)} problem(s) in {report.sampled} row(s)"
                    )
                )
                for problem in report.problems:
                    self.stdout.write(f"  {problem}")
            elif report.sampled:
                self.stdout.write(self.style.SUCCESS(f"{label}: {report.sampled} row(s) ok"))
            else:
                self.stdout.write(self.style.WARNING(f"{label}: no rows to check yet"))
        if failed:
            raise CommandError(f"preflight: {failed} problem(s); nothing was sent")
        self.stdout.write(self.style.SUCCESS("preflight: every sampled row serializes"))

"""GDPR erasure: delete the outbox rows holding one customer's personal data."""

from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_bubblehouse.outbox.erasure import customer_rows, purge_customer


class Command(BaseCommand):
    help = (
        "Delete the outbox rows of one customer (their own row, and captured delete payloads "
        "naming them). Rows still waiting to be sent are kept unless --include-waiting."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--customer-id", default="", help="the id Bubblehouse knows")
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--include-waiting",
            action="store_true",
            help="also delete rows not sent yet (Bubblehouse may then never hear of a deletion)",
        )
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args: Any, **options: Any) -> None:
        customer_id, email = options["customer_id"].strip(), options["email"].strip()
        if not customer_id and not email:
            raise CommandError("name the customer: --customer-id, --email, or both")
        if options["dry_run"]:
            found = customer_rows(customer_id, email).count()
            self.stdout.write(f"{found} outbox row(s) name this customer; nothing deleted.")
            return
        erasure = purge_customer(customer_id, email, include_waiting=options["include_waiting"])
        self.stdout.write(self.style.SUCCESS(f"Deleted {erasure.purged} outbox row(s)."))
        if erasure.kept_waiting:
            self.stdout.write(
                self.style.WARNING(
                    f"Kept {erasure.kept_waiting} row(s) still waiting to be sent (they may carry "
                    "the deletion to Bubblehouse); run again once they are sent, or pass "
                    "--include-waiting."
                )
            )

"""Give a demo customer a password (from DEMO_CUSTOMER_PASSWORD) to sign in to the storefront."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop.models import Customer


class Command(BaseCommand):
    help = "Set a demo customer's password from the DEMO_CUSTOMER_PASSWORD environment variable."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("DEMO_CUSTOMER_PASSWORD")
        if not password:
            raise CommandError("set DEMO_CUSTOMER_PASSWORD")
        customer = Customer.objects.select_related("user").filter(
            user__username=options["username"]
        )
        found = customer.first()
        if found is None:
            raise CommandError(f"{options['username']} is not a demo customer")
        found.user.set_password(password)
        found.user.save(update_fields=["password"])

"""A customer checks out with a discount code (the demo's CreateDiscount4 result)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from shop.checkout import CodeRefused, place_order
from shop.models import Customer

CART = (("SS-42", 2), ("TS-1", 1))


class Command(BaseCommand):
    help = "Place a paid order for the first customer with --code applied at checkout."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--code", required=True)
        parser.add_argument("--number", default="EX-9100")
        parser.add_argument("--expect", type=Path, help="Write what Bubblehouse should hold here.")

    def handle(self, *args: Any, **options: Any) -> None:
        customer = Customer.objects.select_related("user").order_by("pk").first()
        if customer is None:
            raise CommandError("no demo data: run seed_demo first")
        try:
            order = place_order(options["number"], CART, customer=customer, code=options["code"])
        except CodeRefused as error:
            raise CommandError(f"checkout refused the code: {error}") from None
        [discount] = order.discounts.all()
        goods = sum(line.unit_price * line.quantity for line in order.lines.all())
        spent = goods - discount.amount + order.shipping + order.tax
        self.stdout.write(
            f"  order {order.number} for {customer}: goods {goods}, "
            f"{discount.code} takes {discount.amount} off, spent {spent}"
        )
        if options["expect"]:
            expected = [
                {"kind": "orders", "id": str(order.pk), "path": path, "expected": value}
                for path, value in (
                    ("discount_codes", [discount.code]),
                    ("amount_spent", str(spent)),
                )
            ]
            options["expect"].write_text(json.dumps(expected, indent=2))

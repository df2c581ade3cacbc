"""The demo's live traffic: what a shop does all day, written with sync on.

Each change is committed on its own, as separate requests would be, and the
outbox hands it to the worker. ``--expect FILE`` writes what Bubblehouse
should hold afterwards, for ``run_demo.py`` and the tests to check.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction
from django.utils import timezone

from django_bubblehouse.sync import disable_sync
from shop.checkout import add_line
from shop.models import Customer, Dealer, Order, OrderDiscount, OrderLine, Variant

Expectation = dict[str, Any]


class Command(BaseCommand):
    help = "Make the demo's live changes (orders, refunds, a customer edit, a dealer import)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--expect", type=Path, help="Write the expected Bubblehouse state here."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if not Order.objects.exists():
            raise CommandError("no demo data: run seed_demo first")
        expected: list[Expectation] = []
        for change in (
            self.new_order,
            self.guest_order,
            self.cancellation,
            self.user_edit,
            self.customer_edit,
            self.partial_refund,
            self.full_refund,
            self.dealer_import,
        ):
            with transaction.atomic():
                description, checks = change()
            self.stdout.write(f"  {description}")
            expected.extend(checks)
        if options["expect"]:
            options["expect"].write_text(json.dumps(expected, indent=2))

    def new_order(self) -> tuple[str, list[Expectation]]:
        customer = Customer.objects.select_related("user").order_by("pk").first()
        assert customer is not None  # seeded
        order = self._order("EX-9001", customer=customer, status="paid", code="WELCOME10")
        return f"new order {order.number} for {customer}", [
            _expect("orders", order.pk, "status", "confirmed"),
            _expect("orders", order.pk, "customer.email", customer.user.email),
            _expect("orders", order.pk, "discount_codes", ["WELCOME10"]),
            _expect("orders", order.pk, "amount_spent", "124.25"),
        ]

    def guest_order(self) -> tuple[str, list[Expectation]]:
        order = self._order(
            "EX-9002", guest_email="walk-in@example.org", guest_name="Walk In", status="pending"
        )
        return f"guest order {order.number} ({order.guest_email})", [
            _expect("orders", order.pk, "status", "unconfirmed"),
            _expect(
                "orders", order.pk, "customer", {"email": order.guest_email, "full_name": "Walk In"}
            ),
        ]

    def cancellation(self) -> tuple[str, list[Expectation]]:
        order = Order.objects.filter(status="paid").order_by("pk").first()
        assert order is not None  # seeded
        order.status = "cancelled"
        order.save()
        return f"cancelled {order.number}", [_expect("orders", order.pk, "status", "canceled")]

    def user_edit(self) -> tuple[str, list[Expectation]]:
        # The last customer: no other live change touches its orders, which carry its name too.
        customer = Customer.objects.select_related("user").order_by("-pk")[0]
        customer.user.first_name = "Renamed"
        # Only the user row changes: the serializer's `related` pushes its customer.
        customer.user.save()
        return f"renamed the user of customer {customer}", [
            _expect("customers", customer.pk, "first_name", "Renamed"),
        ]

    def customer_edit(self) -> tuple[str, list[Expectation]]:
        customer = Customer.objects.select_related("user").order_by("pk")[2]
        customer.tier = "gold"
        customer.save()
        return f"edited customer {customer}", [
            _expect("customers", customer.pk, "extras.tier", "gold"),
        ]

    def partial_refund(self) -> tuple[str, list[Expectation]]:
        line = (
            OrderLine.objects.select_related("order")
            .filter(order__status="fulfilled", quantity__gte=2, refunded_quantity=0)
            .order_by("pk")
            .first()
        )
        assert line is not None  # seeded
        line.refunded_quantity = 1
        line.save()
        kept = line.quantity - 1
        return f"refunded 1 x {line.title} of {line.order.number}", [
            _expect("orders", line.order_id, "status", "completed"),
            _expect("orders", line.order_id, f"items[id={line.pk}].quantity", kept),
            _expect(
                "orders",
                line.order_id,
                f"items[id={line.pk}].amount_full",
                str(line.unit_price * kept),
            ),
        ]

    def full_refund(self) -> tuple[str, list[Expectation]]:
        order = Order.objects.filter(status="fulfilled").order_by("-pk").first()
        assert order is not None  # seeded
        order.lines.update(refunded_quantity=0)
        order.status = "refunded"
        order.save()
        return f"fully refunded {order.number}", [_expect("orders", order.pk, "status", "canceled")]

    def dealer_import(self) -> tuple[str, list[Expectation]]:
        # A nightly import from the dealer ERP bypasses the outbox; the replace that follows
        # (bubblehouse_backfill --replace) makes Bubblehouse match the table in one request.
        with disable_sync(Dealer):
            Dealer.objects.filter(code="dealer-002").delete()
            Dealer.objects.create(
                code="dealer-003", name="Costco", markets=["en-US"], spring_cleaning_eligible=True
            )
        codes = sorted(Dealer.objects.filter(is_active=True).values_list("code", flat=True))
        return "dealer import: dealer-002 gone, dealer-003 added (sync off)", [
            _expect("entity_sets", "authorized-dealers", "active_ids", codes)
        ]

    def _order(self, number: str, *, status: str, code: str = "", **who: Any) -> Order:
        order = Order.objects.create(
            number=number,
            status=status,
            placed_at=timezone.now(),
            shipping=Decimal("4.95"),
            tax=Decimal("0.00"),
            **who,
        )
        for sku, quantity, discount in (("SS-42", 2, "10.00"), ("TS-1", 1, "0")):
            variant = Variant.objects.select_related("product").get(sku=sku)
            add_line(order, variant, quantity, line_discount=Decimal(discount if code else "0"))
        if code:
            OrderDiscount.objects.create(order=order, code=code, amount=Decimal("10.00"))
        return order


def _expect(kind: str, key: object, path: str, value: object) -> Expectation:
    return {"kind": kind, "id": str(key), "path": path, "expected": value}

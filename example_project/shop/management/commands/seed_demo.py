"""Fill the example shop with deterministic demo data.

History is written with sync switched off: it reaches Bubblehouse through
`bubblehouse_backfill`, as a real shop's history would.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from django_bubblehouse.sync import disable_sync
from shop.checkout import add_line
from shop.models import (
    Collection,
    Customer,
    Dealer,
    Order,
    OrderDiscount,
    Product,
    Variant,
)

COLLECTIONS = [("Shoes", "shoes"), ("Running", "running"), ("Accessories", "accessories")]
PRODUCTS = [
    (
        "Supershoe",
        "supershoe",
        ["shoes", "running"],
        [("42", "SS-42", "59.90"), ("43", "SS-43", "59.90")],
    ),
    ("Megashoe", "megashoe", ["shoes"], [("One size", "MS-1", "89.00")]),
    ("Trail socks", "trail-socks", ["running", "accessories"], [("Pair", "TS-1", "9.50")]),
    ("Gift card", "gift-card", [], [("25", "GC-25", "25.00")]),
]
DEALERS = [
    ("dealer-001", "Walmart", ["Wal-Mart", "Walmart Supercenter"], ["en-US"], True),
    ("dealer-002", "Target", ["Target Store"], ["en-US"], False),
    ("dealer-uk-001", "Tesco", [], ["en-GB"], True),
    ("dealer-global-001", "Global Mart", [], [], False),
]
STATUS_CYCLE = ["paid", "fulfilled", "fulfilled", "pending", "fulfilled", "cancelled"]


class Command(BaseCommand):
    help = "Create demo customers, products, orders and dealers (idempotent: skips if present)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=20)
        parser.add_argument("--orders", type=int, default=60)

    def handle(self, *args: Any, **options: Any) -> None:
        if Order.objects.exists():
            self.stdout.write("Demo data already present.")
            return
        with disable_sync(), transaction.atomic():
            variants = self._catalogue()
            customers = self._customers(options["customers"])
            self._orders(options["orders"], customers, variants)
            self._dealers()
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {len(customers)} customers, {Product.objects.count()} products, "
                f"{Order.objects.count()} orders, {Dealer.objects.count()} dealers."
            )
        )

    def _catalogue(self) -> list[Variant]:
        collections = {
            slug: Collection.objects.create(title=title, slug=slug) for title, slug in COLLECTIONS
        }
        variants: list[Variant] = []
        for title, slug, member_of, product_variants in PRODUCTS:
            product = Product.objects.create(title=title, slug=slug, description=f"{title}.")
            product.collections.set([collections[name] for name in member_of])
            for variant_title, sku, price in product_variants:
                variants.append(
                    Variant.objects.create(
                        product=product,
                        title=variant_title,
                        sku=sku,
                        price=Decimal(price),
                        stock=10,
                    )
                )
        return variants

    def _customers(self, count: int) -> list[Customer]:
        customers = []
        for n in range(1, count + 1):
            user = User.objects.create_user(
                username=f"customer{n}",
                email=f"customer{n}@example.com",
                first_name=f"Customer{n}",
                last_name="Example",
            )
            customers.append(
                Customer.objects.create(user=user, phone=f"+4470000{n:05d}", tier="silver")
            )
        return customers

    def _orders(self, count: int, customers: list[Customer], variants: list[Variant]) -> None:
        start = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
        for n in range(1, count + 1):
            guest = n % 7 == 0
            order = Order.objects.create(
                number=f"EX-{1000 + n}",
                customer=None if guest else customers[n % len(customers)],
                guest_email=f"guest{n}@example.net" if guest else "",
                guest_name=f"Guest Shopper{n}" if guest else "",
                status=STATUS_CYCLE[n % len(STATUS_CYCLE)],
                placed_at=start + timedelta(hours=7 * n),
                shipping=Decimal("4.95"),
                tax=Decimal("0.00"),
            )
            for offset in range(1 + n % 3):
                variant = variants[(n + offset) % len(variants)]
                quantity = 1 + (n + offset) % 2
                discounted = n % 5 == 0 and offset == 0
                add_line(
                    order, variant, quantity, line_discount=Decimal("5.00" if discounted else "0")
                )
            if n % 5 == 0:
                OrderDiscount.objects.create(order=order, code="SPRING5", amount=Decimal("5.00"))

    def _dealers(self) -> None:
        for code, name, alt_names, markets, eligible in DEALERS:
            Dealer.objects.create(
                code=code,
                name=name,
                alt_names=alt_names,
                markets=markets,
                spring_cleaning_eligible=eligible,
            )
        Dealer.objects.filter(code="dealer-global-001").update(
            localized_names={
                "de-DE": {"title": "Global Markt", "alt_titles": ["GM Deutschland"]},
                "en-GB": {"title": "Global Mart UK", "alt_titles": ["GM UK"]},
            }
        )

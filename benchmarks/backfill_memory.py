"""Peak memory of ``bubblehouse_backfill orders`` at 10,000 and at 100,000 orders.

    .venv/bin/python benchmarks/backfill_memory.py [--small 10000] [--large 100000]

The backfill walks keys in keyset pages and holds one batch at a time, so the
peak (measured with tracemalloc around the command only) should not grow with
the table: the printed ratio should be close to 1. Bubblehouse is replaced by a
transport adapter that answers ``{"ok": true}`` and keeps nothing, so the
figure is the backfill's own memory, not a mock's call log.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
import tracemalloc
from decimal import Decimal
from io import StringIO
from pathlib import Path

import requests
from requests.adapters import BaseAdapter

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from django_bubblehouse.client import get_client  # noqa: E402
from django_bubblehouse.sync import disable_sync  # noqa: E402
from tests.testapp.models import Order, OrderLine, Product  # noqa: E402

PLACED_AT = dt.datetime(2026, 3, 2, 14, 5, 11, tzinfo=dt.UTC)
CHUNK = 5000


class AcceptAll(BaseAdapter):
    """Answers every request with HTTP 200 ``{"ok": true}`` and remembers nothing."""

    def send(self, request, *args, **kwargs):  # type: ignore[no-untyped-def]
        response = requests.Response()
        response.status_code = 200
        response._content = b'{"ok": true}'
        response.request = request
        return response

    def close(self) -> None:
        pass


def add_orders(count: int, product: Product) -> None:
    start = Order.objects.count()
    for offset in range(0, count, CHUNK):
        size = min(CHUNK, count - offset)
        orders = Order.objects.bulk_create(
            Order(
                number=f"B{start + offset + index}",
                guest_email=f"guest{start + offset + index}@example.com",
                status="paid",
                placed_at=PLACED_AT,
                shipping_total=Decimal("4.90"),
            )
            for index in range(size)
        )
        OrderLine.objects.bulk_create(
            OrderLine(order=order, product=product, product_title="Shoe", unit_price=Decimal("9.5"))
            for order in orders
        )


def peak_of_backfill(batch_size: int) -> tuple[int, float]:
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    call_command(
        "bubblehouse_backfill", "orders", batch_size=batch_size, no_progress=True, stdout=StringIO()
    )
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=10_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args()

    connection.creation.create_test_db(verbosity=0)
    get_client().session.mount("https://", AcceptAll())
    with disable_sync():
        product = Product.objects.create(title="Shoe", slug="shoe")

    add_orders(args.small, product)
    small_peak, small_time = peak_of_backfill(args.batch_size)
    add_orders(args.large - args.small, product)
    large_peak, large_time = peak_of_backfill(args.batch_size)

    runs = ((args.small, small_peak, small_time), (args.large, large_peak, large_time))
    for rows, peak, elapsed in runs:
        print(f"{rows:>8} orders: peak {peak / 1_048_576:7.2f} MiB, {elapsed:6.1f} s")
    print(f"ratio large/small peak: {large_peak / small_peak:.2f}")


if __name__ == "__main__":
    main()

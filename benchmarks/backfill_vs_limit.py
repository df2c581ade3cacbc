"""``bubblehouse_backfill orders`` and a drain of dirty orders against the physical limit.

    .venv/bin/python benchmarks/backfill_vs_limit.py [--orders 20000] [--rounds 3]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/scratch \\
        .venv/bin/python benchmarks/backfill_vs_limit.py

The example shop's schema and serializers (``example_project/shop``), seeded with
N orders of 3 lines each, customers on ``auth.User``, products with variants in
collections, discount codes and some guest orders. The *limit* arm does the least
any code could: per batch of ``--batch-size`` orders, a few set-based
``values()`` queries, plain dicts equal to the serializer's payloads (checked
before timing), ``json.dumps`` and one POST over one keep-alive session. The
*backfill* arm is the real management command; the *drain* arm marks all N orders
dirty (untimed) and times ``drain()`` until nothing is due. All POST to the same
minimal threaded loopback sink, started here in a process of its own (as
Bubblehouse is: in this process its request handling would compete for the
interpreter with the code under test), that reads the body and answers
``{"ok": true}``, so the sink is never the bottleneck.

The arms alternate in rounds, so load on the machine hits them alike; each
figure is the median of its rounds. SQLite (a throwaway file) always runs; the
``DATABASE_URL`` database too when it is set (each backend in its own process;
the benchmark migrates and fills it, so give it a scratch database).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from typing import Any

from django.conf import settings
from harness import BACKENDS, ROOT, configure, each_backend, emulator_call, emulator_process

sys.path[:0] = [str(ROOT), str(ROOT / "example_project")]
CENT = Decimal("0.01")
PLACED_AT = dt.datetime(2026, 3, 2, 14, 5, 11, tzinfo=dt.UTC)
CHUNK = 2000


class Sink(BaseHTTPRequestHandler):
    """Reads the body, answers ``{"ok": true}``; keep-alive, no Nagle, no logging.

    ``GET`` answers the number of POSTs received so far.
    """

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    requests = 0

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers["Content-Length"]))
        Sink.requests += 1
        self.answer(b'{"ok":true}')

    def do_GET(self) -> None:
        self.answer(str(Sink.requests).encode())

    def answer(self, body: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve_sink() -> None:
    """The sink's own process: prints its URL, then serves until terminated."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    server.daemon_threads = True
    print(f"http://127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


@contextmanager
def sink_process() -> Iterator[str]:
    """The sink in a process of its own; yields its URL."""
    sink = subprocess.Popen([sys.executable, __file__, "--serve-sink"], stdout=subprocess.PIPE)
    try:
        assert sink.stdout is not None
        yield sink.stdout.readline().decode().strip()
    finally:
        sink.terminate()
        sink.wait(timeout=30)


def sink_requests() -> int:
    import requests

    url = str(settings.BUBBLEHOUSE["API_HOST"])
    return int(requests.get(url, timeout=30).text)


def seed(orders: int) -> None:
    from django.contrib.auth.models import User
    from shop.models import Collection, Customer, Order, OrderDiscount, OrderLine, Product, Variant

    from django_bubblehouse.sync import disable_sync

    with disable_sync():
        collections = Collection._default_manager.bulk_create(
            Collection(title=f"Collection {n}", slug=f"c{n}") for n in range(10)
        )
        products = Product._default_manager.bulk_create(
            Product(title=f"Product {n}", slug=f"p{n}", description="A thing") for n in range(200)
        )
        Through = Product.collections.through
        Through._default_manager.bulk_create(
            Through(product=p, collection=collections[(n + k) % 10])
            for n, p in enumerate(products)
            for k in (0, 3)
        )
        variants = Variant._default_manager.bulk_create(
            Variant(product=p, title=f"Size {k}", sku=f"p{n}-{k}", price=Decimal("9.90") + k)
            for n, p in enumerate(products)
            for k in range(3)
        )
        count = max(1, orders // 4)
        users = User._default_manager.bulk_create(
            User(username=f"u{n}", email=f"u{n}@example.com", first_name="Ann", last_name=f"L{n}")
            for n in range(count)
        )
        customers = Customer._default_manager.bulk_create(
            Customer(user=u, phone="+4930123" if n % 2 else "", tier="gold" * (n % 3 == 0))
            for n, u in enumerate(users)
        )
        for start in range(0, orders, CHUNK):
            made = Order._default_manager.bulk_create(
                Order(
                    number=f"B{n}",
                    customer=None if n % 5 == 4 else customers[n % count],
                    guest_email=f"guest{n}@example.com" if n % 5 == 4 else "",
                    guest_name="Guest" if n % 5 == 4 else "",
                    status=("paid", "fulfilled", "refunded")[n % 3],
                    placed_at=PLACED_AT + dt.timedelta(minutes=n),
                    shipping=Decimal("4.90"),
                    tax=Decimal("1.23"),
                )
                for n in range(start, min(orders, start + CHUNK))
            )
            OrderLine._default_manager.bulk_create(
                OrderLine(
                    order=order,
                    variant=variants[(order.pk * 7 + k) % len(variants)],
                    title=f"Line {k}",
                    quantity=2,
                    refunded_quantity=k == 2 and order.pk % 4 == 0,
                    unit_price=Decimal("9.90") + k,
                    line_discount=Decimal("1.00") * (k == 0),
                )
                for order in made
                for k in range(3)
            )
            OrderDiscount._default_manager.bulk_create(
                OrderDiscount(order=o, code="SPRING", amount=Decimal("1.00"))
                for o in made
                if o.pk % 3 == 0
            )


def money(value: Decimal) -> str:
    return format(value, "f")


def rfc3339(value: dt.datetime) -> str:
    text = value.astimezone(dt.UTC).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


def limit_payloads(keys: list[int]) -> list[dict[str, Any]]:
    """The orders ``keys`` as the example serializers send them, from set-based queries."""
    from shop.models import Customer, Order, OrderDiscount, OrderLine, Product

    from django_bubblehouse.conf import get_settings

    statuses = get_settings().order_status_map
    orders = list(
        Order._default_manager.filter(pk__in=keys)
        .order_by("pk")
        .values(
            "pk",
            "customer_id",
            "guest_email",
            "guest_name",
            "status",
            "placed_at",
            "updated_at",
            "shipping",
            "tax",
        )
    )
    lines: dict[int, list[dict[str, Any]]] = defaultdict(list)
    product_ids = set()
    for line in (
        OrderLine._default_manager.filter(order_id__in=keys)
        .order_by("pk")
        .values(
            "pk",
            "order_id",
            "title",
            "quantity",
            "refunded_quantity",
            "unit_price",
            "line_discount",
            "variant__product_id",
            "variant__product__title",
        )
    ):
        lines[line["order_id"]].append(line)
        product_ids.add(line["variant__product_id"])
    collections: dict[int, list[str]] = defaultdict(list)
    through = Product.collections.through._default_manager.filter(product_id__in=product_ids)
    for product_id, collection_id in through.order_by("pk").values_list(
        "product_id", "collection_id"
    ):
        collections[product_id].append(str(collection_id))
    customers = {
        c["pk"]: c
        for c in Customer._default_manager.filter(pk__in={o["customer_id"] for o in orders}).values(
            "pk", "phone", "tier", "marketing_opt_in", "user__email", "user__first_name",
            "user__last_name",
        )
    }  # fmt: skip
    codes: dict[int, list[str]] = defaultdict(list)
    discounts = OrderDiscount._default_manager.filter(order_id__in=keys).order_by("pk")
    for order_id, code in discounts.values_list("order_id", "code"):
        codes[order_id].append(code)
    payloads = []
    for order in orders:
        items, full, spent = [], Decimal("0.00"), Decimal("0.00")
        for line in lines[order["pk"]]:
            quantity = line["quantity"] - line["refunded_quantity"]
            line_full = line["unit_price"] * quantity
            kept = (line["line_discount"] * quantity / line["quantity"]).quantize(CENT)
            product_id = line["variant__product_id"]
            product = {"id": str(product_id), "title": line["variant__product__title"]}
            product["collection_ids"] = collections[product_id]
            items.append(
                {
                    "id": str(line["pk"]),
                    "product": product,
                    "quantity": quantity,
                    "amount_full": money(line_full),
                    "amount_spent": money(line_full - kept),
                }
            )
            full += line_full
            spent += line_full - kept
        extra = order["shipping"] + order["tax"]
        payload = {
            "id": str(order["pk"]),
            "status": statuses[order["status"]],
            "customer": customer_payload(customers.get(order["customer_id"]), order),
            "items": items,
            "order_time": rfc3339(order["placed_at"]),
            "update_time": rfc3339(order["updated_at"]),
            "amount_full": money(full + extra),
            "amount_spent": money(spent + extra),
            "amount_taxes": money(order["tax"]),
            "amount_shipping": money(order["shipping"]),
            "discount_codes": codes[order["pk"]],
        }
        payloads.append(payload)
    return payloads


def customer_payload(customer: dict[str, Any] | None, order: dict[str, Any]) -> dict[str, Any]:
    if customer is None:
        guest = {"email": order["guest_email"], "full_name": order["guest_name"]}
        return {key: value for key, value in guest.items() if value}
    extras: dict[str, Any] = {"marketing_opt_in": customer["marketing_opt_in"]}
    if customer["tier"]:
        extras["tier"] = customer["tier"]
    payload = {
        "id": str(customer["pk"]),
        "email": customer["user__email"],
        "first_name": customer["user__first_name"],
        "last_name": customer["user__last_name"],
        "phone": customer["phone"],
        "extras": extras,
    }
    return {key: value for key, value in payload.items() if value != ""}


def run_limit(batch_size: int) -> None:
    import requests
    from shop.models import Order

    from django_bubblehouse.auth import mint_shop_token
    from django_bubblehouse.conf import get_settings

    config = get_settings()
    url = f"{config.api_base_url}/UpdateOrders4"
    last = 0
    with requests.Session() as session:
        while True:
            keys = list(
                Order._default_manager.filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            if not keys:
                return
            body = json.dumps({"orders": limit_payloads(keys)}, separators=(",", ":"))
            headers = {
                "Authorization": f"Bearer {mint_shop_token(config)}",
                "Content-Type": "application/json",
            }
            session.post(url, data=body.encode(), headers=headers, timeout=30).raise_for_status()
            last = keys[-1]


def run_backfill(batch_size: int, **options: Any) -> None:
    from django.core.management import call_command

    call_command(
        "bubblehouse_backfill",
        "orders",
        batch_size=batch_size,
        no_progress=True,
        stdout=StringIO(),
        **options,
    )


def latency_arms(args: argparse.Namespace) -> None:
    """The backfill of the first ``--latency-orders`` orders against the bundled emulator:
    answering at once with ``--concurrency 1``, and after ``--latency`` seconds per request
    with ``--concurrency`` 1 and 4.

    The emulator runs in its own process (:func:`harness.emulator_process`).
    """
    from django.test import override_settings
    from shop.models import Order

    conf: dict[str, Any] = settings.BUBBLEHOUSE
    arms = ((0.0, 1), (args.latency, 1), (args.latency, 4))
    with emulator_process(conf) as url:
        keys = Order._default_manager.order_by("pk").values_list("pk", flat=True)
        ids = ",".join(map(str, keys[: args.latency_orders]))
        expected = min(args.latency_orders, args.orders)
        times: dict[tuple[float, int], list[float]] = defaultdict(list)
        with override_settings(BUBBLEHOUSE={**conf, "API_HOST": url}):
            for _ in range(args.rounds):
                for latency, concurrency in arms:
                    emulator_call(url, "reset", {})
                    emulator_call(url, "faults", {"latency": [latency, latency]})
                    backfill = partial(
                        run_backfill, args.batch_size, ids=[ids], concurrency=concurrency
                    )
                    times[latency, concurrency].append(timed(backfill))
                    received = len(emulator_call(url, "state")["orders"])
                    if received != expected:
                        raise SystemExit(f"the emulator holds {received} orders, not {expected}")
    at_once, one, four = (statistics.median(times[arm]) for arm in arms)
    requests = -(-expected // args.batch_size)
    print(
        f"  emulator, {expected} orders in {requests} requests: no latency {at_once:.2f} s;"
        f" {args.latency * 1000:.0f} ms per request: --concurrency 1 {one:.2f} s"
        f" ({(one - at_once) / requests * 1000:+.1f} ms per request),"
        f" --concurrency 4 {four:.2f} s ({(four - at_once) / requests * 1000:+.1f} ms)"
    )


def prepare_drain() -> None:
    from django.db import transaction
    from shop.bubblehouse import OrderSerializer
    from shop.models import Order

    from django_bubblehouse.outbox.record import mark_dirty

    with transaction.atomic():
        mark_dirty(OrderSerializer, map(str, Order._default_manager.values_list("pk", flat=True)))


def run_drain(expected: int) -> None:
    from django_bubblehouse.outbox import drain

    report = drain(budget=3600)  # one drain until nothing is due, not a task's share
    if report.sent != expected:
        raise SystemExit(f"the drain sent {report.sent} orders, not {expected}: {report}")


def check_equal(batch_size: int) -> None:
    """The limit builds what the app sends, or its time would mean nothing."""
    from shop.bubblehouse import OrderSerializer
    from shop.models import Order

    keys = list(Order._default_manager.order_by("pk").values_list("pk", flat=True)[:batch_size])
    app = OrderSerializer().serialize_keys([str(key) for key in keys])
    limit = limit_payloads(keys)
    sent = [unordered_collections(payload) for payload in app.payloads.values()]
    if sent != [unordered_collections(payload) for payload in limit]:
        mismatch = next((a, b) for a, b in zip(sent, limit, strict=False) if a != b)
        raise SystemExit(
            f"the limit's payload differs from the app's:\n{mismatch[0]}\n{mismatch[1]}"
        )


def unordered_collections(order: dict[str, Any]) -> dict[str, Any]:
    """An m2m prefetch has no order: compare a product's collection ids as a set."""
    for item in order["items"]:
        item["product"]["collection_ids"] = sorted(item["product"]["collection_ids"])
    return order


def timed(work: Callable[[], None]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def run(args: argparse.Namespace) -> None:
    from django.core.management import call_command
    from django.db import connection

    call_command("migrate", verbosity=0)
    call_command("flush", interactive=False, verbosity=0)  # a scratch database, reused
    seed(args.orders)
    check_equal(args.batch_size)
    times: dict[str, list[float]] = defaultdict(list)
    for _ in range(args.rounds):
        times["limit"].append(timed(lambda: run_limit(args.batch_size)))
        times["backfill"].append(timed(lambda: run_backfill(args.batch_size)))
        prepare_drain()
        times["drain"].append(timed(lambda: run_drain(args.orders)))
    limit = statistics.median(times["limit"])
    print(
        f"{connection.vendor}: {args.orders} orders x 3 lines, batch {args.batch_size},"
        f" {args.rounds} rounds, {sink_requests()} requests to the sink"
    )
    for arm in ("limit", "backfill", "drain"):
        median = statistics.median(times[arm])
        # Each round's own ratio too: its arms ran back to back, so a machine that slows
        # down between rounds moves them together.
        ratios = [t / own for t, own in zip(times[arm], times["limit"], strict=True)]
        print(
            f"  {arm:<9} {median:7.2f} s  {args.orders / median:8.0f} orders/s"
            f"  ratio {median / limit:5.2f}   (rounds: {', '.join(f'{t:.2f}' for t in times[arm])};"
            f" their ratios {', '.join(f'{r:.2f}' for r in ratios)})"
        )
    if args.latency_orders:
        latency_arms(args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--latency", type=float, default=0.03, help="emulator arm: s/request")
    parser.add_argument(
        "--latency-orders", type=int, default=5000, help="emulator arm's orders (0: skip it)"
    )
    parser.add_argument("--backend", choices=BACKENDS, help="one backend only")
    parser.add_argument("--serve-sink", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_sink:
        serve_sink()
        return
    forwarded = ["--orders", str(args.orders), "--rounds", str(args.rounds)]
    forwarded += ["--latency", str(args.latency), "--latency-orders", str(args.latency_orders)]
    if each_backend(args.backend, [*forwarded, "--batch-size", str(args.batch_size)]):
        return
    import config.settings as example

    with tempfile.TemporaryDirectory() as tmp, sink_process() as sink_url:
        configure(
            example,
            Path(tmp) / "bench.sqlite3",
            args.backend,
            DEBUG=False,
            LOGGING={"version": 1, "disable_existing_loggers": False},
            BUBBLEHOUSE={**example.BUBBLEHOUSE, "API_HOST": sink_url, "DEBUG_MODE": False},
        )
        logging.getLogger("django-q").setLevel(logging.WARNING)  # the drain arm's wake-ups
        run(args)


if __name__ == "__main__":
    main()

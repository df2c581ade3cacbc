"""`make demo`: the whole job end to end against the bundled Bubblehouse emulator.

A fresh shop in a temporary directory: migrate, seed history (sync off),
start the emulator, backfill every kind, start a real django-q2 worker, make
live changes that the worker delivers, replace an entity set, then show what
the emulator holds. Exits non-zero if anything was rejected, not applied or failed.

    python example_project/run_demo.py [--serve]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from demo_checks import active_ids, mismatches
from demo_processes import PRIMARY_SET, SECONDARY_SET, DemoProcesses, Emulator, wait_until

DELIVERY_TIMEOUT = 60.0
# What Bubblehouse sends when a customer redeems 500 points: 10 % off orders from 20.00.
REWARD_CODE = "BH-REWARD-10"
HOOK_DISCOUNT = {
    "code": REWARD_CODE,
    "title": "10 % off (500 points)",
    "percentage": 1000,
    "min_order_amount": "20.00",
    "max_uses": 1,
    "end_time": "0001-01-01T00:00:00Z",
}


def step(text: str) -> None:
    heading = f"== {text}"
    print(f"\n\033[1m{heading}\033[0m" if sys.stdout.isatty() else f"\n{heading}", flush=True)


def run(shop: DemoProcesses, workdir: Path) -> tuple[Emulator, str]:
    step("Fresh database, django-q2 schedules and demo history (written with sync off)")
    shop.prepare()

    step("Bubblehouse emulator")
    emulator = shop.start_emulator()
    print(
        f"listening on {emulator.url} (shop demo-shop, entity sets {PRIMARY_SET}, {SECONDARY_SET})"
    )

    step("Backfill: every kind, in batches")
    shop.manage("bubblehouse_backfill")

    step("django-q2 worker (manage.py qcluster)")
    shop.start_worker()
    print(f"started; log: {shop.log('worker')}")

    step("Live changes (the worker delivers them)")
    expect_file = workdir / "expected.json"
    shop.manage("demo_live_changes", "--expect", str(expect_file))

    step("Bubblehouse calls the shop back: Hello1, then CreateDiscount4 (twice, as a retry would)")
    web_url = shop.start_web()
    print(f"shop web server on {web_url}; hook URL {web_url}/bubblehouse/hooks/:name")
    shop.call_hook(web_url, "Hello1", {"magic": "demo-magic"})
    for _ in range(2):
        shop.call_hook(web_url, "CreateDiscount4", HOOK_DISCOUNT)

    step(f"Checkout honours {REWARD_CODE}, the code the hook created")
    checkout_file = workdir / "expected-checkout.json"
    shop.manage("demo_checkout", "--code", REWARD_CODE, "--expect", str(checkout_file))

    step(f"Replace entity set {PRIMARY_SET!r} after the dealer import")
    shop.manage(
        "bubblehouse_backfill", "entities", "--entity-set", PRIMARY_SET, "--replace", "--yes"
    )

    step("Waiting for the outbox to be delivered")
    shop.manage("outbox_wait", "--timeout", str(DELIVERY_TIMEOUT))
    shop.check_alive()
    expectations = json.loads(expect_file.read_text()) + json.loads(checkout_file.read_text())
    try:
        wait_until(
            lambda: not mismatches(emulator.state(), expectations),
            timeout=10,
            what="the emulator to reflect the live changes",
        )
    except TimeoutError as error:
        missing = "; ".join(mismatches(emulator.state(), expectations))
        raise RuntimeError(f"{error}: {missing}") from None
    print(f"all {len(expectations)} expected values are in Bubblehouse")

    step("Sync health (manage.py bubblehouse_status: exit 0 when healthy)")
    shop.manage("bubblehouse_status")
    return emulator, web_url


def report(emulator: Emulator, new_order_id: str) -> None:
    state = emulator.state()
    requests = emulator.requests()
    step("What the emulator holds")
    for kind in ("customers", "products", "collections", "orders"):
        records = state[kind].values()
        live = sum(1 for record in records if not record.get("deleted"))
        print(f"  {kind:<12} {live}")
    for name in (PRIMARY_SET, SECONDARY_SET):
        print(f"  {name}: {', '.join(active_ids(state, name))}")
    calls: dict[str, int] = {}
    for request in requests:
        calls[request["func"]] = calls.get(request["func"], 0) + 1
    print(f"  {len(requests)} requests: {json.dumps(calls, sort_keys=True)}")
    sent = [
        order
        for request in requests
        if request["func"] == "UpdateOrders4"
        for order in request["body"]["orders"]
        if order["id"] == new_order_id
    ]
    step(f"The live order {new_order_id} as the worker sent it")
    print(json.dumps(sent[-1], indent=2))
    rejected = [r for r in requests if r["status"] != 200]
    if rejected:
        for request in rejected:
            print(f"  REJECTED {request['func']}: {request['status']} {request['problems']}")
        raise RuntimeError(f"the emulator rejected {len(rejected)} request(s)")
    errors = state["processing_errors"]
    if errors:
        for error in errors:
            print(f"  NOT APPLIED {error['func']} {error['path']}: {error['message']}")
        raise RuntimeError(f"the emulator recorded {len(errors)} processing error(s)")
    print("\n0 rejected requests, 0 processing errors, 0 outbox failures.")


def serve(shop: DemoProcesses, url: str) -> None:
    password = shop.create_superuser()
    customer_password = shop.customer_login("customer1")
    step("The shop is running; Ctrl-C stops everything")
    print(f"  admin: {url}/admin/  user: admin  password (this run only): {password}")
    print(
        f"  storefront: {url}/rewards/  user: customer1  "
        f"password (this run only): {customer_password}"
    )
    while True:
        shop.check_alive()
        time.sleep(1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--serve", action="store_true", help="keep the shop, admin and worker running afterwards"
    )
    args = parser.parse_args(argv)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="bubblehouse-demo-") as tmp:
        workdir = Path(tmp)
        shop = DemoProcesses(workdir, echo=True, debug_mode=True)
        try:
            emulator, web_url = run(shop, workdir)
            expectations: list[dict[str, Any]] = json.loads((workdir / "expected.json").read_text())
            report(emulator, expectations[0]["id"])
            print(f"\nDemo finished in {time.monotonic() - started:.1f}s.")
            if args.serve:
                serve(shop, web_url)
        except KeyboardInterrupt:
            print("\nInterrupted; stopping.", file=sys.stderr)
            return 130
        except Exception as error:
            elapsed = time.monotonic() - started
            print(f"\nDEMO FAILED after {elapsed:.1f}s: {error}", file=sys.stderr)
            for name in ("emulator", "worker", "web"):
                if shop.log(name).exists():
                    print(f"--- last lines of {name}.log ---\n{shop.tail(name)}", file=sys.stderr)
            return 1
        finally:
            shop.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

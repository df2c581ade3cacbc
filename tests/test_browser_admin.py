"""The admin actions in a real browser, against the example shop with a real worker.

Debian's Chromium (``/usr/bin/chromium``, installed by ``make browser-deps``)
drives the example project's admin over HTTP; the pushes travel outbox ->
django-q2 worker -> loopback emulator, whose inspection API is the oracle.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

EXAMPLE_DIR = Path(__file__).resolve().parent.parent / "example_project"
sys.path.insert(0, str(EXAMPLE_DIR))

from demo_processes import PRIMARY_SET, DemoProcesses, Emulator, wait_until  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
DELIVERY_TIMEOUT = 30.0
UI_TIMEOUT_MS = 15_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


@dataclass(frozen=True)
class Shop:
    processes: DemoProcesses
    emulator: Emulator
    url: str
    password: str


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    processes = DemoProcesses(tmp_path_factory.mktemp("example-shop"))
    with processes:
        processes.prepare()
        password = processes.create_superuser()
        emulator = processes.start_emulator()
        processes.start_worker()
        url = processes.start_web()
        yield Shop(processes, emulator, url, password)


@pytest.fixture
def page(shop: Shop, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A logged-in admin page; a failing test leaves a screenshot in test-artifacts/."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            with screenshot_on_failure(page, f"{request.node.name}-login"):
                page.goto(f"{shop.url}/admin/login/")
                page.fill("#id_username", "admin")
                page.fill("#id_password", shop.password)
                page.click("input[type=submit]")
                page.wait_for_selector("#user-tools")
            yield page
        finally:
            browser.close()


@contextmanager
def screenshot_on_failure(page: Any, name: str) -> Iterator[None]:
    try:
        yield
    except BaseException:
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
        raise


def run_action(page: Any, changelist: str, action: str, count: int) -> list[str]:
    """Tick the first ``count`` rows of a changelist, run ``action``; the ticked pks."""
    page.goto(changelist)
    boxes = page.locator("input.action-select")
    chosen = []
    for index in range(count):
        box = boxes.nth(index)
        box.check()
        chosen.append(box.get_attribute("value"))
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    return chosen


def sent_order_ids(emulator: Emulator) -> list[str]:
    return [
        order["id"]
        for request in emulator.requests()
        if request["func"] == "UpdateOrders4"
        for order in request["body"]["orders"]
    ]


def test_push_selected_orders(shop: Shop, page: Any) -> None:
    with screenshot_on_failure(page, "push-selected-orders"):
        push_selected_orders(shop, page)


def push_selected_orders(shop: Shop, page: Any) -> None:
    chosen = run_action(page, f"{shop.url}/admin/shop/order/", "push_to_bubblehouse", 3)

    message = page.locator("ul.messagelist li.success").inner_text()
    assert "3 object(s) queued for Bubblehouse" in message
    wait_until(
        lambda: sorted(sent_order_ids(shop.emulator)) == sorted(chosen),
        timeout=DELIVERY_TIMEOUT,
        what=f"orders {chosen} in the emulator",
    )
    assert sorted(sent_order_ids(shop.emulator)) == sorted(chosen)
    assert sorted(shop.emulator.state()["orders"]) == sorted(chosen)
    assert shop.emulator.rejected() == []
    assert shop.emulator.processing_errors() == []


def test_replace_dealers_through_confirmation(shop: Shop, page: Any) -> None:
    with screenshot_on_failure(page, "replace-dealers"):
        replace_dealers(shop, page)


def replace_dealers(shop: Shop, page: Any) -> None:
    dealers = json.loads(shop.processes.manage("dumpdata", "shop.Dealer"))
    active = sorted(d["fields"]["code"] for d in dealers if d["fields"]["is_active"])

    run_action(page, f"{shop.url}/admin/shop/dealer/", "replace_entity_set_in_bubblehouse", 1)
    page.wait_for_selector("#bubblehouse-replace-plans")
    assert page.locator("h1").inner_text() == "Replace an entity set in Bubblehouse"
    page.check(f"input[name=entity_set][value={PRIMARY_SET}]")
    page.click("input[type=submit][value='Yes, replace the set']")
    message = page.locator("ul.messagelist li.success").inner_text()
    assert f"Replace of entity set '{PRIMARY_SET}' enqueued" in message

    def replaces() -> list[dict[str, Any]]:
        return [
            r["body"]
            for r in shop.emulator.requests()
            if r["func"] == "UpdateEntities1" and r["body"].get("replace_entities") is True
        ]

    wait_until(replaces, timeout=DELIVERY_TIMEOUT, what="the replace request in the emulator")
    (body,) = replaces()
    assert body["entity_set"] == PRIMARY_SET
    assert sorted(entity["id"] for entity in body["entities"]) == active
    assert shop.emulator.rejected() == []
    assert shop.emulator.processing_errors() == []


def shell(shop: Shop, code: str) -> str:
    """Run Python in the example shop's Django (its own settings and database)."""
    return shop.processes.manage("shell", "-v", "0", "-c", code).strip()


OUTBOX_ROWS = "from django_bubblehouse.models import OutboxEntry as E; print(E.objects"


def outbox_state(shop: Shop, order_pk: str) -> str:
    return shell(
        shop,
        "from django_bubblehouse.models import OutboxEntry as E; "
        f"print(E.objects.filter(serializer__endswith='OrderSerializer', object_key='{order_pk}')"
        ".values_list('state', flat=True).first())",
    )


def break_an_order(shop: Shop, *, not_pk: str = "0") -> str:
    """A real failure: an order saved with a status ORDER_STATUS_MAP does not know."""
    pk = shell(
        shop,
        "from shop.models import Order; o = Order.objects.exclude(status='lost')"
        f".exclude(pk={not_pk}).order_by('pk').last(); o.status = 'lost'; o.save(); print(o.pk)",
    )
    wait_until(
        lambda: outbox_state(shop, pk) == "failed",
        timeout=DELIVERY_TIMEOUT,
        what=f"order {pk}'s row failed by the worker",
    )
    return pk


def status_output(shop: Shop) -> tuple[int, str]:
    import subprocess

    done = subprocess.run(
        [sys.executable, str(EXAMPLE_DIR / "manage.py"), "bubblehouse_status"],
        env=shop.processes.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return done.returncode, done.stdout + done.stderr


def test_outbox_admin_for_operators(shop: Shop, page: Any) -> None:
    try:
        with screenshot_on_failure(page, "outbox-operator"):
            outbox_admin_for_operators(shop, page)
    finally:
        shell(shop, "from django_bubblehouse.models import Pause; Pause.objects.all().delete()")


def outbox_admin_for_operators(shop: Shop, page: Any) -> None:
    outbox = f"{shop.url}/admin/django_bubblehouse/outboxentry/"
    broken = break_an_order(shop)

    # The list: the failed row's badge, its Bubblehouse id, and the link to the order's page.
    page.goto(f"{outbox}?state__exact=failed")
    row = page.locator("#result_list tbody tr", has=page.locator(".bubblehouse-state-failed"))
    assert row.count() == 1
    assert row.locator(".bubblehouse-state-failed").inner_text() == "Failed"
    assert row.locator("th a").inner_text() == broken  # the example's order id is its pk
    error = row.locator(".field-short_error").inner_text()
    assert error.startswith("SerializationError: field status: order status 'lost' is not in")
    ARTIFACTS.mkdir(exist_ok=True)
    page.goto(outbox)
    page.screenshot(path=str(ARTIFACTS / "outbox-list.png"), full_page=True)
    page.goto(f"{outbox}?state__exact=failed")
    link = page.locator("a.bubblehouse-host-link").first
    assert link.get_attribute("href") == f"/admin/shop/order/{broken}/change/"
    link.click()
    page.wait_for_selector("#order_form")

    # The failed row's page: the full error, then Retry now once the data is fixed.
    page.goto(f"{outbox}?state__exact=failed")
    page.locator("#result_list tbody th a").first.click()
    page.wait_for_selector("#bubblehouse-retry button")
    assert "order status 'lost' is not in" in page.locator(".field-readable_error").inner_text()
    page.screenshot(path=str(ARTIFACTS / "outbox-failed-row.png"), full_page=True)
    row_page = page.url
    health = page.goto(f"{shop.url}/bubblehouse/health/")  # the staff session is enough
    assert health.status == 503
    assert [p["code"] for p in health.json()["problems"]] == ["failures"]
    code, output = status_output(shop)
    assert code == 2
    assert "failed or dead row(s) (SerializationError" in output
    page.set_content(
        "<pre style='font: 13px monospace; padding: 12px'>"
        + output.replace("&", "&amp;").replace("<", "&lt;")
        + "</pre>"
    )
    page.screenshot(path=str(ARTIFACTS / "bubblehouse-status.png"), full_page=True)
    page.goto(row_page)
    page.wait_for_selector("#bubblehouse-retry button")
    shell(
        shop,
        f"from shop.models import Order; Order.objects.filter(pk={broken}).update(status='paid')",
    )
    page.click("#bubblehouse-retry button")
    # The status box is a message list too: look for this message among them.
    page.locator("ul.messagelist li", has_text="Queued again").wait_for()
    wait_until(
        lambda: outbox_state(shop, broken) == "sent",
        timeout=DELIVERY_TIMEOUT,
        what=f"order {broken} sent after the retry",
    )
    assert shop.emulator.state()["orders"][broken]["status"] == "confirmed"

    # Discard asks first, like Django's delete.
    second = break_an_order(shop, not_pk=broken)
    page.goto(f"{outbox}?state__exact=failed")
    page.locator("#result_list tbody th a").first.click()
    found = re.search(r"/outboxentry/(\d+)/change/", page.url)
    assert found is not None, page.url
    row_pk = found.group(1)
    page.click("#bubblehouse-discard")
    page.wait_for_selector("#bubblehouse-discard-confirm")
    assert "Discard the outbox row for" in page.locator("#content").inner_text()
    page.screenshot(path=str(ARTIFACTS / "outbox-discard-confirmation.png"), full_page=True)
    assert outbox_state(shop, second) == "failed"  # nothing happened yet
    page.click("#bubblehouse-discard-confirm input[type=submit]")
    assert "deleted successfully" in page.locator("ul.messagelist li.success").inner_text()
    # That row is gone (the 5-minute reconciliation may record the still broken order anew).
    assert shell(shop, f"{OUTBOX_ROWS}.filter(pk={row_pk}).exists())") == "False"
    assert outbox_state(shop, broken) == "sent"

    # A pause shows in the status box with its reason, and Resume now lifts it.
    shell(
        shop,
        "from datetime import timedelta; from django.utils import timezone; "
        "from django_bubblehouse.models import Pause; Pause.objects.create("
        f"scope='entity_set:{PRIMARY_SET}', reason='UpdateEntities1 HTTP 400 "
        "entity_set_not_found: no such set', probe_at=timezone.now() + timedelta(hours=1))",
    )
    page.goto(outbox)
    status = page.locator("#bubblehouse-status")
    assert "no such set" in status.inner_text()
    assert "paused since" in status.locator(".problem-paused").inner_text()
    page.screenshot(path=str(ARTIFACTS / "outbox-paused.png"), full_page=True)
    status.locator(".bubblehouse-resume button").click()
    page.locator("ul.messagelist li", has_text=f"Resumed entity_set:{PRIMARY_SET}").wait_for()
    assert (
        shell(shop, "from django_bubblehouse.models import Pause; print(Pause.objects.count())")
        == "0"
    )
    assert page.locator("#bubblehouse-status .paused-scopes").count() == 0

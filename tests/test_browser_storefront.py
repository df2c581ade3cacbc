"""The storefront's rewards page in a real browser: the iframe's URL and its token.

Debian's Chromium drives the example shop over HTTP. Requests to Bubblehouse's
Blocks host are intercepted and answered with an empty page, so the test only
reads what the shop rendered and never leaves the machine.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest

from django_bubblehouse.auth import decode_secret

EXAMPLE_DIR = Path(__file__).resolve().parent.parent / "example_project"
sys.path.insert(0, str(EXAMPLE_DIR))

from demo_processes import SHOP, DemoProcesses  # noqa: E402

from tests.test_browser_admin import (  # noqa: E402
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    UI_TIMEOUT_MS,
    screenshot_on_failure,
)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason=f"{CHROMIUM} is not installed"),
]


@pytest.fixture(scope="module")
def storefront(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[DemoProcesses, str]]:
    with DemoProcesses(tmp_path_factory.mktemp("storefront")) as processes:
        processes.prepare()
        processes.start_emulator()  # the Blocks host is then our own loopback emulator
        yield processes, processes.start_web()


@pytest.fixture
def page(request: pytest.FixtureRequest) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.set_default_timeout(UI_TIMEOUT_MS)
            # The iframe and script would load from Bubblehouse: answer them locally.
            page.route("**/blocks/**", lambda route: route.fulfill(body="<p>blocks</p>"))
            page.route("**/bubblehouse.js", lambda route: route.fulfill(body=""))
            yield page
        finally:
            browser.close()


def iframe_query(page: Any) -> tuple[str, dict[str, list[str]]]:
    src = page.locator("iframe.bubblehouse-rewards").get_attribute("src")
    url = urlsplit(src)
    return f"{url.scheme}://{url.netloc}{url.path}", parse_qs(url.query, keep_blank_values=True)


def test_the_iframe_url_for_a_guest_and_for_a_signed_in_customer(
    storefront: tuple[DemoProcesses, str], page: Any
) -> None:
    processes, url = storefront
    with screenshot_on_failure(page, "storefront-iframe"):
        page.goto(f"{url}/rewards/")
        base, query = iframe_query(page)
        emulator_url = processes.env["BUBBLEHOUSE_API_HOST"]
        assert base == f"{emulator_url}/blocks/v2023061/{SHOP}/Rewards7"
        assert query == {"instance": ["bhpage"], "auth": [""]}
        assert "eyJ" not in page.content()

        password = processes.customer_login("customer1")
        page.click("text=sign in")
        page.fill("#id_username", "customer1")
        page.fill("#id_password", password)
        page.click("#sign-in")
        page.wait_for_selector("text=Signed in as customer1")
        base, query = iframe_query(page)
        assert base == f"{emulator_url}/blocks/v2023061/{SHOP}/Rewards7"
        [token] = query["auth"]
        claims = jwt.decode(
            token, decode_secret(processes.secret), algorithms=["HS256"], audience="BH"
        )
        # customer1 is the first seeded customer: CustomerSerializer pushes its pk, "1".
        assert claims["sub"] == f"{SHOP}/1"
        assert claims["token_use"] == "customer"
        assert claims["exp"] - claims["iat"] == 600

        refreshed = page.evaluate(
            "async (url) => (await fetch(url, {credentials: 'same-origin'})).json()",
            page.locator("iframe.bubblehouse-rewards").get_attribute("data-token-url"),
        )
        fresh = jwt.decode(
            refreshed["token"], decode_secret(processes.secret), algorithms=["HS256"], audience="BH"
        )
        assert fresh["sub"] == f"{SHOP}/1"
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "storefront-signed-in.png"), full_page=True)

        page.click("text=Sign out")
        page.wait_for_selector("text=sign in")
        assert iframe_query(page)[1]["auth"] == [""]

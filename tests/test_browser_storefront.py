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
def storefront_page(request: pytest.FixtureRequest) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            storefront_page = browser.new_page()
            storefront_page.set_default_timeout(UI_TIMEOUT_MS)
            # The iframe and script would load from Bubblehouse: answer them locally.
            storefront_page.route("**/blocks/**", lambda route: route.fulfill(body="<p>blocks</p>"))
            storefront_page.route("**/bubblehouse.js", lambda route: route.fulfill(body=""))
            yield storefront_page
        finally:
            browser.close()


def iframe_query(storefront_page: Any) -> tuple[str, dict[str, list[str]]]:
    src = storefront_page.locator("iframe.bubblehouse-rewards").get_attribute("src")
    url = urlsplit(src)
    return f"{url.scheme}://{url.netloc}{url.path}", parse_qs(url.query, keep_blank_values=True)


def test_the_iframe_url_for_a_guest_and_for_a_signed_in_customer(
    storefront: tuple[DemoProcesses, str], storefront_page: Any
) -> None:
    processes, url = storefront
    with screenshot_on_failure(storefront_page, "storefront-iframe"):
        storefront_page.goto(f"{url}/rewards/")
        base, query = iframe_query(storefront_page)
        emulator_url = processes.env["BUBBLEHOUSE_API_HOST"]
        assert base == f"{emulator_url}/blocks/v2023061/{SHOP}/Rewards7"
        assert query == {"instance": ["bhpage"], "auth": [""]}
        assert "eyJ" not in storefront_page.content()

        password = processes.customer_login("customer1")
        storefront_page.click("text=sign in")
        storefront_page.fill("#id_username", "customer1")
        storefront_page.fill("#id_password", password)
        storefront_page.click("#sign-in")
        storefront_page.wait_for_selector("text=Signed in as customer1")
        base, query = iframe_query(storefront_page)
        assert base == f"{emulator_url}/blocks/v2023061/{SHOP}/Rewards7"
        [token] = query["auth"]
        claims = jwt.decode(
            token, decode_secret(processes.secret), algorithms=["HS256"], audience="BH"
        )
        # customer1 is the first seeded customer: CustomerSerializer pushes its pk, "1".
        assert claims["sub"] == f"{SHOP}/1"
        assert claims["token_use"] == "customer"
        assert claims["exp"] - claims["iat"] == 600

        refreshed = storefront_page.evaluate(
            "async (url) => (await fetch(url, {credentials: 'same-origin'})).json()",
            storefront_page.locator("iframe.bubblehouse-rewards").get_attribute("data-token-url"),
        )
        fresh = jwt.decode(
            refreshed["token"], decode_secret(processes.secret), algorithms=["HS256"], audience="BH"
        )
        assert fresh["sub"] == f"{SHOP}/1"
        ARTIFACTS.mkdir(exist_ok=True)
        storefront_page.screenshot(path=str(ARTIFACTS / "storefront-signed-in.png"), full_page=True)

        storefront_page.click("text=Sign out")
        storefront_page.wait_for_selector("text=sign in")
        assert iframe_query(storefront_page)[1]["auth"] == [""]

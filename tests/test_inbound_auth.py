"""Every refusal of an inbound token, on a hook and on the pull URLs alike."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable
from typing import Any

import jwt
import pytest
from django.test import Client

from django_bubblehouse.auth import mint_shop_token
from django_bubblehouse.storefront import mint_customer_token
from tests.hooks_support import hooks_enabled
from tests.pull_support import make_token
from tests.testapp import hooks
from tests.testapp.models import Customer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hooks_enabled")]

OTHER_SECRET = "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0zMmJ5dGVz"
DISCOUNT = {"code": "LEAKED", "title": "free stuff", "amount": "100.00"}
HOOK = "/bubblehouse/hooks/CreateDiscount4"
FEED = "/bubblehouse/orders.json"
ORDER = "/bubblehouse/orders/{pk}/"


def send(url: str, token: str | None, request_id: str = "r-1") -> Any:
    client = Client()
    headers = {"X-Request-ID": request_id}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    if url == HOOK:
        body = json.dumps(DISCOUNT)
        return client.post(url, body, content_type="application/json", headers=headers)
    return client.get(url, {"limit": 5}, headers=headers)


def urls(pull_order) -> list[str]:
    return [HOOK, FEED, "/bubblehouse/customers.csv", ORDER.format(pk=pull_order.pk)]


def assert_refused(response: Any, reason: str) -> None:
    assert response.status_code == 401, response.content
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert response["Cache-Control"] == "no-store"
    body = json.loads(response.content)
    assert body["id"] == "invalid_token"
    assert reason in body["message"]
    assert b"SECRET-ORDER-1" not in response.content
    assert hooks.DISCOUNTS == []


def unsigned(claims: dict[str, Any]) -> str:
    """An ``alg: none`` token: header and claims, no signature."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'none', 'typ': 'JWT', 'kid': 'test-kid'})}.{part(claims)}."


def now() -> int:
    return int(time.time())


REFUSALS: dict[str, tuple[Callable[[], str | None], str]] = {
    "no token": (lambda: None, "missing Authorization"),
    "forged signature": (lambda: make_token(secret=OTHER_SECRET), "bad signature"),
    "alg none": (
        lambda: unsigned({"aud": "BH", "sub": "testshop", "exp": now() + 60}),
        "unsupported algorithm",
    ),
    "another algorithm": (lambda: make_token(algorithm="HS512"), "unsupported algorithm"),
    "unknown kid": (lambda: make_token(kid="retired-kid"), "unknown key id"),
    "expired": (lambda: make_token(iat=now() - 600, exp=now() - 300), "expired"),
    "no exp": (lambda: make_token(drop=("exp",)), "MissingRequiredClaim"),
    "outbound push token": (lambda: mint_shop_token(), "push tokens are not accepted"),
    "too long a lifetime": (lambda: make_token(exp=now() + 7200), "lifetime exceeds 3600"),
    "decades without iat": (
        lambda: make_token(drop=("iat",), exp=now() + 30 * 365 * 86400),
        "lifetime exceeds",
    ),
    "issued in the future": (
        lambda: make_token(iat=now() + 3000, exp=now() + 3300),
        "ImmatureSignatureError",
    ),
    "another shop": (lambda: make_token(sub="othershop"), "subject"),
    "another audience": (lambda: make_token(aud="someone-else"), "InvalidAudience"),
}


# The key is short on purpose: HS512 must be refused for its algorithm alone.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
@pytest.mark.parametrize("refusal", list(REFUSALS))
def test_every_refusal_on_every_inbound_url(pull_order, refusal):
    mint, reason = REFUSALS[refusal]
    for url in urls(pull_order):
        assert_refused(send(url, mint()), reason)


def test_a_customer_token_is_refused(pull_order):
    token = mint_customer_token(Customer.objects.get())
    for url in urls(pull_order):
        assert_refused(send(url, token), "subject")


def test_a_customer_token_for_the_bare_shop_would_still_be_refused_by_its_use(pull_order):
    # Even a customer token whose sub were the bare shop is not a credential here.
    claims = jwt.decode(
        mint_customer_token(Customer.objects.get()), options={"verify_signature": False}
    )
    token = make_token(token_use=claims["token_use"])
    assert_refused(send(FEED, token), "customer token is not accepted")


def test_a_token_within_the_lifetime_cap_is_accepted(pull_order):
    token = make_token(iat=now(), exp=now() + 3600)
    assert send(FEED, token).status_code == 200
    assert send(HOOK, token).status_code == 200
    assert [d.code for d in hooks.DISCOUNTS] == ["LEAKED"]


def test_the_lifetime_cap_is_configurable(pull_order):
    with hooks_enabled(INBOUND_MAX_TOKEN_LIFETIME=60):
        assert_refused(send(FEED, make_token(exp=now() + 300)), "lifetime exceeds 60")
        assert send(FEED, make_token(exp=now() + 60)).status_code == 200


def test_push_tokens_are_accepted_only_when_the_host_opts_in(pull_order):
    with hooks_enabled(INBOUND_ACCEPT_PUSH_TOKENS=True):
        assert send(FEED, mint_shop_token()).status_code == 200
        # The opt-in is for push tokens only.
        assert_refused(send(FEED, mint_customer_token(Customer.objects.get())), "subject")
        assert send(HOOK, mint_shop_token()).status_code == 200


def test_inbound_keys_keep_the_push_key_out(pull_order):
    with hooks_enabled(INBOUND_KEYS=[("bh-hooks", OTHER_SECRET)], INBOUND_ACCEPT_PUSH_TOKENS=True):
        assert_refused(send(FEED, make_token()), "unknown key id")
        assert send(FEED, make_token(kid="bh-hooks", secret=OTHER_SECRET)).status_code == 200


def test_accepted_claims_are_configurable(pull_order):
    with hooks_enabled(INBOUND_AUDIENCE="testshop", INBOUND_SUBJECT="bubblehouse"):
        assert_refused(send(FEED, make_token()), "InvalidAudience")
        accepted = make_token(aud="testshop", sub="bubblehouse")
        assert send(FEED, accepted).status_code == 200
        assert send(HOOK, accepted).status_code == 200


def test_a_replayed_request_runs_the_handler_once(pull_order):
    token = make_token()
    first, replay = send(HOOK, token, "same-id"), send(HOOK, token, "same-id")
    assert (first.status_code, replay.status_code) == (200, 200)
    assert replay.content == first.content
    assert len(hooks.DISCOUNTS) == 1

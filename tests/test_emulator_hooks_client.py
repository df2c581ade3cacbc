"""The emulator calls a running shop's hooks like Bubblehouse: from Python and the command line."""

from __future__ import annotations

import json
import socket

import jwt
import pytest

from django_bubblehouse.auth import decode_secret
from django_bubblehouse.conf import SigningKey, get_settings
from django_bubblehouse.testing.emulator.__main__ import main
from django_bubblehouse.testing.emulator.hooks_client import (
    call_hook,
    hook_headers,
    hook_url,
)
from django_bubblehouse.testing.emulator.tokens import sign_token
from tests.testapp import hooks

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("hooks_enabled")]

DISCOUNT = {"code": "WELCOME10", "title": "10 % off", "percentage": 1000}


@pytest.fixture
def registered_url(live_server) -> str:
    return f"{live_server.url}/bubblehouse/hooks/:name"


def shop_key() -> SigningKey:
    return get_settings().keys[0]


def test_the_token_is_shaped_like_bubblehouses():
    token = sign_token(shop_key(), "testshop", now=1_700_000_000)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": "test-kid"}
    claims = jwt.decode(
        token,
        decode_secret(shop_key().secret),
        algorithms=["HS256"],
        audience="BH",
        options={"verify_exp": False},
    )
    assert claims == {"aud": "BH", "sub": "testshop", "iat": 1_700_000_000, "exp": 1_700_000_300}


def test_headers_carry_a_fresh_request_id_and_the_urgency():
    first, second = (hook_headers(shop="s", key=shop_key(), urgency="urgent") for _ in "ab")
    assert first["X-Request-ID"] != second["X-Request-ID"]
    assert first["X-BH-Urgency"] == "urgent"
    with pytest.raises(ValueError, match="urgency"):
        hook_headers(shop="s", key=shop_key(), urgency="soon")


def test_the_registered_url_names_the_hook():
    assert hook_url("https://shop/bh/hooks/:name", "Hello1") == "https://shop/bh/hooks/Hello1"


def test_call_hook_reaches_the_handler_over_http(registered_url):
    answer = call_hook(registered_url, "CreateDiscount4", DISCOUNT, shop="testshop", key=shop_key())
    assert answer.ok
    assert answer.body == {"ok": True}
    assert [d.code for d in hooks.DISCOUNTS] == ["WELCOME10"]


def test_call_hook_returns_a_refusal_instead_of_raising(registered_url):
    wrong = SigningKey("test-kid", "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0zMmJ5dGVz")
    answer = call_hook(registered_url, "CreateDiscount4", DISCOUNT, shop="testshop", key=wrong)
    assert (answer.status, answer.body["id"]) == (401, "invalid_token")
    assert not answer.ok
    assert hooks.DISCOUNTS == []


def test_the_command_line_calls_a_hook(registered_url, capsys):
    key = shop_key()
    args = ["call-hook", "Hello1", "--url", registered_url, "--data", '{"magic": "m-1"}']
    args += ["--shop", "testshop", "--kid", key.kid, "--secret", key.secret]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("Hello1: HTTP 200\n")
    assert json.loads(out.split("\n", 1)[1]) == {
        "magic": "m-1",
        "hooks": ["Hello1", "CreateDiscount4", "SendEvent1"],
    }


def test_the_command_line_reads_data_from_a_file_and_fails_on_an_error(
    registered_url, capsys, tmp_path
):
    body = tmp_path / "discount.json"
    body.write_text(json.dumps({**DISCOUNT, "percentage": 12.5}))
    key = shop_key()
    args = ["call-hook", "CreateDiscount4", "--url", registered_url, "--data", f"@{body}"]
    args += ["--shop", "testshop", "--kid", key.kid, "--secret", key.secret]
    assert main(args) == 1
    out = capsys.readouterr().out
    assert "HTTP 400" in out
    assert "percentage" in out


def test_the_command_line_says_when_the_shop_cannot_be_reached(capsys):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}/bubblehouse/hooks/:name"
    assert main(["call-hook", "Hello1", "--url", url]) == 2
    err = capsys.readouterr().err
    assert f"could not reach {url}" in err
    assert "Traceback" not in err

"""The HTTP client against ``responses``: request shape, tokens, the shared session, no leaks."""

from __future__ import annotations

import base64
import logging

import jwt
import pytest
import requests
import responses
from django.test import override_settings

from django_bubblehouse import __version__
from django_bubblehouse import client as client_module
from django_bubblehouse.auth import mint_shop_token
from django_bubblehouse.client import get_client
from django_bubblehouse.exceptions import ConfigurationAPIError
from tests.client_support import (
    BASE,
    CONFIG,
    ORDER,
    ORDERS_URL,
    SECRET,
    bearer,
    make_client,
    sent_body,
)


def test_orders_request_url_headers_timeout_and_body(http):
    http.post(ORDERS_URL, json={"ok": True})
    make_client().update_orders([ORDER])
    request = http.calls[0].request
    assert request.url == ORDERS_URL
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == (
        f"django-bubblehouse/{__version__} (+python-requests/{requests.__version__})"
    )
    assert request.req_kwargs["timeout"] == (3.0, 17.0)
    assert sent_body(http) == {
        "orders": [{"id": "1001", "customer": {"id": "c1"}, "amount_spent": "12.50"}]
    }


def test_authorization_is_a_fresh_shop_token(http):
    http.post(ORDERS_URL, json={"ok": True})
    make_client().update_orders([ORDER])
    token = bearer(http)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": "kid-7"}
    key = base64.b64decode(SECRET)
    claims = jwt.decode(token, key, algorithms=["HS256"], audience="BH")
    assert claims["aud"] == "BH"
    assert claims["sub"] == "acme"
    assert claims["exp"] == claims["iat"] + 240


def test_a_token_is_minted_for_every_call(http, monkeypatch):
    minted: list[int] = []
    real_mint = mint_shop_token

    def counting_mint(settings):
        minted.append(1)
        return real_mint(settings, now=1_700_000_000 + len(minted))

    monkeypatch.setattr("django_bubblehouse.client.mint_shop_token", counting_mint)
    http.post(ORDERS_URL, json={"ok": True})
    client = make_client()
    client.update_orders([ORDER])
    client.update_orders([ORDER])
    assert len(minted) == 2
    assert bearer(http, 0) != bearer(http, 1)


def test_customers_call(http):
    http.post(f"{BASE}/UpdateCustomers3", json={"ok": True})
    make_client().update_customers([{"id": "c1", "email": "a@example.com"}])
    assert sent_body(http) == {"customers": [{"id": "c1", "email": "a@example.com"}]}


def test_products_always_send_collections_and_replace_flags_only_when_true(http):
    http.post(f"{BASE}/UpdateProducts3", json={"ok": True})
    client = make_client()
    client.update_products([{"id": "p1", "title": "Mug"}])
    assert sent_body(http) == {"products": [{"id": "p1", "title": "Mug"}], "collections": []}
    client.update_products(collections=[{"id": "k1"}], replace_collections=True)
    assert sent_body(http) == {
        "products": [],
        "collections": [{"id": "k1"}],
        "replace_collections": True,
    }
    client.update_products([], [], replace_products=True)
    assert sent_body(http) == {"products": [], "collections": [], "replace_products": True}


def test_entities_shape_and_a_replace_is_one_request(http):
    http.post(f"{BASE}/UpdateEntities1", json={"ok": True})
    client = make_client()
    client.update_entities("dealers", [{"id": "d1"}])
    assert sent_body(http) == {"entity_set": "dealers", "entities": [{"id": "d1"}]}
    many = [{"id": f"d{i}"} for i in range(500)]
    client.update_entities("dealers", many, replace=True)
    assert len(http.calls) == 2
    assert sent_body(http) == {"entity_set": "dealers", "entities": many, "replace_entities": True}


def test_debug_flag_only_in_debug_mode(http):
    http.post(ORDERS_URL, json={"ok": True})
    make_client(DEBUG_MODE=True).update_orders([ORDER])
    assert sent_body(http)["debug"] is True
    make_client().update_orders([ORDER])
    assert "debug" not in sent_body(http)


def test_float_money_is_refused_before_any_request(http):
    with pytest.raises(TypeError, match=r"orders\[0\]\.amount_spent is the float 12\.5"):
        make_client().update_orders([{**ORDER, "amount_spent": 12.5}])
    assert len(http.calls) == 0


def test_401_is_not_resent(http):
    # The token was minted for this very request: the identical request would be refused again.
    http.post(ORDERS_URL, status=401, json={"id": "invalid_token"})
    with pytest.raises(ConfigurationAPIError, match="token refused"):
        make_client().update_orders([ORDER])
    assert len(http.calls) == 1


def test_no_token_or_secret_in_logs_errors_or_reprs(http, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client()
    http.post(ORDERS_URL, json={"ok": True})
    client.update_orders([ORDER, ORDER])
    http.replace(
        responses.POST,
        ORDERS_URL,
        status=401,
        json={"id": "invalid_token", "message": "echo: " + bearer(http)},
    )
    with pytest.raises(ConfigurationAPIError) as caught:
        client.update_orders([ORDER])
    tokens = [bearer(http, index) for index in range(len(http.calls))]
    assert len(tokens) == 2
    exposed = "\n".join(
        [caplog.text, str(caught.value), repr(caught.value), repr(client), repr(client.settings)]
    )
    for secret in [SECRET, *tokens]:
        assert secret not in exposed
    assert "UpdateOrders4: 2 item(s) accepted" in caplog.text
    assert "echo: [token]" in str(caught.value)


def test_get_client_shares_one_session_and_follows_settings(monkeypatch):
    monkeypatch.setattr(client_module, "_session", None)
    monkeypatch.setattr(client_module, "_client", None)
    first = get_client()
    assert get_client() is first
    with override_settings(BUBBLEHOUSE={**CONFIG, "BATCH_SIZE": 5}):
        changed = get_client()
        assert changed is not first
        assert changed.settings.batch_size == 5
        assert changed.session is first.session
    assert get_client().settings.batch_size == first.settings.batch_size


def test_get_client_uses_a_new_session_after_fork(monkeypatch):
    monkeypatch.setattr(client_module, "_session", None)
    monkeypatch.setattr(client_module, "_client", None)
    parent = get_client()
    monkeypatch.setattr(client_module, "_session_pid", -1)  # as if created before a fork
    child = get_client()
    assert child.session is not parent.session
    assert get_client() is child

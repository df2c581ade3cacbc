"""The HTTP client against ``responses``: request shape, the error table, and no secret leaks."""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
from decimal import Decimal
from email.utils import format_datetime
from typing import Any

import jwt
import pytest
import requests
import responses
from django.test import override_settings

from django_bubblehouse import __version__
from django_bubblehouse import client as client_module
from django_bubblehouse.auth import mint_shop_token
from django_bubblehouse.client import BubblehouseClient, get_client
from django_bubblehouse.conf import get_settings
from django_bubblehouse.exceptions import (
    BubblehouseAPIError,
    ConfigurationAPIError,
    RejectedAPIError,
    TransientAPIError,
)

SECRET = "bXktdmVyeS1vd24tc2hhcmVkLXNlY3JldC0zMi1ieXRlcyE="
BASE = "https://api.bubblehouse.test/api/v2023061/acme"
ORDERS_URL = f"{BASE}/UpdateOrders4"
CONFIG: dict[str, Any] = {
    "SHOP": "acme",
    "KID": "kid-7",
    "SHARED_SECRET": SECRET,
    "API_HOST": "api.bubblehouse.test",
    "TIMEOUT": (3, 17),
    "TOKEN_TTL": 240,
}
ORDER = {"id": "1001", "customer": {"id": "c1"}, "amount_spent": Decimal("12.50")}


def make_client(**changes: Any) -> BubblehouseClient:
    with override_settings(BUBBLEHOUSE={**CONFIG, **changes}):
        return BubblehouseClient(get_settings())


@pytest.fixture
def api():
    with responses.RequestsMock() as mock:
        yield mock


def sent_body(api: responses.RequestsMock, index: int = -1) -> Any:
    body = api.calls[index].request.body
    assert body is not None
    return json.loads(body)


def bearer(api: responses.RequestsMock, index: int = -1) -> str:
    return api.calls[index].request.headers["Authorization"].removeprefix("Bearer ")


def test_orders_request_url_headers_timeout_and_body(api):
    api.post(ORDERS_URL, json={"ok": True})
    make_client().update_orders([ORDER])
    request = api.calls[0].request
    assert request.url == ORDERS_URL
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["User-Agent"] == (
        f"django-bubblehouse/{__version__} (+python-requests/{requests.__version__})"
    )
    assert request.req_kwargs["timeout"] == (3.0, 17.0)
    assert sent_body(api) == {
        "orders": [{"id": "1001", "customer": {"id": "c1"}, "amount_spent": "12.50"}]
    }


def test_authorization_is_a_fresh_shop_token(api):
    api.post(ORDERS_URL, json={"ok": True})
    make_client().update_orders([ORDER])
    token = bearer(api)
    assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT", "kid": "kid-7"}
    key = base64.b64decode(SECRET)
    claims = jwt.decode(token, key, algorithms=["HS256"], audience="BH")
    assert claims["aud"] == "BH"
    assert claims["sub"] == "acme"
    assert claims["exp"] == claims["iat"] + 240


def test_a_token_is_minted_for_every_call(api, monkeypatch):
    minted: list[int] = []
    real_mint = mint_shop_token

    def counting_mint(settings):
        minted.append(1)
        return real_mint(settings, now=1_700_000_000 + len(minted))

    monkeypatch.setattr("django_bubblehouse.client.mint_shop_token", counting_mint)
    api.post(ORDERS_URL, json={"ok": True})
    client = make_client()
    client.update_orders([ORDER])
    client.update_orders([ORDER])
    assert len(minted) == 2
    assert bearer(api, 0) != bearer(api, 1)


def test_customers_call(api):
    api.post(f"{BASE}/UpdateCustomers3", json={"ok": True})
    make_client().update_customers([{"id": "c1", "email": "a@example.com"}])
    assert sent_body(api) == {"customers": [{"id": "c1", "email": "a@example.com"}]}


def test_products_always_send_collections_and_replace_flags_only_when_true(api):
    api.post(f"{BASE}/UpdateProducts3", json={"ok": True})
    client = make_client()
    client.update_products([{"id": "p1", "title": "Mug"}])
    assert sent_body(api) == {"products": [{"id": "p1", "title": "Mug"}], "collections": []}
    client.update_products(collections=[{"id": "k1"}], replace_collections=True)
    assert sent_body(api) == {
        "products": [],
        "collections": [{"id": "k1"}],
        "replace_collections": True,
    }
    client.update_products([], [], replace_products=True)
    assert sent_body(api) == {"products": [], "collections": [], "replace_products": True}


def test_entities_shape_and_a_replace_is_one_request(api):
    api.post(f"{BASE}/UpdateEntities1", json={"ok": True})
    client = make_client()
    client.update_entities("dealers", [{"id": "d1"}])
    assert sent_body(api) == {"entity_set": "dealers", "entities": [{"id": "d1"}]}
    many = [{"id": f"d{i}"} for i in range(500)]
    client.update_entities("dealers", many, replace=True)
    assert len(api.calls) == 2
    assert sent_body(api) == {"entity_set": "dealers", "entities": many, "replace_entities": True}


def test_debug_flag_only_in_debug_mode(api):
    api.post(ORDERS_URL, json={"ok": True})
    make_client(DEBUG_MODE=True).update_orders([ORDER])
    assert sent_body(api)["debug"] is True
    make_client().update_orders([ORDER])
    assert "debug" not in sent_body(api)


def test_float_money_is_refused_before_any_request(api):
    with pytest.raises(TypeError, match=r"orders\[0\]\.amount_spent is the float 12\.5"):
        make_client().update_orders([{**ORDER, "amount_spent": 12.5}])
    assert len(api.calls) == 0


def test_401_is_retried_once_with_a_new_token(api, monkeypatch):
    tick = iter(range(1_700_000_000, 1_700_000_100))
    real_mint = mint_shop_token
    monkeypatch.setattr(
        "django_bubblehouse.client.mint_shop_token", lambda s: real_mint(s, now=next(tick))
    )
    api.post(ORDERS_URL, status=401, json={"id": "invalid_token"})
    api.post(ORDERS_URL, json={"ok": True})
    make_client().update_orders([ORDER])
    assert len(api.calls) == 2
    assert bearer(api, 0) != bearer(api, 1)


def raised(api: responses.RequestsMock, call: Any, **response: Any) -> BubblehouseAPIError:
    api.post(ORDERS_URL, **response)
    with pytest.raises(BubblehouseAPIError) as caught:
        call()
    return caught.value


def test_second_401_is_a_configuration_error(api):
    error = raised(
        api,
        lambda: make_client().update_orders([ORDER]),
        status=401,
        json={"id": "invalid_token", "message": "token expired"},
    )
    assert len(api.calls) == 2
    assert type(error) is ConfigurationAPIError
    assert (error.scope, error.call, error.status, error.error_id) == (
        "*",
        "UpdateOrders4",
        401,
        "invalid_token",
    )
    assert "token expired" in error.message


def test_429_is_transient_with_retry_after_seconds(api):
    error = raised(
        api,
        lambda: make_client().update_orders([ORDER]),
        status=429,
        json={"id": "rate_limit_exceeded", "message": "slow down"},
        headers={"Retry-After": "42"},
    )
    assert type(error) is TransientAPIError
    assert error.retryable
    assert (error.status, error.error_id, error.message, error.retry_after) == (
        429,
        "rate_limit_exceeded",
        "slow down",
        42.0,
    )
    assert len(api.calls) == 1


def test_429_retry_after_as_http_date(api):
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    error = raised(
        api,
        lambda: make_client().update_orders([ORDER]),
        status=429,
        headers={"Retry-After": format_datetime(later, usegmt=True)},
    )
    assert error.retry_after is not None
    assert 100 <= error.retry_after <= 120


@pytest.mark.parametrize(("header", "expected"), [(None, None), ("soon", None), ("-5", 0.0)])
def test_429_without_a_usable_retry_after(api, header, expected):
    headers = {"Retry-After": header} if header else {}
    error = raised(api, lambda: make_client().update_orders([ORDER]), status=429, headers=headers)
    assert error.retry_after == expected


@pytest.mark.parametrize(
    "error_id",
    [
        "invalid_global_api_version",
        "obsolete_global_api_version",
        "inaccessible_global_api_version",
    ],
)
def test_api_version_errors_pause_everything(api, error_id):
    error = raised(
        api, lambda: make_client().update_orders([ORDER]), status=400, json={"id": error_id}
    )
    assert type(error) is ConfigurationAPIError
    assert (error.scope, error.status, error.error_id) == ("*", 400, error_id)
    assert not error.retryable


def test_entity_set_not_found_pauses_that_set(api):
    api.post(f"{BASE}/UpdateEntities1", status=400, json={"id": "entity_set_not_found"})
    with pytest.raises(ConfigurationAPIError) as caught:
        make_client().update_entities("dealers", [{"id": "d1"}])
    assert caught.value.scope == "entity_set:dealers"
    assert (caught.value.call, caught.value.error_id) == ("UpdateEntities1", "entity_set_not_found")


@pytest.mark.parametrize(
    ("status", "response", "error_id", "message"),
    [
        (
            400,
            {"json": {"id": "invalid_request", "message": "id: required"}},
            "invalid_request",
            "id: required",
        ),
        (403, {"json": {"id": "forbidden"}}, "forbidden", "Forbidden"),
        (404, {"body": "No such page"}, None, "No such page"),
        (422, {"json": {"message": "bad data"}}, None, "bad data"),
    ],
)
def test_other_4xx_are_rejected(api, status, response, error_id, message):
    error = raised(api, lambda: make_client().update_orders([ORDER]), status=status, **response)
    assert type(error) is RejectedAPIError
    assert not error.retryable
    assert (error.call, error.status, error.error_id, error.message) == (
        "UpdateOrders4",
        status,
        error_id,
        message,
    )
    assert len(api.calls) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_are_transient(api, status):
    error = raised(api, lambda: make_client().update_orders([ORDER]), status=status, body="oops")
    assert type(error) is TransientAPIError
    assert (error.status, error.message) == (status, "oops")
    assert len(api.calls) == 1


@pytest.mark.parametrize(
    "exception",
    [requests.ConnectTimeout(), requests.ReadTimeout(), requests.ConnectionError("refused")],
)
def test_network_failures_are_transient(api, exception):
    error = raised(api, lambda: make_client().update_orders([ORDER]), body=exception)
    assert type(error) is TransientAPIError
    assert (error.call, error.status, error.error_id) == ("UpdateOrders4", None, None)
    assert len(api.calls) == 1


@pytest.mark.parametrize(
    "response",
    [
        {"body": "<html>ok</html>"},
        {"json": {}},
        {"json": {"ok": False}},
        {"json": {"ok": "true"}},
        {"json": [True]},
    ],
)
def test_malformed_200_is_transient(api, response):
    error = raised(api, lambda: make_client().update_orders([ORDER]), status=200, **response)
    assert type(error) is TransientAPIError
    assert error.status == 200
    assert '{"ok": true}' in error.message


def test_redirect_is_a_configuration_error_and_not_followed(api):
    error = raised(
        api,
        lambda: make_client().update_orders([ORDER]),
        status=301,
        headers={"Location": "https://elsewhere.test/"},
    )
    assert type(error) is ConfigurationAPIError
    assert len(api.calls) == 1


@pytest.mark.parametrize(
    "changes", [{"SHARED_SECRET": "%%%not-base64%%%"}, {"SHARED_SECRET": "", "KID": ""}]
)
def test_unusable_credentials_are_a_configuration_error_without_a_request(api, changes):
    with pytest.raises(ConfigurationAPIError) as caught:
        make_client(**changes).update_orders([ORDER])
    assert caught.value.scope == "*"
    assert "%%%not-base64%%%" not in str(caught.value)
    assert len(api.calls) == 0


def test_no_token_or_secret_in_logs_errors_or_reprs(api, caplog):
    caplog.set_level(logging.DEBUG)
    client = make_client()
    api.post(ORDERS_URL, json={"ok": True})
    client.update_orders([ORDER, ORDER])
    api.replace(
        responses.POST,
        ORDERS_URL,
        status=401,
        json={"id": "invalid_token", "message": "echo: " + bearer(api)},
    )
    with pytest.raises(ConfigurationAPIError) as caught:
        client.update_orders([ORDER])
    tokens = [bearer(api, index) for index in range(len(api.calls))]
    assert len(tokens) == 3
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

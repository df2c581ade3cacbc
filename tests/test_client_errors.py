"""How the client turns each kind of failed response into a typed error."""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

import pytest
import requests

from django_bubblehouse.exceptions import (
    ConfigurationAPIError,
    RateLimitedAPIError,
    RejectedAPIError,
    TransientAPIError,
)
from tests.client_support import BASE, ORDER, make_client, raised


def test_401_is_a_configuration_error_at_once(http):
    error = raised(
        http,
        lambda: make_client().update_orders([ORDER]),
        status=401,
        json={"id": "invalid_token", "message": "token expired"},
    )
    assert len(http.calls) == 1
    assert type(error) is ConfigurationAPIError
    assert (error.scope, error.call, error.status, error.error_id) == (
        "*",
        "UpdateOrders4",
        401,
        "invalid_token",
    )
    assert "token expired" in error.message


def test_429_is_transient_with_retry_after_seconds(http):
    error = raised(
        http,
        lambda: make_client().update_orders([ORDER]),
        status=429,
        json={"id": "rate_limit_exceeded", "message": "slow down"},
        headers={"Retry-After": "42"},
    )
    assert type(error) is RateLimitedAPIError  # transient, and spends no attempt
    assert error.retryable
    assert (error.status, error.error_id, error.message, error.retry_after) == (
        429,
        "rate_limit_exceeded",
        "slow down",
        42.0,
    )
    assert len(http.calls) == 1


def test_429_retry_after_as_http_date(http):
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=120)
    error = raised(
        http,
        lambda: make_client().update_orders([ORDER]),
        status=429,
        headers={"Retry-After": format_datetime(later, usegmt=True)},
    )
    assert error.retry_after is not None
    assert 100 <= error.retry_after <= 120


@pytest.mark.parametrize(("header", "expected"), [(None, None), ("soon", None), ("-5", 0.0)])
def test_429_without_a_usable_retry_after(http, header, expected):
    headers = {"Retry-After": header} if header else {}
    error = raised(http, lambda: make_client().update_orders([ORDER]), status=429, headers=headers)
    assert error.retry_after == expected


@pytest.mark.parametrize(
    "error_id",
    [
        "invalid_global_api_version",
        "obsolete_global_api_version",
        "inaccessible_global_api_version",
    ],
)
def test_api_version_errors_pause_everything(http, error_id):
    error = raised(
        http, lambda: make_client().update_orders([ORDER]), status=400, json={"id": error_id}
    )
    assert type(error) is ConfigurationAPIError
    assert (error.scope, error.status, error.error_id) == ("*", 400, error_id)
    assert not error.retryable


def test_entity_set_not_found_pauses_that_set(http):
    http.post(f"{BASE}/UpdateEntities1", status=400, json={"id": "entity_set_not_found"})
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
def test_other_4xx_are_rejected(http, status, response, error_id, message):
    error = raised(http, lambda: make_client().update_orders([ORDER]), status=status, **response)
    assert type(error) is RejectedAPIError
    assert not error.retryable
    assert (error.call, error.status, error.error_id, error.message) == (
        "UpdateOrders4",
        status,
        error_id,
        message,
    )
    assert len(http.calls) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_are_transient(http, status):
    error = raised(http, lambda: make_client().update_orders([ORDER]), status=status, body="oops")
    assert type(error) is TransientAPIError
    assert (error.status, error.message) == (status, "oops")
    assert len(http.calls) == 1


@pytest.mark.parametrize(
    "exception",
    [requests.ConnectTimeout(), requests.ReadTimeout(), requests.ConnectionError("refused")],
)
def test_network_failures_are_transient(http, exception):
    error = raised(http, lambda: make_client().update_orders([ORDER]), body=exception)
    assert type(error) is TransientAPIError
    assert (error.call, error.status, error.error_id) == ("UpdateOrders4", None, None)
    assert len(http.calls) == 1


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
def test_malformed_200_is_transient(http, response):
    error = raised(http, lambda: make_client().update_orders([ORDER]), status=200, **response)
    assert type(error) is TransientAPIError
    assert error.status == 200
    assert '{"ok": true}' in error.message


def test_redirect_is_a_configuration_error_and_not_followed(http):
    error = raised(
        http,
        lambda: make_client().update_orders([ORDER]),
        status=301,
        headers={"Location": "https://elsewhere.test/"},
    )
    assert type(error) is ConfigurationAPIError
    assert len(http.calls) == 1


@pytest.mark.parametrize(
    "changes", [{"SHARED_SECRET": "%%%not-base64%%%"}, {"SHARED_SECRET": "", "KID": ""}]
)
def test_unusable_credentials_are_a_configuration_error_without_a_request(http, changes):
    with pytest.raises(ConfigurationAPIError) as caught:
        make_client(**changes).update_orders([ORDER])
    assert caught.value.scope == "*"
    assert "%%%not-base64%%%" not in str(caught.value)
    assert len(http.calls) == 0

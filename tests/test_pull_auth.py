import json
import time
from typing import Any

import jwt
import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings

from django_bubblehouse.auth import decode_secret, mint_shop_token
from django_bubblehouse.conf import get_settings
from tests.pull_support import make_token, pull

pytestmark = pytest.mark.django_db

URLS = ["/bubblehouse/orders.json", "/bubblehouse/customers.csv", "/bubblehouse/orders/1/"]
TEST_SECRET = "dGVzdHMtb25seS1zaGFyZWQtc2VjcmV0LTMyYnl0ZXMh"
OTHER_SECRET = "b3RoZXItc2VjcmV0LW90aGVyLXNlY3JldC0zMmJ5dGVz"


def assert_refused(response: Any, reason: str) -> None:
    assert response.status_code == 401
    assert response["Cache-Control"] == "no-store"
    assert response["WWW-Authenticate"].startswith("Bearer")
    body = json.loads(response.content)
    assert body["id"] == "invalid_token"
    assert reason in body["message"]
    assert set(body) == {"id", "message"}
    assert b"SECRET-ORDER-1" not in response.content


@pytest.mark.parametrize("url", URLS)
def test_missing_header(client, pull_order, url):
    assert_refused(client.get(url), "missing Authorization")


@pytest.mark.parametrize(
    "header",
    ["Basic dXNlcjpwYXNz", "Bearer", "Bearer   ", "Token abc", "bearer-abc"],
)
def test_header_that_is_not_a_bearer_token(client, pull_order, header):
    response = client.get(URLS[0], headers={"Authorization": header})
    assert_refused(response, "must be 'Bearer <token>'")


@pytest.mark.parametrize("url", URLS)
@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("not-a-jwt", "malformed"),
        ("a.b.c", "malformed"),
    ],
)
def test_malformed_token(client, pull_order, url, token, reason):
    assert_refused(pull(client, url, token), reason)


def test_signed_body_that_is_not_json(client, pull_order):
    key = decode_secret(get_settings().keys[0].secret)
    token = jwt.api_jws.encode(b"not json", key, algorithm="HS256", headers={"kid": "test-kid"})
    assert_refused(pull(client, URLS[0], token), "DecodeError")


def test_wrong_kid(client, pull_order):
    assert_refused(pull(client, URLS[0], make_token(kid="retired-kid")), "unknown key id")


def test_bad_signature(client, pull_order):
    assert_refused(pull(client, URLS[0], make_token(secret=OTHER_SECRET)), "bad signature")


def test_tampered_claims_break_the_signature(client, pull_order):
    header, _claims, signature = make_token().split(".")
    _h, forged_claims, _s = make_token(sub="othershop").split(".")
    assert_refused(pull(client, URLS[0], f"{header}.{forged_claims}.{signature}"), "signature")


def test_expired(client, pull_order):
    past = int(time.time()) - 600
    assert_refused(pull(client, URLS[0], make_token(iat=past, exp=past + 300)), "expired")


def test_expired_shop_token_from_our_own_minter(client, pull_order):
    token = mint_shop_token(now=time.time() - 3600)
    assert_refused(pull(client, URLS[0], token), "expired")


@pytest.mark.parametrize("claim", ["exp", "sub", "aud"])
def test_missing_required_claim(client, pull_order, claim):
    assert_refused(pull(client, URLS[0], make_token(drop=(claim,))), "MissingRequiredClaim")


@pytest.mark.parametrize("subject", ["othershop", "testshop/42", ""])
def test_wrong_subject(client, pull_order, subject):
    assert_refused(pull(client, URLS[0], make_token(sub=subject)), "subject")


def test_wrong_audience(client, pull_order):
    assert_refused(pull(client, URLS[0], make_token(aud="someone-else")), "InvalidAudience")


# A short key is the point here: the token must be refused for its algorithm alone.
@pytest.mark.filterwarnings("ignore::jwt.warnings.InsecureKeyLengthWarning")
def test_other_algorithm(client, pull_order):
    token = make_token(algorithm="HS512")
    assert_refused(pull(client, URLS[0], token), "unsupported algorithm")


def test_a_logged_in_staff_session_is_not_enough(client, pull_order):
    user = User.objects.create_superuser("admin", "admin@example.com", "pw")
    client.force_login(user)
    assert_refused(client.get(URLS[0]), "missing Authorization")


@override_settings(BUBBLEHOUSE={"SHOP": "", "KEYS": []})
def test_unconfigured_shop_refuses_everyone(client):
    assert_refused(client.get(URLS[0], headers={"Authorization": "Bearer x"}), "not configured")


@override_settings(
    BUBBLEHOUSE={
        "SHOP": "testshop",
        "KEYS": [("new-kid", OTHER_SECRET), ("test-kid", "not base64 !!")],
        "SERIALIZERS": ["tests.testapp.bubblehouse.OrderSerializer"],
    }
)
def test_broken_configured_secret_is_logged_not_shown(client, pull_order, caplog):
    response = pull(client, URLS[0], make_token(kid="test-kid", secret=OTHER_SECRET))
    assert_refused(response, "could not be verified")
    assert "not valid base64" in caplog.text
    assert "not base64 !!" not in caplog.text


def test_valid_inbound_token(client, pull_order):
    response = pull(client, URLS[0], make_token())
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert json.loads(response.content)["items"][0]["id"] == str(pull_order.pk)


@override_settings(
    BUBBLEHOUSE={
        "SHOP": "testshop",
        "KID": "new-kid",
        "SHARED_SECRET": OTHER_SECRET,
        "KEYS": [("test-kid", TEST_SECRET)],
        "SERIALIZERS": ["tests.testapp.bubblehouse.OrderSerializer"],
    }
)
def test_every_configured_key_is_accepted_for_rotation(client, pull_order):
    for kid, secret in [("new-kid", OTHER_SECRET), ("test-kid", TEST_SECRET)]:
        response = pull(client, URLS[0], make_token(kid=kid, secret=secret))
        assert response.status_code == 200, response.content


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "head", "options"])
@pytest.mark.parametrize("url", URLS)
def test_only_get(pull_order, method, url):
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)(url, headers={"Authorization": f"Bearer {make_token()}"})
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    assert response["Cache-Control"] == "no-store"
    if method != "head":
        assert json.loads(response.content)["id"] == "method_not_allowed"

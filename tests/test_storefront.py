"""Customer tokens, the rewards tag and the token refresh view."""

from __future__ import annotations

import html
import json
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ImproperlyConfigured
from django.template import Context, Template, TemplateSyntaxError
from django.test import Client, RequestFactory

from django_bubblehouse.auth import decode_secret
from django_bubblehouse.conf import get_settings
from django_bubblehouse.storefront import customer_id, mint_customer_token
from tests.bubblehouse_overrides import bubblehouse_settings
from tests.testapp.bubblehouse import CustomerSerializer
from tests.testapp.models import Customer, Dealer

pytestmark = pytest.mark.django_db

RESOLVER = "tests.testapp.storefront.current_customer"
TAG = Template("{% load bubblehouse %}<main>{% bubblehouse_rewards %}</main>")


@pytest.fixture(autouse=True)
def resolver():
    with bubblehouse_settings(STOREFRONT_CUSTOMER=RESOLVER):
        yield


@pytest.fixture
def customer() -> Customer:
    user = User.objects.create_user("ann", "ann@example.com")
    return Customer.objects.create(user=user, email="ann@example.com", first_name="Ann")


def claims_of(token: str) -> dict[str, Any]:
    key = decode_secret(get_settings().keys[0].secret)
    return jwt.decode(token, key, algorithms=["HS256"], audience="BH")


def test_the_customer_token_names_the_id_the_serializer_pushes(customer):
    pushed = CustomerSerializer().serialize(customer)["id"]
    assert customer_id(customer) == pushed
    claims = claims_of(mint_customer_token(customer))
    assert claims["sub"] == f"testshop/{pushed}"
    assert claims["token_use"] == "customer"
    assert claims["exp"] - claims["iat"] == 600


def test_the_customer_token_lifetime_is_configurable(customer):
    with bubblehouse_settings(CUSTOMER_TOKEN_TTL=60):
        claims = claims_of(mint_customer_token(customer))
    assert claims["exp"] - claims["iat"] == 60


def test_an_object_without_a_customer_serializer_gets_no_token():
    dealer = Dealer.objects.create(code="D1", name="Dealer")
    with pytest.raises(ImproperlyConfigured, match="no customer serializer for Dealer"):
        mint_customer_token(dealer)


def render(user: Any) -> str:
    request = RequestFactory().get("/rewards/")
    request.user = user
    return TAG.render(Context({"request": request}))


def iframe_src(page: str) -> str:
    match = re.search(r'<iframe[^>]* src="([^"]+)"', page)
    assert match, page
    return html.unescape(match.group(1))


def test_an_anonymous_visitor_gets_the_iframe_without_a_token():
    page = render(AnonymousUser())
    url = urlsplit(iframe_src(page))
    assert (url.scheme, url.netloc) == ("https", "bubblehouse.test")
    assert url.path == "/blocks/v2023061/testshop/Rewards7"
    assert parse_qs(url.query, keep_blank_values=True) == {"instance": ["bhpage"], "auth": [""]}
    assert '<script src="https://bubblehouse.test/s/testshop/bubblehouse.js" async>' in page
    assert "data-token-url" not in page
    assert not re.search(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", page)  # no JWT of any kind


def test_a_logged_in_customer_gets_a_customer_token(customer):
    page = render(customer.user)
    [token] = parse_qs(urlsplit(iframe_src(page)).query)["auth"]
    claims = claims_of(token)
    assert claims["sub"] == f"testshop/{customer.pk}"
    assert 'data-token-url="/bubblehouse/storefront/token"' in page


def test_a_logged_in_user_who_is_not_a_customer_gets_no_token():
    staff = User.objects.create_user("staff", "staff@example.com")
    page = render(staff)
    assert parse_qs(urlsplit(iframe_src(page)).query, keep_blank_values=True)["auth"] == [""]


@pytest.mark.parametrize("logged_in", [False, True])
def test_no_rendered_token_ever_has_a_subject_without_a_customer_part(customer, logged_in):
    page = render(customer.user if logged_in else AnonymousUser())
    for token in re.findall(r"eyJ[\w-]+\.[\w-]+\.[\w-]+", page):
        shop, _, customer_part = claims_of(token)["sub"].partition("/")
        assert shop == "testshop"
        assert customer_part


def test_the_page_setting_and_argument_choose_the_blocks_page(customer):
    with bubblehouse_settings(STOREFRONT_PAGE="Rewards8", STOREFRONT_CUSTOMER=RESOLVER):
        assert urlsplit(iframe_src(render(AnonymousUser()))).path.endswith("/Rewards8")
    request = RequestFactory().get("/")
    request.user = AnonymousUser()
    page = Template('{% load bubblehouse %}{% bubblehouse_rewards page="Referrals1" %}').render(
        Context({"request": request})
    )
    assert urlsplit(iframe_src(page)).path.endswith("/Referrals1")


def test_an_emulator_host_keeps_its_scheme_and_port():
    with bubblehouse_settings(API_HOST="http://127.0.0.1:8765"):
        src = iframe_src(render(AnonymousUser()))
    assert src.startswith("http://127.0.0.1:8765/blocks/v2023061/testshop/Rewards7?")


def test_the_tag_needs_the_request():
    with pytest.raises(TemplateSyntaxError, match=r"context_processors\.request"):
        TAG.render(Context({}))


def test_without_a_resolver_the_user_is_the_customer():
    user = User.objects.create_user("bob", "bob@example.com")
    with bubblehouse_settings(STOREFRONT_CUSTOMER=""):
        with pytest.raises(ImproperlyConfigured, match="no customer serializer for User"):
            render(user)
        # Anonymous visitors never reach the resolver or the serializer.
        query = urlsplit(iframe_src(render(AnonymousUser()))).query
        assert parse_qs(query, keep_blank_values=True)["auth"] == [""]


# -- the refresh view --------------------------------------------------------------------

TOKEN_URL = "/bubblehouse/storefront/token"


def test_the_refresh_view_gives_a_logged_in_customer_a_fresh_token(customer):
    client = Client()
    client.force_login(customer.user)
    response = client.get(TOKEN_URL)
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    body = json.loads(response.content)
    assert claims_of(body["token"])["sub"] == f"testshop/{customer.pk}"
    assert body["iframe_url"].endswith(f"auth={body['token']}")
    assert body["expires_at"].endswith("+00:00")


def test_the_refresh_view_refuses_anonymous_visitors():
    response = Client().get(TOKEN_URL)
    assert response.status_code == 401
    assert json.loads(response.content)["id"] == "login_required"
    assert b"eyJ" not in response.content


def test_the_refresh_view_refuses_a_user_who_is_not_a_customer():
    client = Client()
    client.force_login(User.objects.create_user("staff", "staff@example.com"))
    response = client.get(TOKEN_URL)
    assert response.status_code == 403
    assert b"eyJ" not in response.content


def test_the_refresh_view_is_get_only(customer):
    client = Client()
    client.force_login(customer.user)
    assert client.post(TOKEN_URL).status_code == 405


def test_a_customer_the_serializer_cannot_build_gets_no_token(customer, caplog, monkeypatch):
    def broken(self: CustomerSerializer, obj: Customer) -> dict[str, Any]:
        raise ValueError("no email on file")

    monkeypatch.setattr(CustomerSerializer, "to_representation", broken)
    page = render(customer.user)
    assert parse_qs(urlsplit(iframe_src(page)).query, keep_blank_values=True)["auth"] == [""]
    assert "no customer token" in caplog.text
    assert "no email on file" in caplog.text
    client = Client()
    client.force_login(customer.user)
    assert client.get(TOKEN_URL).status_code == 403

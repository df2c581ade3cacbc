"""The hook endpoint: routing, refusals of malformed calls, dispatch, idempotency, dedup."""

from __future__ import annotations

import datetime as dt
import json
import logging
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from django_bubblehouse.conf import get_settings
from django_bubblehouse.hooks import Discount
from django_bubblehouse.hooks.models import HookReceipt
from django_bubblehouse.outbox.maintenance import prune
from django_bubblehouse.testing.emulator.hooks_client import hook_headers
from tests.hooks_support import call, hooks_enabled
from tests.testapp import hooks

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("hooks_enabled")]

DISCOUNT = {"code": "WELCOME10", "title": "10 % off", "percentage": 1000}


def error_of(response, status: int) -> dict[str, str]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    body: dict[str, str] = json.loads(response.content)
    assert set(body) == {"id", "message"}
    return body


# -- routing -----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Hello2", "CreateDiscount3", "nonsense", "hello1"])
def test_unknown_hook_names_are_404(client, name):
    assert error_of(call(client, name, {"magic": "m"}), 404)["id"] == "hook_not_found"


def test_a_hook_without_a_handler_is_404_and_not_listed():
    with hooks_enabled(HOOK_HANDLERS={"CreateDiscount4": "tests.testapp.hooks.create_discount"}):
        client = Client()
        assert error_of(call(client, "SendEvent1", {"bhid": "e1"}), 404)["id"] == "hook_not_found"
        hello = json.loads(call(client, "Hello1", {"magic": "m"}).content)
    assert hello["hooks"] == ["Hello1", "CreateDiscount4"]
    assert hooks.EVENTS == []


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_only_post(method):
    client = Client(enforce_csrf_checks=True)
    response = getattr(client, method)("/bubblehouse/hooks/Hello1")
    assert error_of(response, 405)["id"] == "method_not_allowed"
    assert response["Allow"] == "POST"


def test_csrf_does_not_apply_but_the_token_does():
    client = Client(enforce_csrf_checks=True)
    assert call(client, "Hello1", {"magic": "m"}).status_code == 200
    response = client.post("/bubblehouse/hooks/Hello1", {"magic": "m"})
    assert error_of(response, 401)["id"] == "invalid_token"


# -- malformed calls ---------------------------------------------------------------------


def test_a_body_that_is_not_json_content_is_415(client):
    response = call(client, "Hello1", {}, headers={"Content-Type": "text/plain"})
    assert error_of(response, 415)["id"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("raw", "error_id"),
    [("{not json", "invalid_json"), ("[1, 2]", "invalid_data"), ('"magic"', "invalid_data")],
)
def test_malformed_json_is_400(client, raw, error_id):
    conf = get_settings()
    response = client.post(
        "/bubblehouse/hooks/Hello1",
        raw,
        content_type="application/json",
        headers=hook_headers(shop=conf.shop, key=conf.keys[0]),
    )
    assert error_of(response, 400)["id"] == error_id


@pytest.mark.parametrize("request_id", ["", " ", "x" * 256])
def test_a_missing_or_oversized_request_id_is_400(client, request_id):
    response = call(client, "Hello1", {"magic": "m"}, headers={"X-Request-ID": request_id})
    assert error_of(response, 400)["id"] == "invalid_request_id"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "t"}, "code: is required"),
        ({"code": "C"}, "title: is required"),
        ({**DISCOUNT, "code": ""}, "code"),
        ({**DISCOUNT, "code": "X" * 256}, "code: must be at most 255 characters"),
        ({**DISCOUNT, "code": ["C"]}, "code: must be a non-empty string id"),
        ({**DISCOUNT, "percentage": 10.5}, "percentage"),
        ({**DISCOUNT, "percentage": 20000}, "percentage"),
        ({"code": "C", "title": "t", "amount": 5}, "amount"),
        ({"code": "C", "title": "t", "amount": 5.0}, "amount"),
        ({"code": "C", "title": "t", "amount": "-5.00"}, "amount: must not be negative"),
        ({"code": "C", "title": "t", "amount": "5.00", "percentage": 1000}, "not both"),
        ({**DISCOUNT, "end_time": "2026-03-02T14:05:11"}, "end_time"),
        ({**DISCOUNT, "max_uses": -1}, "max_uses"),
        ({**DISCOUNT, "product_ids": "p1"}, "product_ids"),
        ({**DISCOUNT, "product_ids": [True]}, "product_ids[0]"),
        ({**DISCOUNT, "is_per_product": "yes"}, "is_per_product"),
        ({**DISCOUNT, "extras": []}, "extras"),
    ],
)
def test_bad_fields_are_400_naming_the_field(client, body, field):
    error = error_of(call(client, "CreateDiscount4", body), 400)
    assert error["id"] == "invalid_data"
    assert field in error["message"]
    assert hooks.DISCOUNTS == []
    assert not HookReceipt.objects.exists()


@pytest.mark.parametrize("body", [{}, {"magic": 42}])
def test_hello_needs_a_magic_string(client, body):
    assert "magic" in error_of(call(client, "Hello1", body), 400)["message"]


# -- Hello1 ------------------------------------------------------------------------------


def test_hello_echoes_magic_and_lists_the_enabled_hooks(client):
    response = call(client, "Hello1", {"magic": "abc-123"})
    assert response.status_code == 200
    assert json.loads(response.content) == {
        "magic": "abc-123",
        "hooks": ["Hello1", "CreateDiscount4", "SendEvent1"],
    }


def test_with_no_handlers_only_hello_is_served():
    with hooks_enabled(HOOK_HANDLERS={}):
        client = Client()
        assert json.loads(call(client, "Hello1", {"magic": "m"}).content)["hooks"] == ["Hello1"]
        assert call(client, "CreateDiscount4", DISCOUNT).status_code == 404


# -- CreateDiscount4 ---------------------------------------------------------------------


def test_the_handler_gets_a_typed_discount(client):
    body = {
        "code": "SPRING",
        "title": "5 off",
        "amount": "5.00",
        "end_time": "2026-03-02T14:05:11+02:00",
        "min_order_amount": "20",
        "max_uses": 1,
        "customer_id": 42,
        "customer_email": "ann@example.com",
        "subject_type": "collection",
        "subject_slugs": ["mugs"],
        "product_ids": [7, "8"],
        "collection_ids": ["c1"],
        "is_per_product": True,
        "applies_to_one_time_purchases": False,
        "extras": {"campaign": "spring"},
        "something_new": "ignored",
    }
    response = call(client, "CreateDiscount4", body)
    assert response.status_code == 200
    assert json.loads(response.content) == {"ok": True}
    assert [
        Discount(
            code="SPRING",
            title="5 off",
            amount=Decimal("5.00"),
            end_time=dt.datetime(2026, 3, 2, 12, 5, 11, tzinfo=dt.UTC),
            min_order_amount=Decimal("20"),
            max_uses=1,
            customer_id="42",
            customer_email="ann@example.com",
            subject_type="collection",
            subject_slugs=("mugs",),
            product_ids=("7", "8"),
            collection_ids=("c1",),
            is_per_product=True,
            applies_to_one_time_purchases=False,
            extras={"campaign": "spring"},
        )
    ] == hooks.DISCOUNTS
    end_time = hooks.DISCOUNTS[0].end_time
    assert end_time is not None
    assert end_time.utcoffset() is not None


def test_percentage_is_converted_from_permyriad_and_zero_time_means_no_expiry(client):
    body = {**DISCOUNT, "end_time": "0001-01-01T00:00:00Z", "amount": "0"}
    assert call(client, "CreateDiscount4", body).status_code == 200
    [discount] = hooks.DISCOUNTS
    assert discount.percentage == Decimal("10")
    assert isinstance(discount.percentage, Decimal)
    assert discount.amount is None
    assert discount.end_time is None


def test_a_zero_value_code_is_valid(client):
    assert call(client, "CreateDiscount4", {"code": "REF-ANN", "title": "referral"}).status_code
    [discount] = hooks.DISCOUNTS
    assert (discount.amount, discount.percentage) == (None, None)


def test_the_same_code_twice_calls_the_handler_once(client):
    first = call(client, "CreateDiscount4", DISCOUNT)
    again = call(client, "CreateDiscount4", {**DISCOUNT, "title": "retitled"})
    assert (first.status_code, again.status_code) == (200, 200)
    assert json.loads(again.content) == {"ok": True}
    assert [d.code for d in hooks.DISCOUNTS] == ["WELCOME10"]
    other = call(client, "CreateDiscount4", {**DISCOUNT, "code": "OTHER"})
    assert other.status_code == 200
    assert [d.code for d in hooks.DISCOUNTS] == ["WELCOME10", "OTHER"]


def test_a_replayed_request_id_is_answered_from_the_receipt(client):
    first = call(client, "CreateDiscount4", DISCOUNT, request_id="req-1")
    replay = call(client, "CreateDiscount4", DISCOUNT, request_id="req-1")
    assert replay.status_code == first.status_code == 200
    assert replay.content == first.content
    assert len(hooks.DISCOUNTS) == 1


def test_a_request_id_reused_for_another_body_is_refused(client):
    assert call(client, "Hello1", {"magic": "one"}, request_id="req-2").status_code == 200
    reused = call(client, "CreateDiscount4", DISCOUNT, request_id="req-2")
    assert error_of(reused, 409)["id"] == "request_id_reused"
    assert hooks.DISCOUNTS == []


def test_a_failing_handler_answers_500_is_logged_and_retried(client, caplog):
    body = {**DISCOUNT, "title": "break me"}
    with caplog.at_level(logging.ERROR, logger="django_bubblehouse.hooks.views"):
        response = call(client, "CreateDiscount4", body, request_id="req-broken")
    error = error_of(response, 500)
    assert error["id"] == "hook_failed"
    assert "req-broken" in error["message"]
    assert "cannot create" not in error["message"]  # the shop's internals stay in the log
    assert "req-broken" in caplog.text
    assert "HandlerBroke: cannot create WELCOME10" in caplog.text
    assert not HookReceipt.objects.exists()
    # Bubblehouse retries the same request: the handler runs again.
    assert call(client, "CreateDiscount4", body, request_id="req-broken").status_code == 500
    assert len(hooks.DISCOUNTS) == 2


def test_a_handler_that_cannot_be_imported_is_a_500(client, caplog):
    with hooks_enabled(HOOK_HANDLERS={"CreateDiscount4": "tests.testapp.hooks.missing"}):
        response = call(Client(), "CreateDiscount4", DISCOUNT)
    assert error_of(response, 500)["id"] == "hook_failed"
    assert "HOOK_HANDLERS" in caplog.text


# -- SendEvent1 --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "status"),
    [("sent", 200), ("skipped", 200), ("invalid_data", 200), ("unsubscribed", 200)],
)
def test_final_event_outcomes_are_200_and_remembered_by_bhid(client, outcome, status):
    response = call(client, "SendEvent1", {"bhid": "ev-1", "want": outcome})
    assert response.status_code == status
    assert json.loads(response.content) == {"outcome": outcome}
    again = call(client, "SendEvent1", {"bhid": "ev-1", "want": "sent"})
    assert json.loads(again.content) == {"outcome": outcome}
    assert [event.bhid for event in hooks.EVENTS] == ["ev-1"]


def test_a_failure_outcome_holds_the_queue_and_is_not_remembered(client):
    response = call(client, "SendEvent1", {"bhid": "ev-2", "want": "failure"})
    assert response.status_code == 503
    assert json.loads(response.content) == {"outcome": "failure"}
    assert not HookReceipt.objects.exists()
    assert call(client, "SendEvent1", {"bhid": "ev-2", "want": "sent"}).status_code == 200
    assert len(hooks.EVENTS) == 2


def test_an_unknown_outcome_is_a_handler_error(client, caplog):
    response = call(client, "SendEvent1", {"bhid": "ev-3", "want": "done"})
    assert error_of(response, 500)["id"] == "hook_failed"
    assert "'done'" in caplog.text


@pytest.mark.parametrize("body", [{}, {"bhid": ""}, {"bhid": ["x"]}])
def test_an_event_needs_a_bhid(client, body):
    assert "bhid" in error_of(call(client, "SendEvent1", body), 400)["message"]


def test_pruning_forgets_old_request_ids_but_keeps_codes(client):
    assert call(client, "CreateDiscount4", DISCOUNT, request_id="old").status_code == 200
    assert call(client, "Hello1", {"magic": "m"}, request_id="new").status_code == 200
    week_ago = timezone.now() - dt.timedelta(days=8)
    HookReceipt.objects.exclude(key="new").update(created_at=week_ago)
    assert prune() == 1
    remaining = set(HookReceipt.objects.values_list("scope", "key"))
    assert remaining == {("CreateDiscount4", "WELCOME10"), ("request", "new")}
    # The code is still remembered: a later delivery of it does not reach the handler.
    assert call(client, "CreateDiscount4", DISCOUNT, request_id="later").status_code == 200
    assert len(hooks.DISCOUNTS) == 1


def test_a_request_id_reused_for_another_hook_with_the_same_body_is_refused(client):
    body = {"magic": "m", "bhid": "ev-9"}
    assert call(client, "Hello1", body, request_id="req-3").status_code == 200
    assert error_of(call(client, "SendEvent1", body, request_id="req-3"), 409)
    assert hooks.EVENTS == []


def test_a_hosts_login_required_middleware_does_not_redirect_bubblehouse(settings, client):
    login_required = "django.contrib.auth.middleware.LoginRequiredMiddleware"
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, login_required]
    assert call(client, "Hello1", {"magic": "m"}).status_code == 200
    assert client.get("/bubblehouse/orders.json").status_code == 401  # the token decides
    assert client.get("/bubblehouse/storefront/token").status_code == 401
    assert client.get("/admin/").status_code == 302  # the middleware is on

"""The outbox admin: filters, readable errors, payload preview, actions, status summary."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from django_bubblehouse.auth import mint_shop_token
from django_bubblehouse.conf import get_settings
from django_bubblehouse.kinds import Kind
from django_bubblehouse.models import DrainSlot, OutboxEntry, OutboxState, Pause
from tests.backfill_support import make_orders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_http")]

CHANGELIST = reverse("admin:django_bubblehouse_outboxentry_changelist")
ORDER_SERIALIZER = "tests.testapp.bubblehouse.OrderSerializer"


def entry(key: str, state: str = OutboxState.PENDING, **fields) -> OutboxEntry:
    defaults = {"kind": Kind.ORDERS, "serializer": ORDER_SERIALIZER}
    return OutboxEntry.objects.create(object_key=key, state=state, **{**defaults, **fields})


def page(client: Client, url: str = CHANGELIST, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_status_summary(admin_client: Client) -> None:
    entry("1")
    entry("2", OutboxState.SENDING)
    entry("3", OutboxState.FAILED, last_error="bad", last_error_id="invalid_order")
    entry("4", OutboxState.DEAD)
    sent_at = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    entry("5", OutboxState.SENT, sent_at=sent_at)
    Pause.objects.create(
        scope="entity_set:authorized-dealers",
        reason="UpdateEntities1 HTTP 400 entity_set_not_found: no such set",
        error_id="entity_set_not_found",
        probe_at=timezone.now(),
    )
    DrainSlot.objects.create(
        number=0, holder=7, lease_until=timezone.now() + dt.timedelta(seconds=14)
    )

    html = page(admin_client)

    assert "Pending: <strong>2</strong>" in html
    assert "Drains running:\n      <strong>1 of 2</strong>" in html
    assert "Failed: <strong>1</strong>" in html
    assert "Dead: <strong>1</strong>" in html
    assert "<code>entity_set:authorized-dealers</code>" in html
    assert "no such set" in html
    assert "Last successful push:\n      <strong>March 2, 2026, 9:30 a.m." in html


def test_filters_by_kind_state_and_error_id(admin_client: Client) -> None:
    entry("1", OutboxState.FAILED, last_error_id="invalid_order")
    entry("2", OutboxState.FAILED, last_error_id="rate_limit_exceeded")
    entry("3", kind=Kind.CUSTOMERS, serializer="tests.testapp.bubblehouse.CustomerSerializer")

    def keys(**params: str) -> list[str]:
        response = admin_client.get(CHANGELIST, params)
        return sorted(row.object_key for row in response.context["cl"].result_list)

    assert keys(state="failed") == ["1", "2"]
    assert keys(last_error_id="invalid_order") == ["1"]
    assert keys(kind="customers") == ["3"]


def test_change_view_shows_error_and_current_payload(admin_client: Client) -> None:
    (order,) = make_orders(1)
    row = entry(
        str(order.pk),
        OutboxState.FAILED,
        last_status=400,
        last_error_id="invalid_order",
        last_error="customer is required",
    )

    html = page(admin_client, reverse("admin:django_bubblehouse_outboxentry_change", args=[row.pk]))

    assert "HTTP 400 invalid_order: customer is required" in html
    assert f"&quot;id&quot;: &quot;{order.pk}&quot;" in html
    assert "&quot;amount_shipping&quot;: &quot;4.90&quot;" in html  # Decimal as it is sent


def test_preview_of_a_deleted_object_is_its_delete_payload(admin_client: Client) -> None:
    row = entry("999", delete_payload={"id": "999", "status": "canceled"})
    html = page(admin_client, reverse("admin:django_bubblehouse_outboxentry_change", args=[row.pk]))
    assert "&quot;status&quot;: &quot;canceled&quot;" in html


def test_no_page_renders_a_secret_or_token(admin_client: Client) -> None:
    (order,) = make_orders(1)
    row = entry(str(order.pk), OutboxState.FAILED, last_error="x")
    secret = get_settings().signing_key.secret
    token_prefix = mint_shop_token().split(".")[0]  # the header is the same for every token
    for url in (CHANGELIST, reverse("admin:django_bubblehouse_outboxentry_change", args=[row.pk])):
        html = page(admin_client, url)
        assert secret not in html
        assert token_prefix not in html


def test_retry_now(admin_client: Client) -> None:
    failed = entry("1", OutboxState.FAILED, attempts=3)
    dead = entry("2", OutboxState.DEAD, attempts=12)
    sent = entry("3", OutboxState.SENT)

    admin_client.post(
        CHANGELIST,
        {"action": "retry_now", "_selected_action": [failed.pk, dead.pk, sent.pk]},
    )

    states = dict(OutboxEntry.objects.values_list("object_key", "state"))
    assert states == {"1": OutboxState.PENDING, "2": OutboxState.PENDING, "3": OutboxState.SENT}
    assert OutboxEntry.objects.get(pk=dead.pk).attempts == 0


def test_discard(admin_client: Client) -> None:
    kept, dropped = entry("1", OutboxState.FAILED), entry("2", OutboxState.FAILED)
    admin_client.post(
        CHANGELIST, {"action": "discard", "_selected_action": [dropped.pk], "post": "yes"}
    )
    assert list(OutboxEntry.objects.values_list("pk", flat=True)) == [kept.pk]


def test_actions_need_permissions() -> None:
    failed = entry("1", OutboxState.FAILED)
    user = User.objects.create_user("viewer", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_outboxentry"))
    client = Client()
    client.force_login(user)

    assert client.get(CHANGELIST).context["action_form"] is None
    for action in ("retry_now", "discard"):
        client.post(CHANGELIST, {"action": action, "_selected_action": [failed.pk]})

    assert OutboxEntry.objects.get().state == OutboxState.FAILED


def test_rows_cannot_be_added_or_edited(admin_client: Client) -> None:
    row = entry("1")
    assert admin_client.get(reverse("admin:django_bubblehouse_outboxentry_add")).status_code == 403
    admin_client.post(
        reverse("admin:django_bubblehouse_outboxentry_change", args=[row.pk]),
        {"state": OutboxState.SENT},
    )
    assert OutboxEntry.objects.get().state == OutboxState.PENDING

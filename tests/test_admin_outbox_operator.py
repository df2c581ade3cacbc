"""The outbox admin an operator acts on: ids and links, badges, buttons, pauses, permissions."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission, User
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from django_bubblehouse.kinds import Kind
from django_bubblehouse.models import DrainRequest, OutboxEntry, OutboxState, Pause
from tests.admin_support import STAFF_USERNAME, staff
from tests.backfill_support import make_dealers, make_orders

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("no_http")]

CHANGELIST = reverse("admin:django_bubblehouse_outboxentry_changelist")
ORDERS = "tests.testapp.bubblehouse.OrderSerializer"
DEALERS = "tests.testapp.bubblehouse.DealerSerializer"
LONG_ERROR = "customer is required; " * 10


def entry(key: str, state: str = OutboxState.PENDING, **fields: object) -> OutboxEntry:
    values: dict[str, object] = {"kind": Kind.ORDERS, "serializer": ORDERS, **fields}
    return OutboxEntry.objects.create(object_key=key, state=state, **values)


def change_url(row: OutboxEntry) -> str:
    return reverse("admin:django_bubblehouse_outboxentry_change", args=[row.pk])


def html_of(client: Client, url: str, **params: str) -> str:
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


def test_list_names_the_bubblehouse_id_and_links_to_the_host_admin(admin_client: Client) -> None:
    (dealer,) = make_dealers(("DLR-7", True, True))
    entry(str(dealer.pk), kind=Kind.ENTITIES, serializer=DEALERS)
    entry("999", delete_payload={"id": "DLR-GONE", "deleted": True}, serializer=DEALERS)

    html = html_of(admin_client, CHANGELIST)

    link = reverse("admin:testapp_dealer_change", args=[dealer.pk])
    assert f'<a href="{link}" class="bubblehouse-host-link">open DLR-7 &#8599;</a>' in html
    assert f'{change_url(OutboxEntry.objects.get(object_key=str(dealer.pk)))}">DLR-7</a>' in html
    assert "DLR-GONE" in html  # the object is gone: its captured delete payload names it


def test_a_key_that_cannot_be_a_primary_key_does_not_break_the_list(admin_client: Client) -> None:
    row = entry("not-a-number")
    assert "not-a-number" in html_of(admin_client, CHANGELIST)
    assert "cannot be loaded:" in html_of(admin_client, change_url(row))


def test_a_page_loads_its_objects_once_per_serializer(admin_client: Client) -> None:
    def queries_for_page() -> int:
        with CaptureQueriesContext(connection) as queries:
            html_of(admin_client, CHANGELIST)
        return len(queries)

    orders = make_orders(2)
    for order in orders:
        entry(str(order.pk))
    two = queries_for_page()
    for order in make_orders(20):
        entry(str(order.pk))
    assert queries_for_page() == two


def test_search_by_bubblehouse_id(admin_client: Client) -> None:
    first, second = make_dealers(("DLR-1", True, True), ("DLR-2", True, True))
    entry(str(first.pk), kind=Kind.ENTITIES, serializer=DEALERS)
    entry(str(second.pk), kind=Kind.ENTITIES, serializer=DEALERS)
    entry("77", delete_payload={"id": "DLR-OLD", "deleted": True}, serializer=DEALERS)

    def found(term: str) -> list[str]:
        response = admin_client.get(CHANGELIST, {"q": term})
        return sorted(row.object_key for row in response.context["cl"].result_list)

    assert found("DLR-2") == [str(second.pk)]
    assert found("DLR-OLD") == ["77"]
    assert found("nothing-like-it") == []


def test_state_badge_error_and_date_hierarchy(admin_client: Client) -> None:
    row = entry("1", OutboxState.FAILED, last_status=400, last_error_id="invalid_order")
    OutboxEntry.objects.filter(pk=row.pk).update(last_error=LONG_ERROR)

    html = html_of(admin_client, CHANGELIST)

    assert 'class="bubblehouse-state bubblehouse-state-failed" style="background:#c62828' in html
    (shown,) = re.findall(r'">(HTTP 400 invalid_order: [^<]*)</span>', html)
    assert shown.startswith("HTTP 400 invalid_order: customer is required; customer is")
    assert shown.endswith("…")
    assert len(shown) == 80  # truncated in the list; the full text is its title
    assert '<nav class="toplinks"' in html  # Django's date hierarchy
    detail = html_of(admin_client, change_url(row))
    assert LONG_ERROR.strip() in detail


@pytest.mark.parametrize(
    "where",
    [
        "tests.testapp.bubblehouse.OrderSerializer on testapp.Order pk=1",
        # An object whose Bubblehouse id is not its pk (an order number) is named by both.
        "tests.testapp.bubblehouse.OrderSerializer on testapp.Order id='P 1003' (pk=1)",
    ],
)
def test_the_list_shows_a_serialization_errors_field_and_reason(
    admin_client: Client, where: str
) -> None:
    row = entry("1", OutboxState.FAILED, last_error_id="SerializationError")
    reason = "field items[0].amount_full: AttributeError: 'NoneType' has no 'price_list'"
    OutboxEntry.objects.filter(pk=row.pk).update(last_error=f"{where}, {reason}")
    html = html_of(admin_client, CHANGELIST)
    assert f'">SerializationError: {escape(reason)[:50]}' in html


def test_detail_page_retry_button(admin_client: Client) -> None:
    row = entry("1", OutboxState.DEAD, attempts=12)
    detail = html_of(admin_client, change_url(row))
    retry = reverse("admin:django_bubblehouse_outboxentry_retry", args=[row.pk])
    assert f'action="{retry}"' in detail

    assert admin_client.get(retry).status_code == 405
    response = admin_client.post(retry, follow=True)

    row.refresh_from_db()
    assert (row.state, row.attempts) == (OutboxState.PENDING, 0)
    assert "Queued again with a fresh attempt budget." in response.content.decode()
    assert f'action="{retry}"' not in html_of(admin_client, change_url(row))  # pending: no button


def test_retry_needs_the_push_permission() -> None:
    row = entry("1", OutboxState.FAILED)
    client = staff("view_outboxentry")
    retry = reverse("admin:django_bubblehouse_outboxentry_retry", args=[row.pk])
    assert retry not in html_of(client, change_url(row))
    assert client.post(retry).status_code == 403
    row.refresh_from_db()
    assert row.state == OutboxState.FAILED


def test_discard_asks_for_confirmation_first(admin_client: Client) -> None:
    row = entry("1", OutboxState.FAILED)
    detail = html_of(admin_client, change_url(row))
    discard = reverse("admin:django_bubblehouse_outboxentry_delete", args=[row.pk])
    assert f'href="{discard}" class="deletelink" id="bubblehouse-discard"' in detail

    confirmation = html_of(admin_client, discard)
    assert "Discard the outbox row for" in confirmation
    assert "<title>Discard this change?" in confirmation
    assert "never sent" in confirmation
    assert OutboxEntry.objects.filter(pk=row.pk).exists()

    admin_client.post(discard, {"post": "yes"})
    assert not OutboxEntry.objects.filter(pk=row.pk).exists()


def test_discard_action_asks_for_confirmation_first(admin_client: Client) -> None:
    row = entry("1", OutboxState.FAILED)
    response = admin_client.post(CHANGELIST, {"action": "discard", "_selected_action": [row.pk]})
    assert response.status_code == 200
    assert "Discard these 1 outbox row(s)?" in response.content.decode()
    assert OutboxEntry.objects.filter(pk=row.pk).exists()
    assert "delete_selected" not in html_of(admin_client, CHANGELIST)


def test_resume_a_pause_from_the_status_box(admin_client: Client) -> None:
    Pause.objects.create(scope=Pause.ALL, reason="HTTP 401: bad key", probe_at=timezone.now())
    html = html_of(admin_client, CHANGELIST)
    resume = reverse("admin:django_bubblehouse_outboxentry_resume_pause")
    assert f'action="{resume}" class="bubblehouse-resume"' in html

    response = admin_client.post(resume, {"scope": Pause.ALL}, follow=True)

    assert not Pause.objects.exists()
    assert "Resumed everything" in response.content.decode()


def test_resume_needs_the_push_permission() -> None:
    Pause.objects.create(scope=Pause.ALL, reason="HTTP 401: bad key", probe_at=timezone.now())
    client = staff("view_outboxentry")
    resume = reverse("admin:django_bubblehouse_outboxentry_resume_pause")
    assert resume not in html_of(client, CHANGELIST)
    assert client.post(resume, {"scope": Pause.ALL}).status_code == 403
    assert Pause.objects.exists()


def test_status_box_warns_when_no_worker_drains(admin_client: Client) -> None:
    DrainRequest.objects.update_or_create(
        pk=DrainRequest.SINGLETON,
        defaults={"last_drain_at": timezone.now() - timedelta(minutes=12)},
    )
    assert "problem-no_worker" not in html_of(admin_client, CHANGELIST)
    entry("1")
    html = html_of(admin_client, CHANGELIST)
    assert "problem-no_worker" in html
    assert "no drain for 12m while 1 row(s) wait: is a qcluster worker running?" in html


def test_status_box_lists_orphaned_rows(admin_client: Client) -> None:
    entry("1", OutboxState.PENDING, serializer="shop.old.OrderSerializer")
    html = html_of(admin_client, CHANGELIST)
    assert "1 row(s) of unregistered serializer(s): shop.old.OrderSerializer (1)" in html


def test_payload_preview_needs_its_own_permission() -> None:
    (order,) = make_orders(1)
    row = entry(str(order.pk))
    viewer = staff("view_outboxentry")
    assert "guest0@example.com" not in html_of(viewer, change_url(row))
    assert "Payload (as it would be sent now)" not in html_of(viewer, change_url(row))

    User.objects.get(username=STAFF_USERNAME).user_permissions.add(
        Permission.objects.get(codename="view_payload")
    )
    assert "guest0@example.com" in html_of(viewer, change_url(row))


def test_no_operator_page_renders_a_secret_or_token(admin_client: Client) -> None:
    from django_bubblehouse.auth import mint_shop_token
    from django_bubblehouse.conf import get_settings

    (order,) = make_orders(1)
    row = entry(str(order.pk), OutboxState.FAILED, last_error="x")
    Pause.objects.create(scope=Pause.ALL, reason="HTTP 401: bad key", probe_at=timezone.now())
    secret = get_settings().signing_key.secret
    token_header = mint_shop_token().split(".")[0]  # the same for every token
    pages = [
        CHANGELIST,
        change_url(row),
        reverse("admin:django_bubblehouse_outboxentry_delete", args=[row.pk]),
        reverse("admin:django_bubblehouse_backfillrun_changelist"),
        "/bubblehouse-health/",
    ]
    for url in pages:
        response = admin_client.get(url)
        assert response.status_code in (200, 503), url  # the health view: 503, paused
        body = response.content.decode()
        assert secret not in body
        assert token_header not in body

"""Personal data does not stay: retention of failed/dead rows and delete payloads, erasure."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from django_bubblehouse.kinds import Kind
from django_bubblehouse.models import OutboxEntry, OutboxState
from django_bubblehouse.outbox.erasure import purge_customer
from django_bubblehouse.outbox.maintenance import prune
from tests.bubblehouse_overrides import bubblehouse_settings

pytestmark = pytest.mark.django_db

ORDERS = "tests.testapp.bubblehouse.OrderSerializer"
CUSTOMERS = "tests.testapp.bubblehouse.CustomerSerializer"
DAY = 86400


def row(key: str, state: str, *, days_old: float = 0, **fields: object) -> OutboxEntry:
    values: dict[str, object] = {"kind": Kind.ORDERS, "serializer": ORDERS, **fields}
    created = OutboxEntry.objects.create(object_key=key, state=state, **values)
    stamp = timezone.now() - timedelta(days=days_old)
    # A drain writes a sent row's sent_at and updated_at in one statement.
    sent_at = stamp if state == OutboxState.SENT else values.get("sent_at")
    OutboxEntry.objects.filter(pk=created.pk).update(updated_at=stamp, sent_at=sent_at)
    return created


def keys() -> list[str]:
    return sorted(OutboxEntry.objects.values_list("object_key", flat=True))


def test_failed_and_dead_rows_have_their_own_retention() -> None:
    row("failed-old", OutboxState.FAILED, days_old=31)
    row("dead-old", OutboxState.DEAD, days_old=31)
    row("failed-recent", OutboxState.FAILED, days_old=29)
    row("sent-old", OutboxState.SENT, days_old=8)
    row("sent-recent", OutboxState.SENT, days_old=6)
    row("pending-old", OutboxState.PENDING, days_old=60)

    assert prune() == 3

    assert keys() == ["failed-recent", "pending-old", "sent-recent"]
    with bubblehouse_settings(FAILED_RETENTION=28 * DAY):
        prune()
    assert keys() == ["pending-old", "sent-recent"]


def test_sent_rows_go_by_their_push_and_skipped_rows_by_their_last_change() -> None:
    long_ago = timezone.now() - timedelta(days=8)
    row("skipped-old", OutboxState.SKIPPED, days_old=8)
    # Pushed long ago, then found gone (skipped) or changed again (pending) lately: kept.
    row("skipped-recent", OutboxState.SKIPPED, days_old=1, sent_at=long_ago)
    row("pending-sent-long-ago", OutboxState.PENDING, days_old=1, sent_at=long_ago)
    row("sent-old", OutboxState.SENT, days_old=8)

    assert prune() == 2

    assert keys() == ["pending-sent-long-ago", "skipped-recent"]


def test_delivered_rows_lose_their_delete_payload_at_once() -> None:
    payload = {"id": "7", "status": "canceled", "customer": {"email": "ada@example.com"}}
    sent = row("sent", OutboxState.SENT, delete_payload=payload)
    failed = row("failed", OutboxState.FAILED, delete_payload=payload)
    waiting = row("waiting", OutboxState.PENDING, delete_payload=payload)

    prune()

    payloads = dict(OutboxEntry.objects.values_list("pk", "delete_payload"))
    assert payloads == {sent.pk: None, failed.pk: payload, waiting.pk: payload}


def test_purge_a_customer() -> None:
    own = row("42", OutboxState.FAILED, kind=Kind.CUSTOMERS, serializer=CUSTOMERS)
    gone = row(
        "43",
        OutboxState.DEAD,
        kind=Kind.CUSTOMERS,
        serializer=CUSTOMERS,
        delete_payload={"id": "C-42", "deleted": True},
    )
    order = row(
        "7", OutboxState.SENT, delete_payload={"id": "7", "customer": {"email": "ada@example.com"}}
    )
    waiting = row("8", OutboxState.PENDING, delete_payload={"id": "8", "customer": {"id": "42"}})
    other = row("9", OutboxState.FAILED, delete_payload={"id": "9", "customer": {"id": "5"}})

    erasure = purge_customer("42", "ada@example.com")

    assert (erasure.purged, erasure.kept_waiting) == (2, 1)
    remaining = set(OutboxEntry.objects.values_list("pk", flat=True))
    assert remaining == {gone.pk, waiting.pk, other.pk}
    assert own.pk not in remaining
    assert order.pk not in remaining
    assert purge_customer("C-42").purged == 1
    assert purge_customer("42", include_waiting=True).purged == 1
    assert set(OutboxEntry.objects.values_list("pk", flat=True)) == {other.pk}


def test_purge_forgets_the_customer_an_order_row_last_pushed() -> None:
    row("7", OutboxState.SENT, pushed_identity={"customer": {"id": "42"}})
    by_email = row("8", OutboxState.SENT, pushed_identity={"customer": {"email": "ada@ex.com"}})
    other = row("9", OutboxState.SENT, pushed_identity={"customer": {"id": "5"}})

    assert purge_customer("42").purged == 1
    assert set(OutboxEntry.objects.values_list("pk", flat=True)) == {by_email.pk, other.pk}
    assert purge_customer(email="ada@ex.com").purged == 1
    assert set(OutboxEntry.objects.values_list("pk", flat=True)) == {other.pk}


def test_purge_command() -> None:
    row("42", OutboxState.FAILED, kind=Kind.CUSTOMERS, serializer=CUSTOMERS)
    row("8", OutboxState.PENDING, delete_payload={"id": "8", "customer": {"id": "42"}})
    out = StringIO()

    call_command("bubblehouse_purge", "--customer-id", "42", "--dry-run", stdout=out)
    assert "2 outbox row(s) name this customer; nothing deleted." in out.getvalue()
    call_command("bubblehouse_purge", "--customer-id", "42", stdout=out)

    assert "Deleted 1 outbox row(s)." in out.getvalue()
    assert "Kept 1 row(s) still waiting to be sent" in out.getvalue()
    assert keys() == ["8"]
    with pytest.raises(CommandError, match="name the customer"):
        call_command("bubblehouse_purge")

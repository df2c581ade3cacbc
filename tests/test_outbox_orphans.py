"""No row waits for a serializer that is gone: reported everywhere, re-keyed or discarded."""

from __future__ import annotations

import logging
from typing import Any

import pytest
import responses
from django.test import Client
from django.urls import reverse

from django_bubblehouse import outbox
from django_bubblehouse.models import OutboxEntry, OutboxState
from django_bubblehouse.outbox.maintenance import sweep
from django_bubblehouse.outbox.orphans import discard, orphaned_serializers, rekey
from tests.delivery_support import ORDERS, entry, pushed_ids

pytestmark = pytest.mark.django_db

OLD = "shop.bubblehouse_old.OrderSerializer"


def old_rows(*keys: str, **fields: Any) -> None:
    for key in keys:
        OutboxEntry.objects.create(kind="orders", serializer=OLD, object_key=key, **fields)


def test_only_waiting_rows_of_unregistered_serializers_are_orphans() -> None:
    old_rows("1", "2")
    old_rows("3", state=OutboxState.SENT)  # history, pruned in time
    old_rows("4", state=OutboxState.DEAD)
    OutboxEntry.objects.create(kind="orders", serializer=ORDERS, object_key="9")
    assert orphaned_serializers() == {OLD: 3}


def test_rekey_hands_the_rows_to_the_new_serializer_which_pushes_them(
    api: responses.RequestsMock, django_capture_on_commit_callbacks: Any
) -> None:
    from tests import shop_factories as shop

    with django_capture_on_commit_callbacks(execute=False):
        order = shop.order(customer=shop.customer())
    OutboxEntry.objects.filter(serializer=ORDERS).update(serializer=OLD, state=OutboxState.DEAD)
    assert orphaned_serializers() == {OLD: 1}

    assert rekey(OLD, ORDERS) == 1
    assert orphaned_serializers() == {}
    row = entry(order.pk)
    assert (row.state, row.attempts) == (OutboxState.PENDING, 0)
    outbox.drain()
    assert pushed_ids(api) == [str(order.pk)]


def test_rekey_onto_an_existing_row_keeps_one_row_per_object() -> None:
    old_rows("7")
    OutboxEntry.objects.create(
        kind="orders", serializer=ORDERS, object_key="7", state=OutboxState.SENT
    )
    assert rekey(OLD, ORDERS) == 1
    assert list(OutboxEntry.objects.values_list("serializer", "state")) == [
        (ORDERS, OutboxState.PENDING)
    ]


def test_rekey_to_an_unregistered_serializer_is_refused() -> None:
    old_rows("1")
    with pytest.raises(LookupError, match="no registered serializer"):
        rekey(OLD, "shop.nowhere.Serializer")
    assert orphaned_serializers() == {OLD: 1}


def test_discard_forgets_them() -> None:
    old_rows("1", "2")
    assert discard(OLD) == 2
    assert orphaned_serializers() == {}


def test_the_sweep_logs_them(caplog: pytest.LogCaptureFixture) -> None:
    old_rows("1")
    with caplog.at_level(logging.WARNING, logger="django_bubblehouse"):
        sweep()
    assert f"1 outbox row(s) wait for {OLD}, which is not a registered serializer" in caplog.text


def test_the_admin_status_box_shows_them(admin_client: Client) -> None:
    old_rows("1", "2")
    html = admin_client.get(reverse("admin:django_bubblehouse_outboxentry_changelist")).content
    text = html.decode()
    assert f"2 rows wait for <code>{OLD}</code>" in text

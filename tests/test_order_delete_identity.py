"""A delete is never lost: an order whose customer row is already gone still cancels."""

from __future__ import annotations

import pytest
import responses
from django.db import connection, transaction

from django_bubblehouse import outbox
from django_bubblehouse.models import OutboxState
from tests import shop_factories as shop
from tests.delivery_support import API, bodies, entry, forget_outbox_memo, reset_outbox
from tests.testapp.models import Customer, Order

pytestmark = pytest.mark.django_db


def test_deleting_an_order_whose_customer_row_is_gone_pushes_a_valid_cancel(
    api: responses.RequestsMock,
) -> None:
    customer = shop.customer()
    order = shop.order(customer=customer)
    reset_outbox()
    # Gone behind Django's back: no SET_NULL ran (MySQL checks the key at once, not at commit).
    with connection.constraint_checks_disabled(), connection.cursor() as cursor:
        table = connection.ops.quote_name(Customer._meta.db_table)
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [customer.pk])
    with transaction.atomic():
        Order.objects.get(pk=order.pk).delete()

    assert entry(order.pk).state == OutboxState.PENDING
    outbox.drain()

    [body] = bodies(api)
    assert body["orders"] == [
        {"id": str(order.pk), "customer": {"id": str(customer.pk)}, "status": "canceled"}
    ]
    assert entry(order.pk).state == OutboxState.SENT


def test_a_guest_order_without_a_customer_still_cancels_by_email(
    api: responses.RequestsMock,
) -> None:
    order = shop.order(guest_email="guest@example.com")
    reset_outbox()
    Order.objects.get(pk=order.pk).delete()
    outbox.drain()
    [body] = bodies(api)
    assert body["orders"][0]["customer"] == {"email": "guest@example.com"}


def test_an_order_whose_customer_was_set_to_null_cancels_with_its_last_pushed_customer(
    api: responses.RequestsMock,
) -> None:
    customer = shop.customer()
    order = shop.order(customer=customer)
    outbox.drain()  # pushed once: its customer's identity is kept on its outbox row
    assert entry(order.pk).pushed_identity == {
        "customer": {"id": str(customer.pk), "email": customer.email}
    }
    reset_outbox_keeping_rows()
    Order.objects.filter(pk=order.pk).update(customer=None)  # as on_delete=SET_NULL does
    Order.objects.get(pk=order.pk).delete()
    api.calls.reset()
    outbox.drain()
    [body] = bodies(api)
    assert body["orders"] == [
        {
            "id": str(order.pk),
            "customer": {"id": str(customer.pk), "email": customer.email},
            "status": "canceled",
        }
    ]


def reset_outbox_keeping_rows() -> None:
    forget_outbox_memo()


def test_a_push_overtaken_by_a_change_leaves_the_identity_to_the_next_push(
    http: responses.RequestsMock,
) -> None:
    """The identity is written like the row's other columns: only while it is unchanged."""
    customer = shop.customer()
    order = shop.order(customer=customer)
    seen: list[object] = []

    def push(request: object) -> tuple[int, dict[str, str], str]:
        seen.append(entry(order.pk).pushed_identity)
        if len(seen) == 1:
            forget_outbox_memo()
            with transaction.atomic():
                Order.objects.get(pk=order.pk).save()
        return 200, {}, '{"ok": true}'

    http.add_callback(responses.POST, API + "UpdateOrders4", callback=push)
    outbox.drain()
    assert entry(order.pk).state == OutboxState.PENDING  # pushed again by the next drain
    outbox.drain()
    assert seen == [None, None]
    assert entry(order.pk).pushed_identity == {
        "customer": {"id": str(customer.pk), "email": customer.email}
    }

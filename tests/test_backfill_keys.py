"""Keyset walks over integer, UUID and string keys, and a fixed query count per batch."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django_bubblehouse.fields import StringField
from django_bubblehouse.models import BackfillRange
from django_bubblehouse.serializers import CustomerSerializer
from django_bubblehouse.sync import disable_sync
from tests.backfill_support import Recorder, backfill, make_orders
from tests.bubblehouse_overrides import with_serializers
from tests.testapp.models import Order, OrderLine, Product, StringKeyed, UUIDKeyed

pytestmark = pytest.mark.django_db


class UUIDSerializer(CustomerSerializer):
    model = UUIDKeyed
    first_name = StringField(source="name")


class StringKeySerializer(CustomerSerializer):
    model = StringKeyed
    first_name = StringField(source="name")


@pytest.mark.parametrize(
    ("path", "make"),
    [
        (
            "tests.test_backfill_keys.UUIDSerializer",
            lambda i: UUIDKeyed.objects.create(name=f"u{i}"),
        ),
        (
            "tests.test_backfill_keys.StringKeySerializer",
            lambda i: StringKeyed.objects.create(code=f"code-{i:02d}", name=f"s{i}"),
        ),
    ],
)
def test_non_integer_keys_are_walked_and_resumed(recorder: Recorder, path, make) -> None:
    rows = [make(i) for i in range(7)]
    # The database's own key order (MariaDB's native UUID type does not sort as text).
    model = type(rows[0])
    expected = [
        str(pk) for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)
    ]
    recorder.script = [(200, {"ok": True}), KeyboardInterrupt()]

    with with_serializers(path):
        with pytest.raises(Exception, match="interrupted"):
            backfill("customers", batch_size=3, no_progress=True)
        assert BackfillRange.objects.get().cursor == expected[2]
        backfill("customers", batch_size=3, resume=True, no_progress=True)

    # First batch, the interrupted batch again, then the rest: every key, in key order.
    assert recorder.ids("customers") == expected[:3] + expected[3:6] + expected[3:]


def order_queries(orders: int, batch_size: int) -> int:
    """Queries of a whole backfill of ``orders`` fresh orders with two lines each."""
    with disable_sync():
        Order.objects.all().delete()
    created = make_orders(orders)
    with disable_sync():
        product = Product.objects.create(title="Shoe", slug="shoe")
        for order in created:
            for _ in range(2):
                OrderLine.objects.create(
                    order=order, product=product, product_title="Shoe", unit_price=Decimal("9.50")
                )
    with CaptureQueriesContext(connection) as queries:
        backfill("orders", batch_size=batch_size, no_progress=True)
    return len(queries)


@pytest.fixture
def standing_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The cursor is written once, at the end, however slow the machine (no interval passes)."""
    monkeypatch.setattr("django_bubblehouse.backfill.runner.monotonic", lambda: 0.0)


def test_queries_per_batch_do_not_grow_with_rows(recorder: Recorder, standing_clock: None) -> None:
    three_small_batches = order_queries(6, batch_size=2)
    three_big_batches = order_queries(30, batch_size=10)

    assert three_small_batches == three_big_batches


def test_each_batch_costs_the_same_queries(recorder: Recorder, standing_clock: None) -> None:
    two = order_queries(4, batch_size=2)
    three = order_queries(6, batch_size=2)
    four = order_queries(8, batch_size=2)

    per_batch = three - two
    assert four - three == per_batch
    # keys, earlier outbox failures, orders+customers, 3 prefetches (lines joined with their
    # products), the shop-wide hold
    assert per_batch == 7

"""Rows built from values are the instances Django's iteration builds."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Count, QuerySet
from django.db.models.signals import post_init
from django.test.utils import CaptureQueriesContext

from django_bubblehouse.serializers.rows import instances_of
from tests import shop_factories as shop
from tests.testapp.models import Customer, Dealer, Order, OrderLine, StringKeyed, UUIDKeyed

pytestmark = pytest.mark.django_db


def columns(obj: Any) -> dict[str, Any]:
    return {key: value for key, value in vars(obj).items() if not key.startswith("_")}


def built(queryset: QuerySet[Any]) -> list[Any]:
    found = instances_of(queryset)
    assert found is not None
    return [obj for obj, _ in found]


@pytest.fixture
def orders() -> list[Order]:
    guest = shop.order([(shop.product("Sock"), 1, "2.00", "0")])
    known = shop.order([(shop.product("Shoe"), 1, "9.50", "0")], customer=shop.customer())
    return [guest, known]


def test_instances_equal_djangos_with_their_own_state(orders: list[Order]) -> None:
    queryset = OrderLine.objects.order_by("pk")
    ours, theirs = built(queryset), list(queryset)
    assert [columns(obj) for obj in ours] == [columns(obj) for obj in theirs] != []
    for obj, their in zip(ours, theirs, strict=True):
        assert vars(obj).keys() == vars(their).keys()
        assert (obj._state.db, obj._state.adding) == (their._state.db, their._state.adding)
    assert len({id(obj._state) for obj in ours}) == len(ours)


def test_select_related_objects_are_cached_on_the_row(orders: list[Order]) -> None:
    queryset = Order.objects.select_related("customer").order_by("pk")
    ours, theirs = built(queryset), list(queryset)
    with CaptureQueriesContext(connection) as reading:
        assert [o.customer and columns(o.customer) for o in ours] == [
            o.customer and columns(o.customer) for o in theirs
        ]
    assert len(reading) == 0
    assert ours[0].customer is None
    assert ours[1].customer is not None


def test_a_one_to_one_joined_row_points_back(orders: list[Order]) -> None:
    shop.customer(email="ann@example.com", user=User.objects.create(username="ann"))
    [customer] = built(Customer.objects.filter(user__isnull=False).select_related("user"))
    with CaptureQueriesContext(connection) as reading:
        assert customer.user is not None
        assert customer.user.customer is customer
    assert len(reading) == 0


@pytest.mark.parametrize(
    "queryset",
    [
        lambda: Order.objects.annotate(n=Count("lines")),
        lambda: Order.objects.only("pk"),
        lambda: Order.objects.select_related(),
        lambda: Order.objects.values_list("pk"),
        lambda: Order.objects.prefetch_related("lines"),
    ],
    ids=["annotate", "only", "select_related-all", "values_list", "prefetch"],
)
def test_querysets_only_django_can_build_are_left_to_it(queryset: Any, orders: list[Order]) -> None:
    assert instances_of(queryset()) is None


def test_a_post_init_receiver_sees_every_row(orders: list[Order]) -> None:
    seen: list[int] = []

    def receiver(sender: type[OrderLine], instance: OrderLine, **kwargs: Any) -> None:
        seen.append(instance.pk)

    post_init.connect(receiver, sender=OrderLine)
    try:
        lines = built(OrderLine.objects.all())
    finally:
        post_init.disconnect(receiver, sender=OrderLine)
    assert sorted(seen) == sorted(line.pk for line in lines)
    assert len(seen) == 2


def test_rows_read_the_same_values_share_one_converted_value() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("psycopg returns typed values: Django converts none of these columns")
    product = shop.product("Sock")
    shop.order([(product, 1, "2.00", "0"), (product, 2, "2.00", "0.50")])
    queryset = OrderLine.objects.select_related("product").order_by("pk")
    first, second = built(queryset)
    theirs = list(queryset)
    assert [columns(line) for line in (first, second)] == [columns(line) for line in theirs]
    assert [columns(line.product) for line in (first, second)] == [
        columns(line.product) for line in theirs
    ]
    # The product joined to both lines: two instances, one converted time between them.
    assert first.product is not second.product
    assert first.product.created_at is second.product.created_at
    assert first.discount != second.discount


def test_mutable_values_are_never_shared() -> None:
    for code in ("A", "B"):
        Dealer.objects.create(code=code, name=code, markets=["de"], localized_names={"de": {}})
    first, second = built(Dealer.objects.order_by("pk"))
    assert first.markets == second.markets == ["de"]
    assert first.markets is not second.markets
    first.localized_names["de"]["title"] = "Erster"
    assert second.localized_names == {"de": {}}


@pytest.mark.parametrize("model", [Customer, Order, OrderLine, Dealer, UUIDKeyed, StringKeyed])
def test_every_kind_of_column_reads_as_django_reads_it(
    model: type[Any], orders: list[Order]
) -> None:
    """Decimals, datetimes, booleans, JSON, UUID and string keys, NULLs: column for column."""
    Dealer.objects.create(code="D", name="Dealer", markets=["de"], localized_names={})
    UUIDKeyed.objects.create(name="a")
    UUIDKeyed.objects.create(name="b")
    StringKeyed.objects.create(code="k1", name="a")
    queryset = model.objects.order_by("pk")
    ours, theirs = built(queryset), list(queryset)
    assert [columns(obj) for obj in ours] == [columns(obj) for obj in theirs] != []
    for obj, their in zip(ours, theirs, strict=True):
        assert [type(value) for value in columns(obj).values()] == [
            type(value) for value in columns(their).values()
        ]

"""Batch loading gives the objects, caches and query count of Django's own prefetch."""

from __future__ import annotations

import gc
import re
import weakref
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.db.models import Prefetch, QuerySet
from django.test.utils import CaptureQueriesContext

from django_bubblehouse.serializers.loading import load
from tests import shop_factories as shop
from tests.testapp.models import Collection, Order, OrderLine

pytestmark = pytest.mark.django_db


@pytest.fixture
def keys() -> list[str]:
    sale = Collection.objects.create(title="Sale", slug="sale")
    shoe = shop.product("Shoe", collections=[sale])
    sock = shop.product("Sock")
    first = shop.order([(shoe, 1, "9.50", "0"), (sock, 2, "1.00", "0"), (shoe, 1, "9.50", "0")])
    second = shop.order([(None, 1, "5.00", "0")], codes=["SPRING"], customer=shop.customer())
    return [str(first.pk), str(second.pk)]


def snapshot(orders: list[Order]) -> list[Any]:
    """What a serializer reads, through attributes only (a query here is counted)."""
    return sorted(
        (
            order.pk,
            order.customer.email if order.customer else None,
            [
                (
                    line.pk,
                    line.product.title if line.product else None,
                    [c.slug for c in line.product.collections.all()] if line.product else None,
                )
                for line in order.lines.all()
            ],
            [code.code for code in order.discount_codes.all()],
        )
        for order in orders
    )


def compare(queryset: QuerySet[Order], keys: list[str]) -> None:
    with CaptureQueriesContext(connection) as django_queries:
        expected = list(queryset.filter(pk__in=keys))
    with CaptureQueriesContext(connection) as loaded_queries:
        loaded = load(queryset, keys).objects
    with CaptureQueriesContext(connection) as reading:
        assert snapshot(loaded) == snapshot(expected)
    assert len(reading) == 0  # every relation read above was prefetched by load()
    # Never more queries; fewer where forward hops follow a reverse level (joined to it).
    assert len(loaded_queries) <= len(django_queries)


def test_nested_lookups_through_foreign_keys(keys: list[str]) -> None:
    queryset = Order.objects.prefetch_related(
        "customer", "lines__product__collections", "discount_codes"
    )
    compare(queryset, keys)


def test_select_related_and_a_repeated_prefix(keys: list[str]) -> None:
    queryset = Order.objects.select_related("customer").prefetch_related(
        "lines", "lines__product", "lines__product__collections", "discount_codes"
    )
    compare(queryset, keys)


def test_prefetch_objects_are_left_to_django(keys: list[str]) -> None:
    lines = OrderLine.objects.select_related("product").prefetch_related("product__collections")
    queryset = Order.objects.select_related("customer").prefetch_related(
        Prefetch("lines", queryset=lines), "discount_codes"
    )
    compare(queryset, keys)


def test_forward_hops_after_a_reverse_level_are_joined_to_its_query(keys: list[str]) -> None:
    with CaptureQueriesContext(connection) as queries:
        orders = load(Order.objects.prefetch_related("lines__product__collections"), keys).objects
    assert len(queries) == 3  # orders; lines joined with their products; collections
    products = [line.product for order in orders for line in order.lines.all()]
    shoes = [p for p in products if p is not None and p.title == "Shoe"]
    assert len(shoes) == 2
    assert shoes[0] is shoes[1]  # one instance per product, as Django's prefetch gives


def test_a_null_foreign_key_is_cached_as_none(keys: list[str]) -> None:
    [second] = load(Order.objects.prefetch_related("lines__product"), keys[1:]).objects
    [line] = second.lines.all()
    with CaptureQueriesContext(connection) as reading:
        assert line.product is None
    assert len(reading) == 0


def test_a_forward_foreign_key_is_one_plain_in_query(keys: list[str]) -> None:
    lines = [str(pk) for pk in OrderLine.objects.values_list("pk", flat=True)]
    with CaptureQueriesContext(connection) as queries:
        load(OrderLine.objects.prefetch_related("product"), lines)
    [products] = [q["sql"] for q in queries if "testapp_product" in q["sql"].split("FROM")[1]]
    # Django's own prefetch filters on a tuple: on SQLite one OR branch per key.
    assert re.search(r"testapp_product.\..id. IN \(", products)
    assert " OR " not in products


def django_loaded(queryset: QuerySet[Order], keys: list[str]) -> dict[int, Order]:
    return {order.pk: order for order in queryset.filter(pk__in=keys)}


def columns(row: Any) -> dict[str, Any]:
    return {key: value for key, value in vars(row).items() if not key.startswith("_")}


def test_prefetched_rows_are_the_querysets_djangos_managers_build(keys: list[str]) -> None:
    """A host's method may filter a prefetched relation: the query is the manager's own."""
    lookups = ("lines__product__collections__products", "discount_codes")
    queryset = Order.objects.prefetch_related(*lookups)
    expected = django_loaded(queryset, keys)
    pairs: list[tuple[Any, Any]] = []
    for order in load(queryset, keys).objects:
        theirs = expected[order.pk]
        pairs += [(order.lines.all(), theirs.lines.all())]
        pairs += [(order.discount_codes.all(), theirs.discount_codes.all())]
        for line, their_line in zip(order.lines.all(), theirs.lines.all(), strict=True):
            if line.product is None or their_line.product is None:
                continue
            collections = line.product.collections.all()
            their_collections = their_line.product.collections.all()
            pairs += [(collections, their_collections)]
            for ours, django in zip(collections, their_collections, strict=True):
                pairs += [(ours.products.all(), django.products.all())]
    assert len(pairs) > 6
    for ours, django in pairs:
        assert ours._hints == django._hints
        assert ours.db == django.db
        assert ours._known_related_objects == django._known_related_objects
        assert str(ours.filter(pk__gt=0).query) == str(django.filter(pk__gt=0).query)
        assert list(ours.filter(pk__gt=0)) == list(django.filter(pk__gt=0))
        assert [columns(row) for row in ours] == [columns(row) for row in django]


def test_a_reverse_foreign_keys_rows_point_back_to_their_owner(keys: list[str]) -> None:
    orders = load(Order.objects.prefetch_related("lines"), keys).objects
    with CaptureQueriesContext(connection) as reading:
        assert all(line.order is order for order in orders for line in order.lines.all())
    assert len(reading) == 0


@pytest.mark.parametrize(
    ("queryset", "untied_by_key"),
    [
        # Every level loaded here; a one-to-one's two sides cache each other.
        (
            Order.objects.prefetch_related(
                "customer__user", "lines__product__collections", "discount_codes"
            ),
            True,
        ),
        (Order.objects.select_related("customer__user").prefetch_related("lines"), True),
        # Levels Django prefetched: their caches are found by walking the batch.
        (Order.objects.select_related("customer__user").prefetch_related(Prefetch("lines")), False),
        (Order.objects.prefetch_related("customer__user__customer", "lines"), False),
    ],
    ids=["prefetched", "joined", "Prefetch object", "reverse one-to-one"],
)
def test_a_released_batch_is_freed_by_reference_counting(
    keys: list[str], queryset: QuerySet[Order], untied_by_key: bool
) -> None:
    """Its objects point at each other through their caches until released."""
    for n, order in enumerate(Order.objects.filter(pk__in=keys)):
        user = User.objects.create(username=f"user{n}")
        Order.objects.filter(pk=order.pk).update(customer=shop.customer(user=user))
    loaded = load(queryset, keys)
    orders = loaded.objects
    lines = [line for order in orders for line in order.lines.all()]
    customers = [order.customer for order in orders]
    users = [customer.user for customer in customers if customer is not None]
    assert len(users) == 2
    alive = [weakref.ref(obj) for obj in [*orders, *lines, *customers, *users]]
    assert (loaded.ties is not None) is untied_by_key
    gc.disable()
    try:
        loaded.release()
        del orders, lines, customers, users, loaded
        assert [ref() for ref in alive] == [None] * len(alive)
    finally:
        gc.enable()

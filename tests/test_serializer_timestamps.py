"""Batch queries on PostgreSQL parse timestamps with psycopg's C loader, to the same values."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from django_bubblehouse.serializers.loading import load
from django_bubblehouse.serializers.timestamps import fast_timestamps
from tests import shop_factories as shop
from tests.testapp.models import Order

pytestmark = pytest.mark.django_db
postgresql = pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's loaders")


def timestamp_loader() -> type:
    """The ``timestamptz`` loader a query's cursor used."""
    from psycopg.pq import Format

    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        cursor.fetchone()
        adapters = cursor.cursor.adapters
        loader: type = adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)
        return loader


@pytest.fixture
def berlin_database() -> Iterator[None]:
    """Django's time zone for the database is not UTC."""
    wrapper = connections[connection.alias]  # the connection itself, not the proxy
    wrapper.__dict__["timezone"] = ZoneInfo("Europe/Berlin")
    yield
    del wrapper.__dict__["timezone"]


@postgresql
def test_queries_inside_use_the_c_loader_on_their_own_cursors() -> None:
    django_loader = timestamp_loader()
    with fast_timestamps(connection.alias):
        inside = timestamp_loader()
    assert inside is not django_loader
    assert inside.__module__.endswith("._psycopg")  # psycopg's compiled implementation
    assert timestamp_loader() is django_loader  # the connection itself is left as it was


@postgresql
def test_a_database_time_zone_other_than_utc_keeps_djangos_loader(berlin_database: None) -> None:
    with fast_timestamps(connection.alias):
        inside = timestamp_loader()
    assert not inside.__module__.endswith("._psycopg")
    assert getattr(inside, "timezone", None) == ZoneInfo("Europe/Berlin")  # Django's own


@postgresql
def test_loaded_timestamps_are_djangos_values() -> None:
    placed = dt.datetime(2026, 3, 2, 14, 5, 11, 123456, tzinfo=dt.UTC)
    keys = [str(shop.order().pk) for _ in range(3)]
    for n, key in enumerate(keys):
        Order.objects.filter(pk=key).update(placed_at=placed + dt.timedelta(hours=n))
    theirs = {o.pk: o for o in Order.objects.filter(pk__in=keys)}

    ours = load(Order.objects.all(), keys).objects

    assert len(ours) == 3
    for order in ours:
        for name in ("placed_at", "updated_at"):
            value, expected = getattr(order, name), getattr(theirs[order.pk], name)
            assert (value, type(value)) == (expected, type(expected))
            assert value.tzinfo is expected.tzinfo is dt.UTC


def test_other_databases_are_left_alone() -> None:
    if connection.vendor == "postgresql":
        pytest.skip("the other databases' case")
    with fast_timestamps(connection.alias):
        assert connection.execute_wrappers == []

import datetime as dt
import uuid

import pytest
from django.db import connection
from django.db.models import Model
from django.test.utils import CaptureQueriesContext

from django_bubblehouse.keyset import (
    InvalidCursor,
    Keyset,
    Position,
    decode_cursor,
    encode_cursor,
)
from tests.testapp.models import Collection, Customer, StringKeyed, UUIDKeyed

pytestmark = pytest.mark.django_db

BASE = dt.datetime(2024, 5, 1, 12, 0, tzinfo=dt.UTC)


def walk(keyset: Keyset, size: int) -> list[str]:
    return [key for page in keyset.pages(size=size) for key in page.keys]


def db_order(model: type[Model]) -> list[str]:
    return [str(pk) for pk in model._default_manager.order_by("pk").values_list("pk", flat=True)]


def customers_at(*offsets_in_seconds: int) -> list[str]:
    """Customers whose updated_at is BASE + offset; equal offsets make timestamp ties."""
    keys = []
    for index, offset in enumerate(offsets_in_seconds):
        customer = Customer.objects.create(email=f"c{index}@example.com")
        Customer.objects.filter(pk=customer.pk).update(
            updated_at=BASE + dt.timedelta(seconds=offset)
        )
        keys.append(str(customer.pk))
    return keys


def test_integer_keys_in_pages_without_gaps_or_duplicates():
    for index in range(11):
        Collection.objects.create(title=f"c{index}", slug=f"c{index}")
    pages = list(Keyset(Collection.objects.all()).pages(size=3))
    assert [len(page.keys) for page in pages] == [3, 3, 3, 2]
    assert [key for page in pages for key in page.keys] == db_order(Collection)
    assert pages[-1].next is None
    assert all(page.next == Position(pk=page.keys[-1]) for page in pages[:-1])


def test_uuid_keys():
    for index in range(9):
        UUIDKeyed.objects.create(name=str(index))
    keys = walk(Keyset(UUIDKeyed.objects.all()), 2)
    assert keys == db_order(UUIDKeyed)
    assert len(set(keys)) == 9


def test_string_keys_follow_the_database_collation():
    codes = ["b", "a", "a b", "10", "9", "z-1", "z_1"]
    if connection.vendor != "mysql":  # MySQL's default collations fold case and accents
        codes += ["A", "ä", "Z"]
    for code in codes:
        StringKeyed.objects.create(code=code, name=code)
    keys = walk(Keyset(StringKeyed.objects.all()), 3)
    assert keys == db_order(StringKeyed)
    assert sorted(keys) == sorted(codes)


def test_timed_walk_orders_by_time_then_key_across_ties():
    keys = customers_at(30, 10, 10, 10, 20, 0, 10)
    walked = walk(Keyset(Customer.objects.all(), time_field="updated_at"), 2)
    expected = [
        str(pk) for pk in Customer.objects.order_by("updated_at", "pk").values_list("pk", flat=True)
    ]
    assert walked == expected
    assert walked[0] == keys[5]
    assert walked[-1] == keys[0]


def test_timed_page_position_carries_the_time():
    keys = customers_at(5, 7)
    page = Keyset(Customer.objects.all(), time_field="updated_at").page(limit=1)
    assert page.keys == [keys[0]]
    assert page.next == Position(pk=keys[0], updated=BASE + dt.timedelta(seconds=5))


def test_rows_updated_during_a_walk_move_to_the_end_and_are_never_skipped():
    keys = customers_at(*range(10))
    keyset = Keyset(Customer.objects.all(), time_field="updated_at", since=BASE)
    seen = []
    page = keyset.page(limit=3)
    seen += page.keys
    # One row already served and one still ahead change between page fetches.
    Customer.objects.get(pk=keys[1]).save()
    Customer.objects.get(pk=keys[6]).save()
    while page.next is not None:
        page = keyset.page(after=page.next, limit=3)
        seen += page.keys
    assert set(seen) == set(keys)
    assert seen.count(keys[1]) == 2  # served again with its new state
    assert seen.count(keys[6]) == 1  # moved behind the walk, served once
    assert seen[-2:] == [keys[1], keys[6]]
    assert len(seen) == 11


def test_since_and_until_bound_a_timed_walk():
    keys = customers_at(0, 10, 20, 30)
    keyset = Keyset(
        Customer.objects.all(),
        time_field="updated_at",
        since=BASE + dt.timedelta(seconds=10),
        until=BASE + dt.timedelta(seconds=30),
    )
    assert walk(keyset, 5) == keys[1:3]


def test_bounds_need_a_time_field():
    with pytest.raises(ValueError, match="time_field"):
        Keyset(Customer.objects.all(), since=BASE)


def test_limit_must_be_positive():
    with pytest.raises(ValueError, match="limit"):
        Keyset(Customer.objects.all()).page(limit=0)


def test_plain_pk_position_resumes_a_key_walk():
    for index in range(5):
        Collection.objects.create(title=f"c{index}", slug=f"c{index}")
    order = db_order(Collection)
    page = Keyset(Collection.objects.all()).page(after=Position(pk=order[1]), limit=10)
    assert page.keys == order[2:]
    assert page.next is None


def test_each_page_is_one_query_whatever_its_size():
    for index in range(30):
        Collection.objects.create(title=f"c{index}", slug=f"c{index}")
    for size in (1, 7, 30):
        with CaptureQueriesContext(connection) as queries:
            pages = list(Keyset(Collection.objects.prefetch_related("products")).pages(size=size))
        assert len(queries) == len(pages)


@pytest.mark.parametrize(
    "position",
    [
        Position(pk="42"),
        Position(pk="c7b0e9c2-5b8e-4a53-9f0a-6a1d3c4e5f60", updated=BASE),
        Position(pk="a b/ä", updated=dt.datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=dt.UTC)),
        Position(
            pk="9", updated=dt.datetime(2024, 1, 2, tzinfo=dt.timezone(dt.timedelta(hours=2)))
        ),
    ],
)
def test_cursor_round_trip(position):
    cursor = encode_cursor(position, scope="feed")
    assert decode_cursor(cursor, scope="feed") == position
    assert cursor.isascii()
    assert " " not in cursor


def test_cursor_is_bound_to_its_scope():
    cursor = encode_cursor(Position(pk="1"), scope="orders")
    with pytest.raises(InvalidCursor):
        decode_cursor(cursor, scope="customers")


@pytest.mark.parametrize("mangle", [lambda c: c[:-1], lambda c: "x" + c, lambda c: "", str.upper])
def test_edited_cursor_is_refused(mangle):
    cursor = encode_cursor(Position(pk="1", updated=BASE), scope="orders")
    with pytest.raises(InvalidCursor):
        decode_cursor(mangle(cursor), scope="orders")


def test_position_must_match_the_walk():
    timed = Keyset(Customer.objects.all(), time_field="updated_at")
    with pytest.raises(InvalidCursor, match="ordered by time"):
        timed.page(after=Position(pk="1"), limit=1)
    keyed = Keyset(Customer.objects.all())
    with pytest.raises(InvalidCursor, match="key only"):
        keyed.page(after=Position(pk="1", updated=BASE), limit=1)


@pytest.mark.parametrize(("model", "pk"), [(UUIDKeyed, "not-a-uuid"), (Collection, "abc")])
def test_position_key_of_the_wrong_type_is_refused(model, pk):
    with pytest.raises(InvalidCursor, match="does not fit"):
        Keyset(model.objects.all()).page(after=Position(pk=pk), limit=1)


def test_uuid_position_from_a_string():
    for index in range(3):
        UUIDKeyed.objects.create(name=str(index))
    first = UUIDKeyed.objects.order_by("pk").values_list("pk", flat=True)[0]  # the database's order
    page = Keyset(UUIDKeyed.objects.all()).page(after=Position(pk=str(first)), limit=5)
    assert len(page.keys) == 2
    assert str(first) not in page.keys
    assert all(isinstance(uuid.UUID(key), uuid.UUID) for key in page.keys)

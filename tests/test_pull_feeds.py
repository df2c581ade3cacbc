import csv
import datetime as dt
import io
import json
from typing import Any
from urllib.parse import quote

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.bubblehouse_overrides import bubblehouse_settings, with_serializers
from tests.pull_support import BASE, body_of, make_order, make_product, pull
from tests.testapp import bubblehouse
from tests.testapp.models import Customer, Order

pytestmark = pytest.mark.django_db

ORDERS = "/bubblehouse/orders"


class UntimedCustomerSerializer(bubblehouse.CustomerSerializer):
    updated_field = None  # type: ignore[assignment]


def orders_at(count: int) -> list[Order]:
    """Orders updated one second apart, oldest first."""
    return [
        make_order(f"N{index}", updated_at=BASE + dt.timedelta(seconds=index))
        for index in range(count)
    ]


def follow(client: Client, url: str, **params: Any) -> list[dict[str, Any]]:
    """Every JSON page of a feed, following ``next`` links."""
    pages = [json.loads(pull(client, url, **params).content)]
    while pages[-1]["next"]:
        pages.append(json.loads(pull(client, pages[-1]["next"]).content))
    return pages


def ids(pages: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for page in pages for item in page["items"]]


def test_json_page_holds_the_pushed_payloads(client):
    order = make_order("A1", lines=2)
    response = pull(client, f"{ORDERS}.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response["Cache-Control"] == "no-store"
    page = json.loads(response.content)
    assert page == {
        "items": [bubblehouse.OrderSerializer().serialize(Order.objects.get(pk=order.pk))],
        "errors": [],
        "next_cursor": None,
        "next": None,
    }
    assert page["items"][0]["items"][1]["amount_full"] == "25.00"


def test_json_pages_follow_next_without_gaps_or_duplicates(client):
    orders = orders_at(7)
    pages = follow(client, f"{ORDERS}.json", limit=3)
    assert [len(page["items"]) for page in pages] == [3, 3, 1]
    assert ids(pages) == [str(order.pk) for order in orders]
    assert pages[0]["next"].startswith("http://testserver/bubblehouse/orders.json?")
    assert "limit=3" in pages[0]["next"]
    assert pages[-1]["next_cursor"] is None


def test_rows_changed_between_pages_are_served_again_at_the_end_never_skipped(client):
    orders = orders_at(8)
    first = json.loads(pull(client, f"{ORDERS}.json", limit=3).content)
    # A served order and a not yet served one change while Bubblehouse pages through.
    orders[1].status = "shipped"
    orders[1].save()
    orders[5].save()
    pages = [first, *follow(client, first["next"])]
    seen = ids(pages)
    assert set(seen) == {str(order.pk) for order in orders}
    assert seen.count(str(orders[1].pk)) == 2
    assert seen.count(str(orders[5].pk)) == 1
    assert seen[-2:] == [str(orders[1].pk), str(orders[5].pk)]
    assert pages[-1]["items"][-2]["status"] == "completed"  # the newest state


def test_updated_since_filters_and_keeps_paging(client):
    orders = orders_at(6)
    since = (BASE + dt.timedelta(seconds=2)).isoformat()
    pages = follow(client, f"{ORDERS}.json", updated_since=since, limit=2)
    assert ids(pages) == [str(order.pk) for order in orders[2:]]
    assert "updated_since=" in pages[0]["next"]


@pytest.mark.parametrize(
    "since", ["2024-05-01T12:00:03Z", "2024-05-01T14:00:03+02:00", "2024-05-01T14:00:03 02:00"]
)
def test_updated_since_spellings(client, since):
    orders = orders_at(5)
    page = json.loads(pull(client, f"{ORDERS}.json", updated_since=since).content)
    assert [item["id"] for item in page["items"]] == [str(orders[3].pk), str(orders[4].pk)]


@pytest.mark.parametrize(
    ("params", "error_id", "message"),
    [
        ({"updated_since": "yesterday"}, "invalid_parameter", "RFC 3339"),
        ({"updated_since": "2024-05-01T12:00:00"}, "invalid_parameter", "offset"),
        ({"limit": "0"}, "invalid_parameter", "limit"),
        ({"limit": "ten"}, "invalid_parameter", "limit"),
        ({"cursor": "garbage"}, "invalid_cursor", "not valid"),
    ],
)
@pytest.mark.parametrize("feed_format", ["json", "jsonl", "csv"])
def test_bad_parameters_are_a_400_in_the_api_error_shape(
    client, params, error_id, message, feed_format
):
    make_order("A1")
    response = pull(client, f"{ORDERS}.{feed_format}", **{"limit": "5", **params})
    assert response.status_code == 400
    assert not response.streaming
    body = json.loads(response.content)
    assert body["id"] == error_id
    assert message in body["message"]


def test_cursor_from_another_feed_is_refused(client):
    make_order("A1")
    make_order("A2")
    customers = json.loads(pull(client, "/bubblehouse/customers.json", limit=1).content)
    response = pull(client, f"{ORDERS}.json", cursor=customers["next_cursor"])
    assert response.status_code == 400
    assert json.loads(response.content)["id"] == "invalid_cursor"


def test_edited_cursor_is_refused(client):
    orders_at(3)
    cursor = json.loads(pull(client, f"{ORDERS}.json", limit=1).content)["next_cursor"]
    response = pull(client, f"{ORDERS}.json", cursor=cursor.replace(cursor[2], "x", 1))
    assert response.status_code == 400


@bubblehouse_settings(PULL_PAGE_SIZE=2)
def test_limit_above_the_cap_is_clamped(client):
    orders_at(5)
    page = json.loads(pull(client, f"{ORDERS}.json", limit=1000).content)
    assert len(page["items"]) == 2
    assert len(json.loads(pull(client, f"{ORDERS}.json").content)["items"]) == 2


def test_feed_without_update_time_pages_by_key_and_refuses_updated_since(client):
    path = f"{__name__}.UntimedCustomerSerializer"
    with with_serializers(path, "tests.testapp.bubblehouse.OrderSerializer"):
        keys = [str(make_order(f"A{index}").customer_id) for index in range(3)]
        pages = follow(client, "/bubblehouse/customers.json", limit=2)
        assert ids(pages) == keys
        response = pull(client, "/bubblehouse/customers.json", updated_since="2024-01-01T00:00Z")
    assert response.status_code == 400
    assert "no update time" in json.loads(response.content)["message"]


def test_feed_without_a_serializer_is_404(client):
    with with_serializers("tests.testapp.bubblehouse.OrderSerializer"):
        response = pull(client, "/bubblehouse/products.json")
    assert response.status_code == 404
    assert json.loads(response.content)["id"] == "feed_not_found"


def test_a_broken_object_is_skipped_and_reported(client, caplog):
    good, broken, last = orders_at(3)
    Order.objects.filter(pk=broken.pk).update(status="on_hold")  # not in ORDER_STATUS_MAP
    page = json.loads(pull(client, f"{ORDERS}.json").content)
    assert [item["id"] for item in page["items"]] == [str(good.pk), str(last.pk)]
    [error] = page["errors"]
    assert error["key"] == str(broken.pk)
    assert "on_hold" in error["message"]
    assert f"orders {broken.pk}" in caplog.text


@pytest.mark.parametrize("feed_format", ["jsonl", "csv"])
def test_streams_skip_a_broken_object_and_log_it(client, caplog, feed_format):
    good, broken, last = orders_at(3)
    Order.objects.filter(pk=broken.pk).update(status="on_hold")
    body = body_of(pull(client, f"{ORDERS}.{feed_format}", limit=1, all="true"))
    assert f"{good.number}@example.com" in body
    assert f"{last.number}@example.com" in body
    assert f"{broken.number}@example.com" not in body
    assert f"orders {broken.pk}" in caplog.text


def test_json_lines_streams_the_whole_feed_page_by_page(client):
    orders = orders_at(5)
    response = pull(client, f"{ORDERS}.jsonl", limit=2, all="true")
    assert response.streaming
    assert response["Content-Type"] == "application/x-ndjson; charset=utf-8"
    assert response["Cache-Control"] == "no-store"
    lines = body_of(response).splitlines()
    assert [json.loads(line)["id"] for line in lines] == [str(order.pk) for order in orders]


def csv_rows(response: Any) -> list[dict[str, str]]:
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.DictReader(io.StringIO(body_of(response))))


def test_orders_csv_has_one_row_per_item_with_the_order_repeated(client):
    order = make_order("A1", lines=2)
    guest = make_order("G1", lines=0, guest=True)
    rows = csv_rows(pull(client, f"{ORDERS}.csv", all="true"))
    assert [row["id"] for row in rows] == [str(order.pk), str(order.pk), str(guest.pk)]
    first, second, guest_row = rows
    assert first["customer.email"] == second["customer.email"] == "A1@example.com"
    assert first["amount_full"] == second["amount_full"] == "43.50"
    assert (first["item.quantity"], first["item.amount_full"]) == ("1", "12.50")
    assert (second["item.quantity"], second["item.amount_full"]) == ("2", "25.00")
    assert first["item.product.title"] == "PA1"
    assert guest_row["customer.email"] == "guest-G1@example.com"
    assert guest_row["item.id"] == ""
    assert guest_row["amount_shipping"] == "4.90"


def test_csv_joins_lists_and_keeps_nested_objects_as_json(client):
    order = make_order("A1")
    order.discount_codes.create(code="SPRING")
    order.discount_codes.create(code="VIP")
    Customer.objects.filter(orders=order).update(loyalty_tier="gold")
    [row] = csv_rows(pull(client, f"{ORDERS}.csv", all="true"))
    assert row["discount_codes"] == "SPRING|VIP"
    [customer] = csv_rows(pull(client, "/bubblehouse/customers.csv", all="true"))
    assert json.loads(customer["extras"]) == {"loyalty_tier": "gold"}


def test_products_csv_has_one_row_per_variant(client):
    product = make_product("Lamp", prices=("1.00", "2.50"))
    product.active = False
    product.save()
    rows = csv_rows(pull(client, "/bubblehouse/products.csv", all="true"))
    assert [row["variant.price"] for row in rows] == ["1.00", "2.50"]
    assert {row["inactive"] for row in rows} == {"true"}
    assert {row["collection_ids"] for row in rows} == {str(product.collections.get().pk)}


def count_queries(client: Client, url: str, **params: Any) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = pull(client, url, **params)
        body_of(response)
    assert response.status_code == 200
    return len(queries)


@pytest.mark.parametrize("kind", ["orders", "customers", "products"])
def test_queries_per_page_do_not_grow_with_the_page_size(client, kind):
    for index in range(12):
        make_order(f"A{index}", lines=3)
    url = f"/bubblehouse/{kind}.json"
    small, large = count_queries(client, url, limit=2), count_queries(client, url, limit=12)
    assert small == large
    # A stream of n pages costs n times one page.
    assert count_queries(client, f"/bubblehouse/{kind}.jsonl", limit=4, all="true") == 3 * large
    assert count_queries(client, f"/bubblehouse/{kind}.csv", limit=12, all="true") == large
    assert count_queries(client, f"/bubblehouse/{kind}.csv", limit=4) == large


@pytest.mark.parametrize("feed_format", ["jsonl", "csv"])
def test_a_stream_without_limit_or_all_is_refused(client, feed_format):
    make_order("A1")
    response = pull(client, f"{ORDERS}.{feed_format}")
    assert response.status_code == 400
    body = json.loads(response.content)
    assert body["id"] == "invalid_parameter"
    assert "limit=<n>" in body["message"]
    assert "all=true" in body["message"]
    assert b"A1@example.com" not in response.content


@pytest.mark.parametrize(
    ("url", "params", "message"),
    [
        (f"{ORDERS}.json", {"all": "true"}, "streamed formats"),
        (f"{ORDERS}.jsonl", {"all": "yes"}, "true or false"),
    ],
)
def test_bad_all_parameter(client, url, params, message):
    response = pull(client, url, **params)
    assert response.status_code == 400
    assert message in json.loads(response.content)["message"]


def test_a_stream_with_a_limit_serves_one_page_and_links_the_next(client):
    orders = orders_at(5)
    first = pull(client, f"{ORDERS}.jsonl", limit=2)
    assert first["Link"].endswith('>; rel="next"')
    assert f"cursor={quote(first['X-Next-Cursor'])}" in first["Link"]
    pages = []
    response = first
    while True:
        pages.append([json.loads(line)["id"] for line in body_of(response).splitlines()])
        if not response.has_header("X-Next-Cursor"):
            break
        response = pull(client, f"{ORDERS}.jsonl", limit=2, cursor=response["X-Next-Cursor"])
    ids = [str(order.pk) for order in orders]
    assert pages == [ids[:2], ids[2:4], ids[4:]]


def test_a_whole_stream_carries_no_next_link(client):
    orders_at(3)
    response = pull(client, f"{ORDERS}.csv", limit=1, all="true")
    assert len(csv_rows(response)) == 3
    assert not response.has_header("Link")

"""Writers for the pull feeds: a JSON page, JSON Lines and flat CSV.

Every writer takes the payloads the host's serializers build for push, so a
pulled object is byte for byte what a push would have sent.

CSV is for importers and spreadsheets that cannot read nested JSON: each kind
has a fixed set of columns named by their path in the payload
(``customer.email``). An order becomes one row per item with the order's
columns repeated (an order without items still gets one row); a product
becomes one row per variant the same way. Money stays a decimal string,
booleans are ``true``/``false``, a list of plain values is joined with ``|``
and anything else nested is a JSON cell. Cells are written as they are (no
spreadsheet formula escaping) so an importer reads the data unchanged.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..encoding import dumps
from ..kinds import Kind

Payload = Mapping[str, Any]

CONTENT_TYPES = {
    "json": "application/json",
    "jsonl": "application/x-ndjson; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
}
STREAMED_FORMATS = ("jsonl", "csv")


def json_page(
    items: Iterable[Payload],
    errors: Iterable[Mapping[str, str]],
    *,
    next_cursor: str | None,
    next_url: str | None,
) -> str:
    return dumps(
        {
            "items": list(items),
            "errors": list(errors),
            "next_cursor": next_cursor,
            "next": next_url,
        }
    )


def json_lines(payloads: Iterable[Payload]) -> Iterator[str]:
    for payload in payloads:
        yield dumps(payload) + "\n"


@dataclass(frozen=True)
class CsvLayout:
    """Columns of one kind; ``row_list`` is the payload list that fans out into rows."""

    columns: tuple[str, ...]
    row_list: str | None = None
    row_prefix: str = ""


def _columns(names: str) -> tuple[str, ...]:
    return tuple(names.split())


CSV_LAYOUTS: dict[Kind, CsvLayout] = {
    Kind.ORDERS: CsvLayout(
        columns=_columns(
            "id order_time update_time status customer.id customer.email customer.first_name "
            "customer.last_name discount_codes amount_full amount_spent amount_taxes "
            "amount_shipping store_location deleted item.id item.product.id "
            "item.product.title item.quantity item.amount_full item.amount_spent "
            "item.is_unfulfillable"
        ),
        row_list="items",
        row_prefix="item.",
    ),
    Kind.CUSTOMERS: CsvLayout(
        columns=_columns(
            "id email phone first_name last_name full_name birthday tags extras deleted"
        ),
    ),
    Kind.PRODUCTS: CsvLayout(
        columns=_columns(
            "id title slug sku description inactive tags collection_ids created_at "
            "updated_at deleted variant.id variant.title variant.sku variant.price "
            "variant.price_known variant.in_stock"
        ),
        row_list="variants",
        row_prefix="variant.",
    ),
}


class _Echo:
    """A file-like sink that hands each CSV line back instead of buffering it."""

    def write(self, value: str) -> str:
        return value


def csv_lines(kind: Kind, payloads: Iterable[Payload]) -> Iterator[str]:
    layout = CSV_LAYOUTS[kind]
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield writer.writerow(layout.columns)
    for payload in payloads:
        for row in _rows(layout, payload):
            yield writer.writerow(row)


def _rows(layout: CsvLayout, payload: Payload) -> Iterator[list[str]]:
    children = payload.get(layout.row_list) if layout.row_list else None
    for child in children or [None]:
        yield [_cell(_lookup(layout, payload, child, column)) for column in layout.columns]


def _lookup(layout: CsvLayout, payload: Payload, child: object, column: str) -> object:
    if layout.row_prefix and column.startswith(layout.row_prefix):
        value: object = child
        column = column.removeprefix(layout.row_prefix)
    else:
        value = payload
    for part in column.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, list | tuple) and all(isinstance(item, str | int) for item in value):
        return "|".join(str(item) for item in value)
    if isinstance(value, Mapping | list | tuple):
        return dumps(value)
    return str(value)

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pytest

from django_bubblehouse.encoding import dumps


def test_decimal_becomes_a_decimal_string():
    body = {"amount_full": Decimal("12.00"), "tiny": Decimal("0.000001"), "big": Decimal("1E+2")}
    assert json.loads(dumps(body)) == {"amount_full": "12.00", "tiny": "0.000001", "big": "100"}


def test_plain_json_values_pass_through():
    body = {"id": "7", "quantity": 3, "deleted": False, "store_location": None, "tags": ("a", "b")}
    assert json.loads(dumps(body)) == {
        "id": "7",
        "quantity": 3,
        "deleted": False,
        "store_location": None,
        "tags": ["a", "b"],
    }


def test_output_is_compact_utf8_text():
    assert dumps({"title": "Crème", "n": [1, 2]}) == '{"title":"Crème","n":[1,2]}'


def test_float_is_refused_with_its_path():
    body = {"orders": [{"id": "1"}, {"id": "2", "items": [{"amount_full": 12.5}]}]}
    with pytest.raises(TypeError, match=r"orders\[1\]\.items\[0\]\.amount_full is the float 12\.5"):
        dumps(body)


def test_float_at_the_top_level():
    with pytest.raises(TypeError, match="the value is the float"):
        dumps(1.0)


def test_non_finite_decimal_is_refused():
    with pytest.raises(ValueError, match=r"price is the non-finite Decimal NaN"):
        dumps({"price": Decimal("NaN")})


def test_aware_datetime_is_rfc3339_and_naive_is_refused():
    aware = dt.datetime(2026, 3, 2, 14, 5, 11, tzinfo=dt.UTC)
    assert json.loads(dumps({"t": aware})) == {"t": "2026-03-02T14:05:11+00:00"}
    assert json.loads(dumps({"d": dt.date(2026, 3, 2)})) == {"d": "2026-03-02"}
    with pytest.raises(TypeError, match="t is a naive datetime"):
        dumps({"t": dt.datetime(2026, 3, 2, 14, 5, 11)})


def test_non_string_keys_and_unknown_types_are_refused():
    with pytest.raises(TypeError, match="extras has the non-string key 1"):
        dumps({"extras": {1: "x"}})
    with pytest.raises(TypeError, match=r"ids\[0\] is a set"):
        dumps({"ids": [{"1"}]})

"""The emulator's pure request handler: auth, versions, validation, state."""

import dataclasses
import json
import time

import pytest

from django_bubblehouse.auth import mint_shop_token
from django_bubblehouse.conf import SigningKey
from django_bubblehouse.testing.emulator import FaultConfig, Key, errors, handle
from tests.emulator_support import error, post

OTHER_SECRET = "YS1kaWZmZXJlbnQtc2VjcmV0LW9mLTMyLWJ5dGVzISE="
ITEM = {"product": {"id": "P123"}, "quantity": 2, "amount_full": "12.00", "amount_spent": "8.00"}


# -- authentication -----------------------------------------------------------------


def test_a_valid_token_is_accepted(state):
    assert post(state, "UpdateCustomers3", {"customers": []}) == (200, {"ok": True})


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"keys": (SigningKey("unknown-kid", OTHER_SECRET),)}, "unknown key id"),
        ({"keys": (SigningKey("test-kid", OTHER_SECRET),)}, "bad signature"),
        ({"shop": "othershop"}, "token subject does not match"),
        ({"token_ttl": -10}, "token has expired"),
    ],
)
def test_bad_tokens_are_invalid_token(state, conf, change, reason):
    token = mint_shop_token(dataclasses.replace(conf, **change))
    status, body = post(state, "UpdateCustomers3", {"customers": []}, token=token)
    assert (status, body) == (401, {"id": "invalid_token", "message": reason})
    assert state.customers == {}


def test_missing_token_and_unknown_shop(state, conf):
    assert post(state, "UpdateCustomers3", {"customers": []}, token="")[1]["message"] == (
        "missing bearer token"
    )
    other = mint_shop_token(dataclasses.replace(conf, shop="othershop"))
    assert error(post(state, "UpdateCustomers3", {}, token=other, shop="othershop")) == (
        401,
        "invalid_token",
    )


def test_a_customer_token_cannot_call_the_order_api(state, conf):
    from django_bubblehouse.auth import CUSTOMER_USE, mint_token

    token = mint_token(f"{conf.shop}/c1", conf.signing_key, ttl=60, use=CUSTOMER_USE, now=None)
    assert post(state, "UpdateCustomers3", {"customers": []}, token=token) == (
        401,
        {"id": "invalid_token", "message": "a customer token cannot call the Order API"},
    )


def test_the_emulators_own_signed_tokens_are_what_it_accepts(state, conf):
    from django_bubblehouse.testing.emulator.tokens import sign_token

    key = Key(conf.keys[0].kid, conf.keys[0].secret)
    token = sign_token(key, conf.shop)
    assert post(state, "UpdateCustomers3", {"customers": []}, token=token)[0] == 200
    expired = sign_token(key, conf.shop, ttl=60, now=time.time() - 120)
    assert post(state, "UpdateCustomers3", {"customers": []}, token=expired)[1]["message"] == (
        "token has expired"
    )


def test_the_secret_may_be_url_safe_base64_without_padding(state, conf):
    secret = "-_-_" * 11 + "AB"  # needs "==" padding; uses the URL-safe alphabet
    key = SigningKey("rotated-kid", secret)
    state.config.keys = (*state.config.keys, Key("rotated-kid", secret))
    token = mint_shop_token(dataclasses.replace(conf, keys=(key,)))
    assert post(state, "UpdateCustomers3", {"customers": []}, token=token) == (200, {"ok": True})


def test_a_token_without_exp_is_refused(state, conf):
    import jwt

    from django_bubblehouse.auth import decode_secret

    key = conf.keys[0]
    token = jwt.encode(
        {"aud": "BH", "sub": conf.shop}, decode_secret(key.secret), headers={"kid": key.kid}
    )
    assert error(post(state, "UpdateCustomers3", {}, token=token)) == (401, "invalid_token")


def test_the_authorization_header_is_never_recorded(state):
    post(state, "UpdateCustomers3", {"customers": []})
    recorded = json.dumps([r.as_dict() for r in state.requests])
    assert "Bearer" not in recorded
    assert "eyJ" not in recorded


# -- versions, routes, bodies -------------------------------------------------------------


@pytest.mark.parametrize("version", ["v2023061", "v20230601"])
def test_both_documented_versions_are_accepted(state, version):
    assert post(state, "UpdateCustomers3", {"customers": []}, version=version) == (
        200,
        {"ok": True},
    )


@pytest.mark.parametrize(
    ("version", "error_id"),
    [
        ("v1999", "invalid_global_api_version"),
        ("v2022011", "obsolete_global_api_version"),
        ("v2024011", "inaccessible_global_api_version"),
    ],
)
def test_api_version_errors(state, version, error_id):
    assert post(state, "UpdateCustomers3", {"customers": []}, version=version) == (
        400,
        {"id": error_id},
    )
    assert state.requests[-1].error_id == error_id


def test_the_accepted_versions_are_configurable(state):
    state.config.api_versions = frozenset({"v2099011"})
    assert post(state, "UpdateCustomers3", {"customers": []}, version="v2099011")[0] == 200
    assert error(post(state, "UpdateCustomers3", {"customers": []})) == (
        400,
        "invalid_global_api_version",
    )


def test_unknown_func_and_path_and_method(state):
    assert error(post(state, "UpdateWidgets1", {})) == (404, "unknown_func")
    assert handle(state, "GET", "/nowhere", {}, b"").status == 404
    assert handle(state, "GET", "/api/v2023061/testshop/UpdateOrders4", {}, b"").status == 405


@pytest.mark.parametrize(
    ("func", "raw", "message"),
    [
        ("UpdateOrders4", b"{nope", "body is not valid JSON"),
        ("UpdateCustomers3", b'{"customers": [{"id": "c1", "x": NaN}]}', "NaN is not allowed"),
        ("UpdateOrders4", b"[]", "the body must be a JSON object, got a list"),
        ("UpdateOrders4", b'{"order": []}', '"orders" is required'),
        ("UpdateCustomers3", b'{"customers": {"id": "c1"}}', '"customers" must be a list'),
        ("UpdateProducts3", b'{"products": []}', '"collections" is required'),
        ("UpdateEntities1", b'{"entities": []}', '"entity_set" must be a non-empty string'),
        ("UpdateEntities1", b'{"entity_set": "x"}', '"entities" is required'),
    ],
)
def test_only_wildly_broken_bodies_are_400_without_debug(state, func, raw, message):
    status, body = post(state, func, None, raw=raw)
    assert (status, body["id"]) == (400, "invalid_request")
    assert message in body["message"]
    assert state.processing_errors == []


def test_invalid_objects_are_200_left_out_and_recorded_as_processing_errors(state):
    bad_item = {**ITEM, "amount_full": 12.0}
    orders = [
        {"id": "1", "customer": {"id": "c1"}, "items": [bad_item]},
        {"id": "2", "customer": {"id": "c2"}, "items": [ITEM]},
        {"id": 3, "customer": {"id": "c3"}},
    ]
    assert post(state, "UpdateOrders4", {"orders": orders}) == (200, {"ok": True})
    assert set(state.orders) == {"2"}
    assert set(state.customers) == {"c2"}  # nothing of an invalid order is applied
    assert [(e.request, e.func, e.path) for e in state.processing_errors] == [
        (0, "UpdateOrders4", "orders[0].items[0].amount_full"),
        (0, "UpdateOrders4", "orders[2].id"),
    ]
    assert state.processing_errors[0].message == (
        'must be a decimal string like "12.00", got float 12.0 (floats are refused)'
    )
    assert state.summary()["processing_errors"][1] == {
        "request": 0,
        "func": "UpdateOrders4",
        "path": "orders[2].id",
        "message": "must be a non-empty string id, got int 3",
    }


def test_the_same_request_in_debug_mode_is_400_with_the_errors_and_applies_nothing(state):
    orders = [
        {"id": "1", "customer": {"id": "c1"}, "items": [{**ITEM, "quantity": "2"}]},
        {"id": "2", "customer": {"id": "c2"}, "nickname": "x"},
    ]
    status, body = post(state, "UpdateOrders4", {"orders": orders, "debug": True})
    assert (status, body["id"]) == (400, "invalid_request")
    assert body["errors"] == [
        "orders[0].items[0].quantity: must be an integer, got str '2' (error)",
        "orders[1].nickname: unknown Order2 field (ignored) (warning)",
    ]
    assert body["message"].endswith("(nothing was applied)")
    assert state.orders == {}
    assert state.processing_errors == []  # reported in the response, not by email


def test_a_flag_of_the_wrong_type_is_read_as_false(state):
    post(state, "UpdateProducts3", {"products": [{"id": "P1", "title": "A"}], "collections": []})
    body = {"products": [], "collections": [], "replace_products": "yes"}
    assert post(state, "UpdateProducts3", body)[0] == 200
    assert state.products["P1"]["deleted"] is False
    assert [(e.path, e.message) for e in state.processing_errors] == [
        ("replace_products", "must be true or false, got str 'yes' (read as false)")
    ]


def test_content_type_must_be_json(state):
    reply = handle(
        state,
        "POST",
        "/api/v2023061/testshop/UpdateCustomers3",
        {"Authorization": f"Bearer {mint_shop_token()}"},
        b'{"customers": []}',
    )
    assert (reply.status, reply.body["message"]) == (400, "Content-Type must be application/json")


def test_warnings_only_fail_in_debug_mode(state):
    customers = [{"id": "c1", "nickname": "annie"}]
    assert post(state, "UpdateCustomers3", {"customers": customers})[0] == 200
    assert state.requests[-1].problems == (
        "customers[0].nickname: unknown Customer2 field (ignored) (warning)",
    )
    assert state.customers["c1"] == {"id": "c1", "deleted": False}  # applied, without the field
    assert state.processing_errors == []
    status, body = post(state, "UpdateCustomers3", {"customers": customers, "debug": True})
    assert (status, body["id"]) == (400, "invalid_request")
    assert "customers[0].nickname" in body["message"]
    assert body["errors"] == ["customers[0].nickname: unknown Customer2 field (ignored) (warning)"]


def test_order_deletion_needs_a_key_with_deletion_enabled(state):
    order = {"id": "9", "customer": {"id": "c1"}, "deleted": True}
    assert post(state, "UpdateOrders4", {"orders": [order]})[0] == 200
    assert state.orders["9"]["deleted"] is False
    assert error(post(state, "UpdateOrders4", {"orders": [order], "debug": True})) == (
        400,
        "invalid_request",
    )
    state.config.allow_order_delete = True
    post(state, "UpdateOrders4", {"orders": [order]})
    assert state.orders["9"]["deleted"] is True


# -- state --------------------------------------------------------------------------------


def test_orders_create_and_update_their_customer_and_products(state):
    order = {
        "id": "1001",
        "status": "confirmed",
        "customer": {"id": "c1", "email": "ann@example.com", "first_name": "Ann"},
        "items": [
            {**ITEM, "product": {"id": "P1", "title": "Supershoe", "collection_ids": ["C42"]}},
            ITEM,
        ],
    }
    assert post(state, "UpdateOrders4", {"orders": [order]}) == (200, {"ok": True})
    assert state.orders["1001"]["status"] == "confirmed"
    assert state.orders["1001"]["customer_key"] == "c1"
    assert state.customers["c1"]["first_name"] == "Ann"
    assert state.products["P1"]["collection_ids"] == ["C42"]
    assert set(state.products) == {"P1", "P123"}

    post(state, "UpdateOrders4", {"orders": [{**order, "status": "canceled", "items": []}]})
    assert state.orders["1001"]["status"] == "canceled"
    assert state.products["P1"]["title"] == "Supershoe"


def test_a_guest_keeps_its_record_when_it_gets_an_id(state):
    guest = {"id": "7", "customer": {"email": "Guest@Example.com", "first_name": "G"}}
    post(state, "UpdateOrders4", {"orders": [guest]})
    assert state.orders["7"]["customer_key"] == "email:guest@example.com"
    post(state, "UpdateCustomers3", {"customers": [{"id": "c9", "email": "Guest@Example.com"}]})
    assert set(state.customers) == {"c9"}
    assert state.customers["c9"]["first_name"] == "G"


def test_customer_and_product_deletes_and_replace(state):
    post(state, "UpdateCustomers3", {"customers": [{"id": "c1", "email": "a@b.c"}]})
    post(state, "UpdateCustomers3", {"customers": [{"id": "c1", "deleted": True}]})
    assert state.customers["c1"] == {"id": "c1", "email": "a@b.c", "deleted": True}

    products = [{"id": p, "title": p, "collection_ids": ["C1"]} for p in ("P1", "P2")]
    body = {"products": products, "collections": [{"id": "C1", "title": "Shoes"}]}
    assert post(state, "UpdateProducts3", body)[0] == 200
    body = {"products": products[:1], "collections": [], "replace_products": True}
    post(state, "UpdateProducts3", body)
    assert {k: v["deleted"] for k, v in state.products.items()} == {"P1": False, "P2": True}
    assert state.collections["C1"]["deleted"] is False


def test_a_null_is_an_omitted_field_except_where_null_is_a_value(state):
    post(state, "UpdateCustomers3", {"customers": [{"id": "c1", "phone": "+49 30 1"}]})
    post(state, "UpdateCustomers3", {"customers": [{"id": "c1", "phone": None}]})
    assert state.customers["c1"]["phone"] == "+49 30 1"
    product = {"id": "P1", "title": "T", "variants": [{"id": "V1", "in_stock": True}]}
    post(state, "UpdateProducts3", {"products": [product], "collections": []})
    product["variants"] = [{"id": "V1", "in_stock": None}]
    post(state, "UpdateProducts3", {"products": [product], "collections": []})
    assert state.products["P1"]["variants"]["V1"]["in_stock"] is None
    assert state.processing_errors == []


def test_variants_merge_by_id(state):
    variants = [{"id": "V1", "price": "0", "price_known": True}, {"id": "V2", "price": "5"}]
    post(
        state,
        "UpdateProducts3",
        {"products": [{"id": "P1", "title": "T", "variants": variants}], "collections": []},
    )
    update = [{"id": "V2", "price": "6.00"}]
    post(
        state,
        "UpdateProducts3",
        {"products": [{"id": "P1", "title": "T", "variants": update}], "collections": []},
    )
    assert {k: v["price"] for k, v in state.products["P1"]["variants"].items()} == {
        "V1": "0",
        "V2": "6.00",
    }


def test_every_request_is_recorded(state):
    post(state, "UpdateCustomers3", {"customers": []})
    post(state, "UpdateCustomers3", {"customers": []}, version="v1999")
    assert [(r.func, r.status, r.error_id) for r in state.requests] == [
        ("UpdateCustomers3", 200, None),
        ("UpdateCustomers3", 400, "invalid_global_api_version"),
    ]
    assert state.requests[0].body == {"customers": []}
    assert state.requests[0].received_at <= time.time()
    assert len(state.calls("UpdateCustomers3")) == 2
    assert state.summary()["request_count"] == 2


def test_every_error_answer_uses_an_id_of_the_table_and_the_pages_ids_verbatim(state, conf):
    replies = [
        post(state, "UpdateCustomers3", {}, token="x.y.z"),
        post(state, "UpdateCustomers3", {}, version="v1999"),
        post(state, "UpdateCustomers3", {}, version="v2022011"),
        post(state, "UpdateCustomers3", {}, version="v2024011"),
        post(state, "UpdateEntities1", {"entity_set": "nope", "entities": []}),
        post(state, "UpdateCustomers3", None, raw=b"nope"),
        post(state, "UpdateWidgets1", {}),
    ]
    state.set_faults(FaultConfig(queue=["429", "503"]))
    replies += [post(state, "UpdateCustomers3", {"customers": []}) for _ in range(2)]
    for method, path in (("GET", "/api/v2023061/testshop/UpdateOrders4"), ("POST", "/x")):
        reply = handle(state, method, path, {}, b"")
        replies.append((reply.status, reply.body))

    table = {kind.id: kind for kind in errors.ALL}
    for status, body in replies:
        kind = table[body["id"]]
        assert status == kind.status or (kind is errors.SERVER_ERROR and status == 503), body
    assert {r[1]["id"] for r in replies} == set(table)
    documented = {kind.id for kind in errors.ALL if kind.page}
    assert documented == {
        "invalid_token",
        "rate_limit_exceeded",
        "invalid_global_api_version",
        "obsolete_global_api_version",
        "inaccessible_global_api_version",
        "entity_set_not_found",
    }

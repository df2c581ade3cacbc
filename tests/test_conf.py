from __future__ import annotations

import ast
import dataclasses
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_bubblehouse.conf import SETTINGS_SPEC, SigningKey, get_settings

MINIMAL = {"SHOP": "shop", "KID": "k1", "SHARED_SECRET": "c2VjcmV0"}


def test_defaults_come_from_the_spec():
    with override_settings(BUBBLEHOUSE=MINIMAL):
        conf = get_settings()
    assert conf.api_host == SETTINGS_SPEC["API_HOST"].default == "app.bubblehouse.com"
    assert conf.api_version == "v2023061"
    assert conf.timeout == (5.0, 30.0)
    assert conf.token_ttl == 300
    assert conf.debug_mode is False
    assert conf.batch_size == 100
    assert conf.serializers == ()
    assert conf.order_status_map == {}
    assert conf.auto_sync is True
    assert conf.q_cluster_name is None


def test_every_spec_key_is_a_settings_field():
    fields = {f.name for f in dataclasses.fields(get_settings())}
    assert fields == {name.lower() for name in SETTINGS_SPEC}


def test_types_come_from_the_annotations():
    assert SETTINGS_SPEC["BATCH_SIZE"].types == (int,)
    assert SETTINGS_SPEC["BACKOFF_BASE"].types == (int, float)
    assert SETTINGS_SPEC["SERIALIZERS"].types == (list, tuple)
    assert SETTINGS_SPEC["Q_CLUSTER_NAME"].types == (str, type(None))


def test_mappings_are_copied_from_the_host_setting():
    status_map = {"paid": "confirmed"}
    with override_settings(BUBBLEHOUSE={**MINIMAL, "ORDER_STATUS_MAP": status_map}):
        conf = get_settings()
    status_map["paid"] = "completed"
    assert conf.order_status_map == {"paid": "confirmed"}


def test_sequences_and_numbers_are_normalised():
    with override_settings(
        BUBBLEHOUSE={**MINIMAL, "SERIALIZERS": ["a.B"], "BACKOFF_BASE": 3, "TIMEOUT": [1, 2]}
    ):
        conf = get_settings()
    assert conf.serializers == ("a.B",)
    assert conf.backoff_base == 3.0
    assert isinstance(conf.backoff_base, float)
    assert conf.timeout == (1.0, 2.0)


def test_missing_setting_means_all_defaults():
    from django.conf import settings

    # Deleting a setting sends no setting_changed, so the cache is cleared by hand.
    try:
        with override_settings():
            del settings.BUBBLEHOUSE
            get_settings.cache_clear()
            conf = get_settings()
    finally:
        get_settings.cache_clear()
    assert conf.shop == ""
    assert conf.keys == ()


def test_override_settings_clears_the_cache():
    before = get_settings()
    assert get_settings() is before
    with override_settings(BUBBLEHOUSE={**MINIMAL, "BATCH_SIZE": 7}):
        assert get_settings().batch_size == 7
    assert get_settings().batch_size == before.batch_size
    assert get_settings() is not before


def test_api_base_url_defaults_to_https():
    with override_settings(BUBBLEHOUSE={**MINIMAL, "API_HOST": "app.bubblehouse.com/"}):
        assert get_settings().api_base_url == "https://app.bubblehouse.com/api/v2023061/shop"


def test_api_base_url_keeps_an_explicit_scheme_and_port():
    with override_settings(BUBBLEHOUSE={**MINIMAL, "API_HOST": "http://127.0.0.1:8765"}):
        assert get_settings().api_base_url == "http://127.0.0.1:8765/api/v2023061/shop"


def test_shared_secret_signs_first_then_keys_in_order():
    config = {**MINIMAL, "KEYS": [("k2", "c2Vj"), ["k3", "b2xk"]]}
    with override_settings(BUBBLEHOUSE=config):
        conf = get_settings()
    assert conf.keys == (
        SigningKey("k1", "c2VjcmV0"),
        SigningKey("k2", "c2Vj"),
        SigningKey("k3", "b2xk"),
    )
    assert conf.signing_key == SigningKey("k1", "c2VjcmV0")


def test_keys_alone_sign_with_the_first():
    with override_settings(BUBBLEHOUSE={"SHOP": "s", "KEYS": [("new", "bmV3"), ("old", "b2xk")]}):
        assert get_settings().signing_key.kid == "new"


def test_no_credentials_is_improperly_configured():
    with override_settings(BUBBLEHOUSE={"SHOP": "s"}), pytest.raises(ImproperlyConfigured):
        _ = get_settings().signing_key


def test_secret_is_hidden_from_repr():
    assert "c2VjcmV0" not in repr(SigningKey("k1", "c2VjcmV0"))
    with override_settings(BUBBLEHOUSE=MINIMAL):
        assert "c2VjcmV0" not in repr(get_settings())


def test_bad_timeout_is_improperly_configured():
    with (
        override_settings(BUBBLEHOUSE={**MINIMAL, "TIMEOUT": 5}),
        pytest.raises(ImproperlyConfigured),
    ):
        get_settings()


def test_readme_settings_table_is_the_spec():
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Settings reference", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        if line.startswith("| `"):
            name, default, meaning = (cell.strip() for cell in line.strip("|").split(" | "))
            rows[name.strip("`")] = (ast.literal_eval(default.strip("`")), meaning)
    expected = {name: (spec.default, spec.help) for name, spec in SETTINGS_SPEC.items()}
    assert rows == expected, "README's settings table differs from conf.BubblehouseSettings"

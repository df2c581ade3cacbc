"""One test per check id: the id appears for the bad config and not for a good one."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage
from django.test import override_settings

from django_bubblehouse.checks.settings import check_bubblehouse_settings, check_django_q

GOOD: dict[str, Any] = dict(settings.BUBBLEHOUSE)
NOT_BASE64 = "not*base64*at*all"


def run_checks(bubblehouse: object = None, **django_settings: Any) -> list[CheckMessage]:
    with (
        override_settings(BUBBLEHOUSE=GOOD if bubblehouse is None else bubblehouse),
        override_settings(**django_settings),
    ):
        return [*check_bubblehouse_settings(None), *check_django_q(None)]


def ids(bubblehouse: object = None, **django_settings: Any) -> list[str]:
    return [message.id or "" for message in run_checks(bubblehouse, **django_settings)]


def with_(**changes: Any) -> dict[str, Any]:
    return {**GOOD, **changes}


def without(*names: str) -> dict[str, Any]:
    return {key: value for key, value in GOOD.items() if key not in names}


def test_good_settings_have_no_bubblehouse_errors():
    assert ids() == ["bubblehouse.W005"]  # the test settings run django-q2 in sync mode
    assert ids(DEBUG=True) == []


def test_e001_not_a_dict():
    assert "bubblehouse.E001" in ids(["SHOP", "x"])
    assert "bubblehouse.E001" not in ids()


def test_e002_unknown_key_suggests_the_close_one():
    messages = run_checks(with_(TIMEOUTS=(1, 2)))
    [typo] = [m for m in messages if m.id == "bubblehouse.E002"]
    assert "'TIMEOUTS'" in typo.msg
    assert typo.hint == "Did you mean 'TIMEOUT'?"
    unrelated = [m for m in run_checks(with_(ZZZ=1)) if m.id == "bubblehouse.E002"]
    assert unrelated[0].hint is not None
    assert "Known keys: SHOP" in unrelated[0].hint
    assert "bubblehouse.E002" not in ids()


def test_e003_wrong_type_never_quotes_the_value():
    assert ids(with_(TOKEN_TTL="300")).count("bubblehouse.E003") == 1
    assert "bubblehouse.E003" in ids(with_(BATCH_SIZE=True))  # a bool is not a count
    assert "bubblehouse.E003" in ids(with_(DEBUG_MODE=1))
    secret_bytes = b"c2VjcmV0LXZhbHVl"
    [message] = [
        m for m in run_checks(with_(SHARED_SECRET=secret_bytes)) if m.id == "bubblehouse.E003"
    ]
    assert "SHARED_SECRET" in message.msg
    assert "c2VjcmV0" not in f"{message.msg} {message.hint}"
    assert "bubblehouse.E003" not in ids(with_(Q_CLUSTER_NAME=None, BACKOFF_BASE=1))


def test_e004_timeout_must_be_a_positive_pair():
    assert "bubblehouse.E004" in ids(with_(TIMEOUT=(5, 30, 1)))
    assert "bubblehouse.E004" in ids(with_(TIMEOUT=(0, 30)))
    assert "bubblehouse.E004" in ids(with_(TIMEOUT=("5", 30)))
    assert "bubblehouse.E004" not in ids(with_(TIMEOUT=[2, 10.5]))


def test_e005_keys_must_be_kid_secret_pairs():
    assert "bubblehouse.E005" in ids(with_(KEYS=["c2VjcmV0"]))
    assert "bubblehouse.E005" in ids(with_(KEYS=[("", "c2VjcmV0")]))
    assert "bubblehouse.E005" not in ids(with_(KEYS=[("old", "c2VjcmV0")]))


def test_e006_order_status_map_targets_known_statuses():
    messages = run_checks(with_(ORDER_STATUS_MAP={"paid": "confirmed", "shipped": "shipped"}))
    [bad] = [m for m in messages if m.id == "bubblehouse.E006"]
    assert "'shipped'" in bad.msg
    assert "bubblehouse.E006" not in ids()


def test_e007_shop_is_required():
    assert "bubblehouse.E007" in ids(without("SHOP"))
    assert "bubblehouse.E007" in ids(with_(SHOP="  "))
    assert "bubblehouse.E007" not in ids()


def test_e008_credentials_are_required():
    assert "bubblehouse.E008" in ids(without("SHARED_SECRET", "KID"))
    assert "bubblehouse.E008" not in ids(
        without("SHARED_SECRET", "KID") | {"KEYS": [("k", "c2Vj")]}
    )
    assert "bubblehouse.E008" not in ids()


def test_e009_shared_secret_needs_a_kid():
    assert "bubblehouse.E009" in ids(without("KID"))
    assert "bubblehouse.E009" not in ids()


def test_e010_secret_not_base64_is_reported_without_the_secret():
    for config in (with_(SHARED_SECRET=NOT_BASE64), with_(KEYS=[("old", NOT_BASE64)])):
        [bad] = [m for m in run_checks(config) if m.id == "bubblehouse.E010"]
        assert NOT_BASE64 not in f"{bad.msg} {bad.hint}"
    [bad] = [m for m in run_checks(with_(KEYS=[("old", NOT_BASE64)])) if m.id == "bubblehouse.E010"]
    assert "'old'" in bad.msg
    assert "bubblehouse.E010" not in ids(with_(KEYS=[("old", "c2VjcmV0LW9sZA")]))


def test_e011_plain_http_outside_debug():
    assert "bubblehouse.E011" in ids(with_(API_HOST="http://app.bubblehouse.com"))
    assert "bubblehouse.E011" not in ids(with_(API_HOST="http://app.bubblehouse.com"), DEBUG=True)
    # The local emulator: the token never leaves the machine.
    assert "bubblehouse.E011" not in ids(with_(API_HOST="http://127.0.0.1:8765"))
    assert "bubblehouse.E011" not in ids(with_(API_HOST="https://app.bubblehouse.com"))


def test_e012_api_host_is_a_host_not_a_url():
    assert "bubblehouse.E012" in ids(with_(API_HOST="https://app.bubblehouse.com/api/v2023061"))
    assert "bubblehouse.E012" in ids(with_(API_HOST="ftp://app.bubblehouse.com"))
    assert "bubblehouse.E012" in ids(with_(API_HOST=""))
    assert "bubblehouse.E012" not in ids(with_(API_HOST="app.bubblehouse.com:8443/"))


def test_e013_django_q_must_be_installed():
    without_q = [app for app in settings.INSTALLED_APPS if app != "django_q"]
    assert "bubblehouse.E013" in ids(INSTALLED_APPS=without_q)
    assert "bubblehouse.E013" not in ids()


def test_e014_q_cluster_is_required():
    assert "bubblehouse.E014" in ids(Q_CLUSTER=None)
    assert "bubblehouse.E014" in ids(Q_CLUSTER="orm")
    assert "bubblehouse.E014" not in ids()


def test_e015_q_cluster_needs_a_broker():
    assert "bubblehouse.E015" in ids(Q_CLUSTER={"name": "shop", "workers": 2})
    assert "bubblehouse.E015" not in ids(Q_CLUSTER={"name": "shop", "orm": "default"})
    assert "bubblehouse.E015" not in ids(Q_CLUSTER={"name": "shop", "redis": "redis://r:6379/0"})


def test_e016_numbers_must_be_positive():
    assert "bubblehouse.E016" in ids(with_(BATCH_SIZE=0))
    assert "bubblehouse.E016" in ids(with_(BACKOFF_CAP=-1.0))
    assert "bubblehouse.E016" not in ids(with_(BATCH_SIZE=1))


def test_w001_debug_mode_outside_debug():
    assert "bubblehouse.W001" in ids(with_(DEBUG_MODE=True))
    assert "bubblehouse.W001" not in ids(with_(DEBUG_MODE=True), DEBUG=True)


def test_w002_duplicate_kid():
    keys = [("test-kid", "c2VjcmV0LW9sZA")]
    assert "bubblehouse.W002" in ids(with_(KEYS=keys))
    assert "bubblehouse.W002" not in ids(with_(KEYS=[("old-kid", "c2VjcmV0LW9sZA")]))


def test_w003_kid_without_shared_secret():
    assert "bubblehouse.W003" in ids(without("SHARED_SECRET") | {"KEYS": [("k", "c2Vj")]})
    assert "bubblehouse.W003" not in ids()


def test_w004_backoff_cap_below_base():
    assert "bubblehouse.W004" in ids(with_(BACKOFF_BASE=60, BACKOFF_CAP=10))
    assert "bubblehouse.W004" not in ids(with_(BACKOFF_BASE=1, BACKOFF_CAP=10))


def test_w005_sync_django_q_outside_debug():
    cluster = {"name": "shop", "orm": "default", "sync": True}
    assert "bubblehouse.W005" in ids(Q_CLUSTER=cluster)
    assert "bubblehouse.W005" not in ids(Q_CLUSTER=cluster, DEBUG=True)
    assert "bubblehouse.W005" not in ids(Q_CLUSTER={**cluster, "sync": False})


def test_checks_are_registered_under_the_bubblehouse_tag():
    from django.core.checks import registry

    assert check_bubblehouse_settings in registry.registry.get_checks()
    assert "bubblehouse" in registry.registry.tags_available()

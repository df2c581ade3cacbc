"""The ``BUBBLEHOUSE`` settings dict, read lazily through :func:`get_settings`.

Every key is declared once in :data:`SETTINGS_SPEC`; the system checks read the
same table, so a key cannot be documented, defaulted and checked in three
different places.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

SETTINGS_NAME = "BUBBLEHOUSE"

ORDER_STATUSES = ("unconfirmed", "confirmed", "completed", "canceled", "deleted")


@dataclass(frozen=True)
class SettingSpec:
    default: Any
    types: tuple[type, ...]
    help: str


def _float_pair(value: Any) -> bool:
    return (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(part, int | float) and not isinstance(part, bool) for part in value)
    )


SETTINGS_SPEC: dict[str, SettingSpec] = {
    "SHOP": SettingSpec("", (str,), "Shop slug, as in the API URL."),
    "KID": SettingSpec("", (str,), "Key id of SHARED_SECRET, from the Bubblehouse API console."),
    "SHARED_SECRET": SettingSpec("", (str,), "Shared secret as issued (base64)."),
    "KEYS": SettingSpec(
        (), (list, tuple), "List of (kid, secret) pairs for rotation; the first one signs."
    ),
    "API_HOST": SettingSpec(
        "app.bubblehouse.com",
        (str,),
        "Host name; may carry a scheme and port (http://127.0.0.1:8765 for the emulator).",
    ),
    "API_VERSION": SettingSpec("v2023061", (str,), "Global API version in the URL."),
    "TIMEOUT": SettingSpec((5.0, 30.0), (tuple, list), "(connect, read) timeout in seconds."),
    "TOKEN_TTL": SettingSpec(300, (int,), "Lifetime of a minted shop token in seconds."),
    "DEBUG_MODE": SettingSpec(False, (bool,), 'Send "debug": true (development only).'),
    "BATCH_SIZE": SettingSpec(100, (int,), "Objects per push request."),
    "SERIALIZERS": SettingSpec((), (list, tuple), "Dotted paths of the shop's serializers."),
    "ORDER_STATUS_MAP": SettingSpec(
        {}, (dict,), "Host order status -> one of the five OrderStatus2 values."
    ),
    "ALLOW_ORDER_DELETE": SettingSpec(
        False, (bool,), "Deleted orders push deleted: true instead of status canceled."
    ),
    "AUTO_SYNC": SettingSpec(True, (bool,), "Record changes from model signals."),
    "STRICT": SettingSpec(
        False, (bool,), "Raise errors from the app's receivers instead of logging them."
    ),
    "MAX_ATTEMPTS": SettingSpec(12, (int,), "Transient failures before a row is dead-lettered."),
    "MAX_AGE": SettingSpec(
        86400, (int,), "Seconds after the first failure before a row is dead-lettered."
    ),
    "BACKOFF_BASE": SettingSpec(2.0, (int, float), "First retry delay ceiling in seconds."),
    "BACKOFF_CAP": SettingSpec(900.0, (int, float), "Longest retry delay in seconds."),
    "PAUSE_COOLDOWN": SettingSpec(
        300, (int,), "Seconds a paused scope waits before a probe request."
    ),
    "SENDING_LEASE": SettingSpec(
        15,
        (int,),
        'Seconds a batch stays "sending" without a heartbeat from its drain (renewed every '
        "third of it) before another drain takes it back.",
    ),
    "RETENTION": SettingSpec(7 * 86400, (int,), "Seconds delivered rows are kept."),
    "PULL_PAGE_SIZE": SettingSpec(500, (int,), "Largest page a pull URL serves."),
    "Q_CLUSTER_NAME": SettingSpec(
        None, (str, type(None)), "django-q2 cluster name for the app's tasks (None: default)."
    ),
}


@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: str = field(repr=False)


@dataclass(frozen=True)
class BubblehouseSettings:
    shop: str
    keys: tuple[SigningKey, ...]
    api_host: str
    api_version: str
    timeout: tuple[float, float]
    token_ttl: int
    debug_mode: bool
    batch_size: int
    serializers: tuple[str, ...]
    order_status_map: dict[str, str]
    allow_order_delete: bool
    auto_sync: bool
    strict: bool
    max_attempts: int
    max_age: int
    backoff_base: float
    backoff_cap: float
    pause_cooldown: int
    sending_lease: int
    retention: int
    pull_page_size: int
    q_cluster_name: str | None

    @property
    def api_base_url(self) -> str:
        """``<scheme>://<host>/api/<version>/<shop>`` with HTTPS unless a scheme is given."""
        host = self.api_host.rstrip("/")
        if "://" not in host:
            host = f"https://{host}"
        return f"{host}/api/{self.api_version}/{self.shop}"

    @property
    def signing_key(self) -> SigningKey:
        if not self.keys:
            raise ImproperlyConfigured(
                f"{SETTINGS_NAME} has no credentials: set KID and SHARED_SECRET, or KEYS."
            )
        return self.keys[0]


def raw_settings() -> dict[str, Any]:
    value = getattr(django_settings, SETTINGS_NAME, {})
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{SETTINGS_NAME} must be a dict, not {type(value).__name__}.")
    return value


def _keys_from(raw: dict[str, Any]) -> tuple[SigningKey, ...]:
    keys = [SigningKey(str(kid), str(secret)) for kid, secret in raw.get("KEYS", ())]
    if raw.get("SHARED_SECRET"):
        keys.insert(0, SigningKey(str(raw.get("KID", "")), str(raw["SHARED_SECRET"])))
    return tuple(keys)


@functools.cache
def get_settings() -> BubblehouseSettings:
    """The effective settings; cached until Django reports a settings change."""
    raw = raw_settings()
    merged = {name: raw.get(name, spec.default) for name, spec in SETTINGS_SPEC.items()}
    timeout = merged["TIMEOUT"]
    if not _float_pair(timeout):
        raise ImproperlyConfigured(f"{SETTINGS_NAME}['TIMEOUT'] must be (connect, read) seconds.")
    return BubblehouseSettings(
        shop=merged["SHOP"],
        keys=_keys_from(raw),
        api_host=merged["API_HOST"],
        api_version=merged["API_VERSION"],
        timeout=(float(timeout[0]), float(timeout[1])),
        token_ttl=merged["TOKEN_TTL"],
        debug_mode=merged["DEBUG_MODE"],
        batch_size=merged["BATCH_SIZE"],
        serializers=tuple(merged["SERIALIZERS"]),
        order_status_map=dict(merged["ORDER_STATUS_MAP"]),
        allow_order_delete=merged["ALLOW_ORDER_DELETE"],
        auto_sync=merged["AUTO_SYNC"],
        strict=merged["STRICT"],
        max_attempts=merged["MAX_ATTEMPTS"],
        max_age=merged["MAX_AGE"],
        backoff_base=float(merged["BACKOFF_BASE"]),
        backoff_cap=float(merged["BACKOFF_CAP"]),
        pause_cooldown=merged["PAUSE_COOLDOWN"],
        sending_lease=merged["SENDING_LEASE"],
        retention=merged["RETENTION"],
        pull_page_size=merged["PULL_PAGE_SIZE"],
        q_cluster_name=merged["Q_CLUSTER_NAME"],
    )


@receiver(setting_changed)
def _clear_cache(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        get_settings.cache_clear()

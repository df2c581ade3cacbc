"""The ``BUBBLEHOUSE`` settings dict, read lazily through :func:`get_settings`.

Every key is declared once, as a field of :class:`BubblehouseSettings`: its
default, its type (which says what the system checks accept) and its help text
(the README's settings table and the checks' hints). :data:`SETTINGS_SPEC`, the
table the checks read, is derived from those fields.
"""

from __future__ import annotations

import dataclasses
import functools
import types
import typing
from collections.abc import Callable
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
    types: tuple[type, ...]  # what the raw value may be
    help: str


@dataclass(frozen=True)
class SigningKey:
    kid: str
    secret: str = field(repr=False)


def _float_pair(value: Any) -> bool:
    return (
        isinstance(value, tuple | list)
        and len(value) == 2
        and all(isinstance(part, int | float) and not isinstance(part, bool) for part in value)
    )


def _timeout(raw: dict[str, Any]) -> tuple[float, float]:
    timeout = raw.get("TIMEOUT", (5.0, 30.0))
    if not _float_pair(timeout):
        raise ImproperlyConfigured(f"{SETTINGS_NAME}['TIMEOUT'] must be (connect, read) seconds.")
    return float(timeout[0]), float(timeout[1])


def _pairs(pairs: Any) -> tuple[SigningKey, ...]:
    return tuple(SigningKey(str(kid), str(secret)) for kid, secret in pairs)


def _keys(raw: dict[str, Any]) -> tuple[SigningKey, ...]:
    keys = list(_pairs(raw.get("KEYS", ())))
    if raw.get("SHARED_SECRET"):
        keys.insert(0, SigningKey(str(raw.get("KID", "")), str(raw["SHARED_SECRET"])))
    return tuple(keys)


def _inbound_keys(raw: dict[str, Any]) -> tuple[SigningKey, ...]:
    return _pairs(raw.get("INBOUND_KEYS", ())) or _keys(raw)


def _inbound_subject(raw: dict[str, Any]) -> str:
    return str(raw.get("INBOUND_SUBJECT") or raw.get("SHOP", ""))


def setting(
    default: Any, help: str, *, read: Callable[[dict[str, Any]], Any] | None = None, **options: Any
) -> Any:
    """Declare one key: its default, help text and, when the raw value is not used as it is,
    how to ``read`` it from the whole dict."""
    metadata = {"help": help, "read": read}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=metadata, **options)
    return field(default=default, metadata=metadata, **options)


@dataclass(frozen=True)
class BubblehouseSettings:
    shop: str = setting("", "Shop slug, as in the API URL. Required.")
    kid: str = setting("", "Key id of `SHARED_SECRET`, from the Bubblehouse API console.")
    shared_secret: str = setting(
        "",
        "Shared secret as issued (base64, standard or URL-safe, padding optional). Signs the "
        "shop tokens.",
        repr=False,
    )
    # KID/SHARED_SECRET first, then KEYS: every key verifies, the first one signs.
    keys: tuple[SigningKey, ...] = setting(
        (),
        "`(kid, secret)` pairs for key rotation. `KID`/`SHARED_SECRET` (when set) come first; "
        "the first key signs, all of them verify.",
        read=_keys,
    )
    api_host: str = setting(
        "app.bubblehouse.com",
        "Host name; HTTPS unless a scheme is given (`http://127.0.0.1:8765` for the local "
        "emulator). May carry a port, never a path.",
    )
    api_version: str = setting("v2023061", "Global API version in the URL.")
    timeout: tuple[float, float] = setting(
        (5.0, 30.0),
        "`(connect, read)` timeout in seconds, applied to every request.",
        read=_timeout,
    )
    token_ttl: int = setting(
        300, "Lifetime of a shop token in seconds; a fresh one is minted for every request."
    )
    debug_mode: bool = setting(
        False,
        'Send `"debug": true` (synchronous processing, warnings become errors). Development only.',
    )
    batch_size: int = setting(100, "Objects per push request.")
    serializers: tuple[str, ...] = setting((), "Dotted paths of your serializer classes.")
    order_status_map: dict[str, str] = setting(
        {},
        "Your order status → `unconfirmed`, `confirmed`, `completed`, `canceled` or "
        "`deleted`. An unmapped status is an error, never a silent default.",
    )
    allow_order_delete: bool = setting(
        False,
        "A deleted order pushes `deleted: true` (needs a key with deletion enabled) instead "
        "of status `canceled`.",
    )
    auto_sync: bool = setting(True, "Record changes from model signals.")
    strict: bool = setting(False, "Raise errors from the app's receivers instead of logging them.")
    max_attempts: int = setting(12, "Transient failures before a row is dead-lettered.")
    max_age: int = setting(86400, "Seconds after the first failure before a row is dead-lettered.")
    backoff_base: float = setting(
        2.0, "Ceiling of the first retry delay in seconds; later retries wait longer, with jitter."
    )
    backoff_cap: float = setting(900.0, "Longest retry delay in seconds.")
    pause_cooldown: int = setting(
        300,
        "Seconds a paused scope (bad credentials, API version, unknown entity set) waits "
        "before a probe request.",
    )
    drain_parallelism: int = setting(
        2,
        "Drains that may run at once, each on a worker: a drain with more than one batch due "
        "wakes another, up to this many. Leave the cluster's other workers to your own tasks.",
    )
    sending_lease: int = setting(
        15,
        'Seconds a batch stays "sending" without a heartbeat from its drain (renewed every '
        "third of it) before another drain takes it back.",
    )
    retention: int = setting(
        7 * 86400, "Seconds delivered rows (and hook request ids) are kept (7 days)."
    )
    failed_retention: int = setting(
        30 * 86400,
        "Seconds `failed` and `dead` rows (with their error and any captured delete payload) "
        "are kept (30 days) before the daily prune deletes them.",
    )
    health_max_lag: int = setting(
        600,
        "Seconds the oldest pending change may wait before `bubblehouse_status` and the health "
        "view report the sync unhealthy.",
    )
    health_failed_rows: int = setting(1, "Failed and dead rows from which the sync is unhealthy.")
    health_max_idle: int = setting(
        300, 'Seconds without a drain, while rows wait, before "no worker" is reported.'
    )
    health_token: str = setting(
        "",
        "Bearer token the health view accepts besides a staff session (empty: staff only). "
        "Keep it out of version control.",
        repr=False,
    )
    pull_page_size: int = setting(500, "Largest page a pull URL serves.")
    q_cluster_name: str | None = setting(
        None, "django-q2 cluster for the app's tasks (`None`: the default cluster)."
    )

    inbound_keys: tuple[SigningKey, ...] = setting(
        (),
        "`(kid, secret)` pairs that inbound calls (hooks, pull URLs) may be signed with; empty: "
        "the shop's own `SHARED_SECRET`/`KEYS`. See [Hooks](#hooks-bubblehouse-calls-the-shop).",
        read=_inbound_keys,
    )
    inbound_audience: str = setting("BH", "The `aud` claim an inbound token must carry.")
    inbound_subject: str = setting(
        "",
        "The `sub` claim an inbound token must carry; empty: the `SHOP` slug.",
        read=_inbound_subject,
    )
    inbound_max_token_lifetime: int = setting(
        3600,
        "Longest accepted inbound token lifetime in seconds (`exp - iat`, or `exp - now` "
        "without `iat`).",
    )
    inbound_accept_push_tokens: bool = setting(
        False,
        "Also accept this app's own push tokens on the hooks and pull URLs. Leave off: a leaked "
        "push token must not read the shop's data.",
    )
    hook_handlers: dict[str, str] = setting(
        {},
        '`{"CreateDiscount4": "dotted.path", "SendEvent1": "dotted.path"}`: enables those hooks.',
    )
    customer_token_ttl: int = setting(600, "Lifetime of a storefront customer token in seconds.")
    storefront_page: str = setting("Rewards7", "Blocks page the rewards iframe shows.")
    storefront_customer: str = setting(
        "",
        "Dotted path of `f(request) -> customer or None`, called for logged-in users only; "
        "empty: `request.user`.",
    )

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


def _accepted(hint: Any) -> tuple[type, ...]:
    """The raw types a field's annotation accepts: any sequence for a tuple, ints for floats."""
    if isinstance(hint, types.UnionType):
        return tuple(t for arg in typing.get_args(hint) for t in _accepted(arg))
    origin = typing.get_origin(hint) or hint
    if origin is tuple:
        return (list, tuple)
    if origin is float:
        return (int, float)
    return (origin,)


_HINTS = typing.get_type_hints(BubblehouseSettings)
_FIELDS = {spec.name.upper(): spec for spec in dataclasses.fields(BubblehouseSettings)}

SETTINGS_SPEC: dict[str, SettingSpec] = {
    name: SettingSpec(
        spec.default_factory() if spec.default_factory is not dataclasses.MISSING else spec.default,
        _accepted(_HINTS[spec.name]),
        spec.metadata["help"],
    )
    for name, spec in _FIELDS.items()
}


def raw_settings() -> dict[str, Any]:
    value = getattr(django_settings, SETTINGS_NAME, {})
    if not isinstance(value, dict):
        raise ImproperlyConfigured(f"{SETTINGS_NAME} must be a dict, not {type(value).__name__}.")
    return value


def _value(name: str, raw: dict[str, Any]) -> Any:
    read = _FIELDS[name].metadata["read"]
    if read is not None:
        return read(raw)
    value = raw.get(name, SETTINGS_SPEC[name].default)
    hint = _HINTS[_FIELDS[name].name]
    if typing.get_origin(hint) is tuple:
        return tuple(value)
    if typing.get_origin(hint) is dict:  # a copy: the cached settings never alias the host's dict
        return dict(value)
    if hint is float:
        return float(value)
    return value


@functools.cache
def get_settings() -> BubblehouseSettings:
    """The effective settings; cached until Django reports a settings change."""
    raw = raw_settings()
    return BubblehouseSettings(**{spec.name: _value(name, raw) for name, spec in _FIELDS.items()})


@receiver(setting_changed)
def _clear_cache(*, setting: str, **kwargs: Any) -> None:
    if setting == SETTINGS_NAME:
        get_settings.cache_clear()

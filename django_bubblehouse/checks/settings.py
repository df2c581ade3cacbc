"""Checks of the ``BUBBLEHOUSE`` and ``Q_CLUSTER`` settings (E001-E019, W001-W019).

Everything is derived from :data:`conf.SETTINGS_SPEC`, so a new key is known,
typed and defaulted here as soon as it is declared there. Messages never quote
a secret, only key names and ids.
"""

from __future__ import annotations

import difflib
import ipaddress
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from django.apps import apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.core.exceptions import ImproperlyConfigured

from .. import conf
from ..auth import InvalidSecret, decode_secret

TAG = "bubblehouse"
NAME = conf.SETTINGS_NAME

# Every key django-q2 reads to pick a broker; without one it silently uses Redis on localhost.
Q_BROKER_KEYS = ("orm", "redis", "django_redis", "sqs", "iron_mq", "mongo", "broker_class")


@register(TAG)
def check_bubblehouse_settings(
    app_configs: Sequence[Any] | None, **kwargs: Any
) -> list[CheckMessage]:
    try:
        raw = conf.raw_settings()
    except ImproperlyConfigured:
        return [
            Error(
                f"{NAME} must be a dict.",
                hint=f'Set {NAME} = {{"SHOP": ..., "KID": ..., "SHARED_SECRET": ...}}.',
                id="bubblehouse.E001",
            )
        ]
    typed = {k: v for k, v in raw.items() if k in conf.SETTINGS_SPEC and _has_type(k, v)}
    # Later checks only see well-typed values; a wrong type is reported once, by E003.
    value = {name: typed.get(name, spec.default) for name, spec in conf.SETTINGS_SPEC.items()}
    return [
        *_unknown_keys(raw),
        *_wrong_types(raw),
        *_shapes(value),
        *_credentials(value),
        *_api_host(value["API_HOST"]),
        *_modes(value),
    ]


@register(TAG)
def check_django_q(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if not apps.is_installed("django_q"):
        messages.append(
            Error(
                '"django_q" is not in INSTALLED_APPS.',
                hint='Pushes run as django-q2 tasks: add "django_q" to INSTALLED_APPS.',
                id="bubblehouse.E013",
            )
        )
    cluster = getattr(settings, "Q_CLUSTER", None)
    if not isinstance(cluster, Mapping):
        messages.append(
            Error(
                "Q_CLUSTER is missing or not a dict.",
                hint='Configure django-q2, e.g. Q_CLUSTER = {"name": "shop", "orm": "default"}.',
                id="bubblehouse.E014",
            )
        )
        return messages
    if not any(cluster.get(key) for key in Q_BROKER_KEYS):
        messages.append(
            Error(
                "Q_CLUSTER names no broker, so django-q2 would use Redis on localhost.",
                hint='Add "orm": "default" for the database broker (or "redis", "sqs", ...).',
                id="bubblehouse.E015",
            )
        )
    if cluster.get("sync") and not settings.DEBUG:
        messages.append(
            Warning(
                'Q_CLUSTER "sync" is on while DEBUG is off: pushes would run inside web requests.',
                hint='Remove "sync" outside development and tests.',
                id="bubblehouse.W005",
            )
        )
    return messages


def _has_type(name: str, value: object) -> bool:
    types = conf.SETTINGS_SPEC[name].types
    # bool is an int subclass, but True is never a meaningful count or duration.
    return isinstance(value, types) and (bool in types or not isinstance(value, bool))


def _unknown_keys(raw: Mapping[Any, Any]) -> Iterator[CheckMessage]:
    for key in raw:
        if key in conf.SETTINGS_SPEC:
            continue
        close = difflib.get_close_matches(str(key), list(conf.SETTINGS_SPEC), n=1)
        hint = (
            f"Did you mean {close[0]!r}?"
            if close
            else f"Known keys: {', '.join(conf.SETTINGS_SPEC)}."
        )
        yield Error(f"{NAME} has an unknown key {key!r}.", hint=hint, id="bubblehouse.E002")


def _wrong_types(raw: Mapping[Any, Any]) -> Iterator[CheckMessage]:
    for key, value in raw.items():
        if key in conf.SETTINGS_SPEC and not _has_type(key, value):
            expected = " or ".join(t.__name__ for t in conf.SETTINGS_SPEC[key].types)
            # The value itself is not quoted: it may be a secret.
            yield Error(
                f"{NAME}[{key!r}] must be {expected}, not {type(value).__name__}.",
                hint=conf.SETTINGS_SPEC[key].help,
                id="bubblehouse.E003",
            )


def _shapes(value: Mapping[str, Any]) -> Iterator[CheckMessage]:
    timeout = value["TIMEOUT"]
    if not (conf._float_pair(timeout) and min(timeout) > 0):
        yield Error(
            f"{NAME}['TIMEOUT'] must be a (connect, read) pair of positive seconds.",
            hint='For example "TIMEOUT": (5, 30).',
            id="bubblehouse.E004",
        )
    for index, pair in enumerate(value["KEYS"]):
        if not _is_key_pair(pair):
            yield Error(
                f"{NAME}['KEYS'][{index}] must be a (kid, secret) pair of non-empty strings.",
                hint='For example "KEYS": [("kid-2026", "c2VjcmV0..."), ("kid-2025", "...")].',
                id="bubblehouse.E005",
            )
    for status, target in value["ORDER_STATUS_MAP"].items():
        if target not in conf.ORDER_STATUSES:
            yield Error(
                f"{NAME}['ORDER_STATUS_MAP'][{status!r}] is {target!r}, not a Bubblehouse status.",
                hint=f"Map every shop status to one of: {', '.join(conf.ORDER_STATUSES)}.",
                id="bubblehouse.E006",
            )
    for name, spec in conf.SETTINGS_SPEC.items():
        is_number = set(spec.types) <= {int, float}
        if is_number and value[name] <= 0:
            yield Error(
                f"{NAME}[{name!r}] must be greater than zero.",
                hint=spec.help,
                id="bubblehouse.E016",
            )
    if value["BACKOFF_CAP"] < value["BACKOFF_BASE"]:
        yield Warning(
            f"{NAME}['BACKOFF_CAP'] is smaller than BACKOFF_BASE.",
            hint="The cap wins, so every retry waits at most BACKOFF_CAP; raise it.",
            id="bubblehouse.W004",
        )


def _is_key_pair(pair: object) -> bool:
    return (
        isinstance(pair, tuple | list)
        and len(pair) == 2
        and all(isinstance(part, str) and part for part in pair)
    )


def _credentials(value: Mapping[str, Any]) -> Iterator[CheckMessage]:
    if not value["SHOP"].strip():
        yield Error(
            f"{NAME}['SHOP'] is not set.",
            hint="Set it to the shop slug that appears in your Bubblehouse API URLs.",
            id="bubblehouse.E007",
        )
    secret, kid = value["SHARED_SECRET"], value["KID"]
    pairs = [(f"KEYS[{i}]", *pair) for i, pair in enumerate(value["KEYS"]) if _is_key_pair(pair)]
    if not secret and not value["KEYS"]:
        yield Error(
            f"{NAME} has no credentials.",
            hint="Set KID and SHARED_SECRET (or KEYS) from the Bubblehouse API console.",
            id="bubblehouse.E008",
        )
    if secret:
        pairs.insert(0, ("SHARED_SECRET", kid, secret))
        if not kid:
            yield Error(
                f"{NAME}['SHARED_SECRET'] is set without KID.",
                hint="Tokens name their key: copy the key id next to the secret in the console.",
                id="bubblehouse.E009",
            )
    elif kid:
        yield Warning(
            f"{NAME}['KID'] is set without SHARED_SECRET and is ignored.",
            hint="Set SHARED_SECRET too, or remove KID when you use KEYS.",
            id="bubblehouse.W003",
        )
    seen: set[str] = set()
    for where, pair_kid, pair_secret in pairs:
        try:
            decode_secret(pair_secret)
        except InvalidSecret:
            yield Error(
                f"{NAME} {where} (kid {pair_kid!r}): the secret is not valid base64.",
                hint="Paste the secret exactly as the API console shows it.",
                id="bubblehouse.E010",
            )
        if pair_kid in seen:
            yield Warning(
                f"{NAME} {where}: kid {pair_kid!r} is used by more than one key.",
                hint="Each secret has its own key id; tokens signed by the later one fail.",
                id="bubblehouse.W002",
            )
        seen.add(pair_kid)


def _api_host(host: str) -> Iterator[CheckMessage]:
    parts = urlsplit(host if "://" in host else f"//{host}")
    if (
        not parts.hostname
        or parts.scheme not in ("", "http", "https")
        or parts.path.strip("/")
        or parts.query
        or parts.fragment
    ):
        yield Error(
            f"{NAME}['API_HOST'] {host!r} is not a host name.",
            hint='A host, optionally with scheme and port: "app.bubblehouse.com".',
            id="bubblehouse.E012",
        )
    elif parts.scheme == "http" and not settings.DEBUG and not _is_loopback(parts.hostname):
        yield Error(
            f"{NAME}['API_HOST'] {host!r} uses plain HTTP: shop tokens would travel in clear.",
            hint="Drop the http:// scheme (HTTPS is the default); plain HTTP is only for a "
            "local emulator or DEBUG.",
            id="bubblehouse.E011",
        )


def _is_loopback(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _modes(value: Mapping[str, Any]) -> Iterator[CheckMessage]:
    if value["DEBUG_MODE"] and not settings.DEBUG:
        yield Warning(
            f"{NAME}['DEBUG_MODE'] is on while DEBUG is off.",
            hint='"debug": true makes Bubblehouse process synchronously and turns warnings '
            "into errors: development only.",
            id="bubblehouse.W001",
        )

"""Checks of the hook and storefront settings (E050-E059)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from .. import conf
from ..auth import InvalidSecret, decode_secret
from ..hooks.handlers import OPTIONAL_HOOKS
from .settings import TAG

NAME = conf.SETTINGS_NAME


@register(TAG)
def check_inbound_settings(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    try:
        raw = conf.raw_settings()
    except ImproperlyConfigured:
        return []  # reported by the settings checks
    keys = list(_inbound_keys(raw.get("INBOUND_KEYS", ())))
    try:
        settings = conf.get_settings()
    except (ImproperlyConfigured, TypeError, ValueError):
        return keys  # the rest is reported by the settings checks
    return [
        *keys,
        *_hook_handlers(settings.hook_handlers),
        *_callable(settings.storefront_customer, "STOREFRONT_CUSTOMER", "bubblehouse.E052"),
    ]


def _hook_handlers(handlers: dict[str, Any]) -> Iterator[CheckMessage]:
    for name, path in handlers.items():
        if name not in OPTIONAL_HOOKS:
            yield Error(
                f"{NAME}['HOOK_HANDLERS'] names the unknown hook {name!r}.",
                hint=f"Handlers exist for {', '.join(OPTIONAL_HOOKS)}; Hello1 is built in.",
                id="bubblehouse.E050",
            )
        else:
            yield from _callable(path, f"HOOK_HANDLERS'][{name!r}", "bubblehouse.E051")


def _callable(path: object, key: str, check_id: str) -> Iterator[CheckMessage]:
    if not path:
        return
    try:
        found = import_string(str(path))
    except ImportError as error:
        problem = str(error)
    else:
        if callable(found):
            return
        problem = f"{path} is not callable"
    yield Error(
        f"{NAME}['{key}'] cannot be used: {problem}.",
        hint="Give the dotted path of a function, e.g. 'shop.hooks.create_discount'.",
        id=check_id,
    )


def _inbound_keys(pairs: Any) -> Iterator[CheckMessage]:
    if not isinstance(pairs, list | tuple):
        return  # a wrong type is reported once, by E003
    for index, pair in enumerate(pairs):
        valid = isinstance(pair, tuple | list) and len(pair) == 2 and all(pair)
        try:
            valid = valid and bool(decode_secret(str(pair[1])))
        except InvalidSecret:
            valid = False
        if not valid:
            # Never quote the pair: it holds a secret.
            yield Error(
                f"{NAME}['INBOUND_KEYS'][{index}] must be a (kid, base64 secret) pair.",
                hint='For example "INBOUND_KEYS": [("bh-hooks", "c2VjcmV0...")].',
                id="bubblehouse.E053",
            )

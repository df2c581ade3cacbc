"""Checks of the delivery settings (E030-E039)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.checks import CheckMessage, Error, register
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, router

from .. import conf
from .settings import TAG


@register(TAG)
def check_sending_lease(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    try:
        settings = conf.get_settings()
    except ImproperlyConfigured:
        return []  # reported by the settings checks
    longest_request = sum(settings.timeout)
    if settings.sending_lease <= longest_request:
        # The sweep would release a row whose push is still in flight and push it twice,
        # possibly overtaking a newer state.
        return [
            Error(
                f"{conf.SETTINGS_NAME}['SENDING_LEASE'] ({settings.sending_lease}s) must be "
                f"longer than a whole request (TIMEOUT: {longest_request:g}s).",
                hint="Keep the default (300) or raise it above connect + read timeout.",
                id="bubblehouse.E030",
            )
        ]
    return []


@register(TAG)
def check_outbox_database(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    from ..models import OutboxEntry

    connection = connections[router.db_for_write(OutboxEntry)]
    if connection.features.supports_update_conflicts:
        return []
    # Every captured save writes its outbox row with one upsert statement.
    return [
        Error(
            f"The outbox's database ({connection.alias}) is {connection.display_name}, which "
            "has no INSERT ... ON CONFLICT / ON DUPLICATE KEY UPDATE.",
            hint="Route django_bubblehouse's models to SQLite, PostgreSQL, MySQL or MariaDB.",
            id="bubblehouse.E031",
        )
    ]

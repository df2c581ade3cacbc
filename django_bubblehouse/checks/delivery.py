"""Checks of the delivery settings and the outbox's rows (E030-E039, W030-W039)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.core.checks import CheckMessage, Error, Tags, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router

from .. import conf
from .settings import TAG

# Heartbeats every third of the lease, each one UPDATE: shorter leases would mostly beat.
MIN_SENDING_LEASE = 6


@register(TAG)
def check_sending_lease(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    try:
        settings = conf.get_settings()
    except ImproperlyConfigured:
        return []  # reported by the settings checks
    if settings.sending_lease < MIN_SENDING_LEASE:
        # A lease that expires between two heartbeats of a live drain would push its batch twice.
        return [
            Error(
                f"{conf.SETTINGS_NAME}['SENDING_LEASE'] ({settings.sending_lease}s) must be at "
                f"least {MIN_SENDING_LEASE}s: a live drain renews it every third of it.",
                hint="Keep the default (15).",
                id="bubblehouse.E030",
            )
        ]
    return []


@register(TAG)
def check_task_timeout(app_configs: Sequence[Any] | None, **kwargs: Any) -> list[CheckMessage]:
    """Q_CLUSTER ``timeout`` must hold one whole push, ``retry`` must outlast ``timeout``."""
    from django.conf import settings as django_settings

    from ..outbox.drain import SERIALIZATION_ALLOWANCE

    cluster = getattr(django_settings, "Q_CLUSTER", None)
    if not isinstance(cluster, Mapping):
        return []  # reported by bubblehouse.E014
    try:
        request = sum(conf.get_settings().timeout)
    except ImproperlyConfigured:
        return []
    name = conf.get_settings().q_cluster_name
    alternative = cluster.get("ALT_CLUSTERS", {}).get(name, {}) if name else {}
    merged = {**cluster, **(alternative if isinstance(alternative, Mapping) else {})}
    timeout, retry = merged.get("timeout"), merged.get("retry", 60)
    messages: list[CheckMessage] = []
    needed = request + SERIALIZATION_ALLOWANCE
    if isinstance(timeout, int | float) and timeout <= needed:
        messages.append(
            Error(
                f'Q_CLUSTER "timeout" ({timeout:g}s) cannot hold one push: a request may take '
                f"{request:g}s ({conf.SETTINGS_NAME}['TIMEOUT']) plus up to "
                f"{SERIALIZATION_ALLOWANCE:g}s to serialize its batch.",
                hint=f'Raise "timeout" above {needed:g} (e.g. {needed + 30:g}), or lower '
                f"{conf.SETTINGS_NAME}['TIMEOUT'].",
                id="bubblehouse.E032",
            )
        )
    if isinstance(timeout, int | float) and isinstance(retry, int | float) and retry <= timeout:
        messages.append(
            Error(
                f'Q_CLUSTER "retry" ({retry:g}s) must be longer than "timeout" ({timeout:g}s).',
                hint="Otherwise the broker hands a drain that is still running to a second "
                'worker. Set "retry" to timeout + 30 or more.',
                id="bubblehouse.E033",
            )
        )
    return messages


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


@register(TAG, Tags.database)
def check_orphaned_rows(
    app_configs: Sequence[Any] | None, databases: Sequence[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    """Rows of serializers that are no longer registered (database check: ``--database``)."""
    from ..outbox.orphans import orphaned_serializers

    if not databases:
        return []
    try:
        orphans = orphaned_serializers()
    except (ImproperlyConfigured, DatabaseError):
        return []  # a broken SERIALIZERS entry is reported by its own check; no table yet
    return [
        Warning(
            f"{rows} outbox row(s) wait for serializer {label!r}, which is not registered in "
            f"{conf.SETTINGS_NAME}['SERIALIZERS'] any more; no drain will send them.",
            hint="In manage.py shell, once every process runs the new code. Renamed: "
            f'django_bubblehouse.outbox.orphans.rekey("{label}", "<new dotted path>"). '
            f'Removed for good: django_bubblehouse.outbox.orphans.discard("{label}").',
            id="bubblehouse.W030",
        )
        for label, rows in orphans.items()
    ]

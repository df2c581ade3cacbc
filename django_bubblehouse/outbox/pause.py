"""The circuit breaker: a configuration error pauses its scope instead of failing every row.

A paused scope sends nothing until ``probe_at``; then exactly one drain takes
the probe (an atomic UPDATE moves ``probe_at`` on) and sends one batch. A
probe that gets through (success, or a data rejection, which proves the
credentials and version are fine) resumes the scope; a new configuration error
keeps it paused for another PAUSE_COOLDOWN.
"""

from __future__ import annotations

import enum
from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from ..conf import get_settings
from ..exceptions import ConfigurationAPIError
from ..models import Pause
from ..serializers import Serializer
from .wakeup import request_drain


class Gate(enum.Enum):
    OPEN = "open"
    PROBE = "probe"  # paused, and this drain may send one batch to test the waters
    CLOSED = "closed"


def scopes_for(serializer_cls: type[Serializer]) -> list[str]:
    scopes = [Pause.ALL]
    if serializer_cls.entity_set:
        scopes.append(f"entity_set:{serializer_cls.entity_set}")
    return scopes


def gate_for(serializer_cls: type[Serializer]) -> Gate:
    scopes = scopes_for(serializer_cls)
    pauses = list(Pause.objects.filter(scope__in=scopes).values_list("pk", "probe_at"))
    if not pauses:
        return Gate.OPEN
    now = timezone.now()
    if any(probe_at > now for _, probe_at in pauses):
        return Gate.CLOSED
    taken = Pause.objects.filter(pk__in=[pk for pk, _ in pauses], probe_at__lte=now).update(
        probe_at=now + timedelta(seconds=get_settings().pause_cooldown)
    )
    return Gate.PROBE if taken == len(pauses) else Gate.CLOSED


def pause(error: ConfigurationAPIError) -> Pause:
    """Open (or keep open) the circuit for ``error.scope``; the next probe is a cooldown away."""
    now = timezone.now()
    details = {
        "reason": str(error),
        "status": error.status,
        "error_id": error.error_id or "",
        "probe_at": now + timedelta(seconds=get_settings().pause_cooldown),
    }
    # ``since`` is when the scope first paused; a failed probe must not move it.
    found, _ = Pause.objects.update_or_create(
        scope=error.scope, defaults=details, create_defaults={**details, "since": now}
    )
    return found


def resume(*scopes: str, wake: bool = True) -> int:
    """Close the circuit for ``scopes`` (all scopes when none is given) and wake a drain.

    A drain resuming after a successful probe passes ``wake=False``: it keeps draining itself.
    """
    paused = Pause.objects.all()
    if scopes:
        paused = paused.filter(scope__in=scopes)
    resumed, _ = paused.delete()
    if resumed and wake:
        transaction.on_commit(request_drain, robust=True)
    return resumed

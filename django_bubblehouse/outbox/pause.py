"""The circuit breaker: a configuration error pauses its scope instead of failing every row.

A paused scope sends nothing until ``probe_at``; then the first drain that has
a batch to send takes the probe (moving ``probe_at`` on) and sends that batch. A
probe that gets through (success, or a data rejection, which proves the
credentials and version are fine) resumes the scope; a new configuration error
keeps it paused for another PAUSE_COOLDOWN.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from ..conf import get_settings
from ..exceptions import ConfigurationAPIError
from ..models import Pause
from ..serializers import Serializer
from .wakeup import request_drain


class Gate(enum.Enum):
    OPEN = "open"
    PROBE = "probe"  # paused, but the cooldown is over: a batch that exists may probe
    CLOSED = "closed"


def scopes_for(serializer_cls: type[Serializer]) -> list[str]:
    scopes = [Pause.ALL]
    if serializer_cls.entity_set:
        scopes.append(f"entity_set:{serializer_cls.entity_set}")
    return scopes


def paused_scopes() -> dict[str, datetime]:
    """Every :class:`Pause` row's scope and ``probe_at``, the shop-wide hold's included: a
    drain's round reads them once for its hold check and its gates."""
    return dict(Pause.objects.values_list("scope", "probe_at"))


def gate_for(serializer_cls: type[Serializer], paused: Mapping[str, datetime]) -> Gate:
    """Whether ``serializer_cls`` may send, given :func:`paused_scopes`; takes no probe."""
    probe_times = [paused[scope] for scope in scopes_for(serializer_cls) if scope in paused]
    if not probe_times:
        return Gate.OPEN
    return Gate.CLOSED if max(probe_times) > timezone.now() else Gate.PROBE


def take_probe(serializer_cls: type[Serializer]) -> bool:
    """Claim the probe of every pause over ``serializer_cls`` (moving ``probe_at`` on).

    Called once a batch has been claimed, so the probe is spent on a request
    that is really made; False when another drain took it first.
    """
    now = timezone.now()
    pauses = Pause.objects.filter(scope__in=scopes_for(serializer_cls))
    paused = pauses.count()
    # The conditional UPDATE is the claim: of two drains, only one moves probe_at on.
    taken = pauses.filter(probe_at__lte=now).update(
        probe_at=now + timedelta(seconds=get_settings().pause_cooldown)
    )
    return bool(paused) and taken == paused


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

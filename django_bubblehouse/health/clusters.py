"""django-q2's cluster heartbeats, where the broker shares them between processes.

A running cluster saves its status in the broker (Redis) or, for the other
brokers, in Django's cache every few seconds, with a short expiry. A
process-local cache (the default ``LocMemCache``) cannot show another
process's cluster, so the answer is then "unknown" (``None``), not "none".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.locmem import LocMemCache

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClusterInfo:
    cluster_id: str
    host: str
    status: str
    workers: int
    seen_at: datetime

    def as_json(self) -> dict[str, Any]:
        return {**vars(self), "seen_at": self.seen_at.isoformat()}


def live_clusters() -> list[ClusterInfo] | None:
    """The clusters whose heartbeat is current; ``None`` when the broker cannot tell."""
    from django_q.brokers import Broker, get_broker
    from django_q.status import Stat

    try:
        broker = get_broker()
        own_store = type(broker).get_stats is not Broker.get_stats
        cache = getattr(broker, "cache", None)
        if not own_store and (cache is None or isinstance(cache, LocMemCache | DummyCache)):
            return None
        stats = Stat.get_all(broker)
    except Exception:
        logger.warning("Could not read django-q2's cluster status", exc_info=True)
        return None
    return [
        ClusterInfo(
            cluster_id=str(stat.cluster_id),
            host=str(stat.host),
            status=str(stat.status),
            workers=len(stat.workers),
            seen_at=stat.timestamp,
        )
        for stat in stats
    ]

"""Deterministic fault injection: the same seed and rates give the same faults in order.

Faults only hit API calls (never the ``/_emulator`` endpoints). ``queue`` lists
faults to inject first, one per call, before the random rates apply, for tests
that need "the next call fails with 503" without any probability.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

# Fault names: an HTTP status as a string, or a transport failure.
STATUS_FAULTS = ("500", "503", "429")
TRANSPORT_FAULTS = ("timeout", "reset")
FAULTS = STATUS_FAULTS + TRANSPORT_FAULTS


@dataclass(frozen=True)
class Fault:
    kind: str  # one of FAULTS, or "" for no fault
    delay: float = 0.0  # added latency in seconds, before anything else happens

    @property
    def status(self) -> int | None:
        return int(self.kind) if self.kind in STATUS_FAULTS else None


@dataclass
class FaultConfig:
    seed: int = 0
    rates: dict[str, float] = field(default_factory=dict)  # fault name -> probability
    latency: tuple[float, float] = (0.0, 0.0)  # uniform added latency range, seconds
    # Retry-After seconds on an injected 429; None (the default): no header, since the
    # pages do not say whether Bubblehouse sends one.
    retry_after: int | None = None
    rate_limit: int | None = None  # requests per second per shop; beyond it: 429 (rate_limit)
    timeout_delay: float = 35.0  # how long a "timeout" stalls; beyond the client's read timeout
    queue: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        unknown = (set(self.rates) | set(self.queue)) - set(FAULTS)
        if unknown:
            raise ValueError(f"unknown fault(s) {sorted(unknown)}; known: {', '.join(FAULTS)}")
        if sum(self.rates.values()) > 1 or any(r < 0 for r in self.rates.values()):
            raise ValueError("fault rates must be >= 0 and add up to at most 1")
        if not 0 <= self.latency[0] <= self.latency[1]:
            raise ValueError("latency must be a (low, high) range with 0 <= low <= high")
        if self.rate_limit is not None and self.rate_limit < 1:
            raise ValueError("rate_limit must be at least 1 request per second (or None)")

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> FaultConfig:
        fields = dict(data)
        if "latency" in fields:
            low, high = fields["latency"]
            fields["latency"] = (float(low), float(high))
        return cls(**fields)

    def to_json(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "rates": self.rates,
            "latency": list(self.latency),
            "retry_after": self.retry_after,
            "rate_limit": self.rate_limit,
            "timeout_delay": self.timeout_delay,
            "queue": self.queue,
        }


class FaultInjector:
    """Draws the fault of each API call from ``random.Random(seed)``."""

    def __init__(self, config: FaultConfig) -> None:
        self.config = config
        self.queue = list(config.queue)
        self._random = random.Random(config.seed)

    def next_fault(self) -> Fault:
        # Both draws happen on every call so that one decision never shifts the other's stream.
        roll = self._random.random()
        delay = self._random.uniform(*self.config.latency) if self.config.latency[1] else 0.0
        if self.queue:
            return Fault(self.queue.pop(0), delay)
        threshold = 0.0
        for name in FAULTS:
            threshold += self.config.rates.get(name, 0.0)
            if roll < threshold:
                return Fault(name, delay)
        return Fault("", delay)

"""The drain loop: claim, deliver, repeat until nothing is due."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..client import BubblehouseClient, get_client
from ..conf import get_settings
from ..registry import all_serializers
from .claim import claim_batch
from .deliver import Outcome, deliver
from .heartbeat import drain_ran
from .pause import Gate, gate_for, resume, scopes_for
from .wakeup import drain_started


@dataclass
class DrainReport:
    batches: int = 0
    sent: int = 0
    skipped: int = 0
    failed: int = 0
    retrying: int = 0
    dead: int = 0
    paused: list[str] = field(default_factory=list)

    def add(self, outcome: Outcome) -> None:
        self.batches += 1
        self.sent += len(outcome.sent)
        self.skipped += len(outcome.skipped)
        self.failed += len(outcome.failed)
        self.retrying += len(outcome.retrying)
        self.dead += len(outcome.dead)
        if outcome.paused:
            self.paused.append(outcome.paused)


def drain(
    *, max_batches: int | None = None, client: BubblehouseClient | None = None
) -> DrainReport:
    """Push every due row, one request per batch, until none is left (or ``max_batches``)."""
    drain_started()
    drain_ran()
    report = DrainReport()
    client = client or get_client()
    batch_size = get_settings().batch_size
    progressed = True
    while progressed:
        progressed = False
        for serializer_cls in all_serializers():
            if max_batches is not None and report.batches >= max_batches:
                return report
            gate = gate_for(serializer_cls)
            if gate is Gate.CLOSED:
                continue
            batch = claim_batch(serializer_cls.label(), batch_size)
            if batch is None:
                continue
            outcome = deliver(serializer_cls, batch, client)
            if gate is Gate.PROBE and outcome.reached_api:
                resume(*scopes_for(serializer_cls), wake=False)
            report.add(outcome)
            progressed = True
    return report

"""Streams one key range through the serializer and the client, batch by batch.

Per batch: one keyset query for the keys, ``serialize_keys`` (a fixed number
of queries) and one HTTP call. A batch with failures records them in the outbox
and moves the cursor in one transaction at once; the cursor of batches that all
went through is moved at most once per ``checkpoint_every`` seconds (and when
the run ends or stops), because a commit per batch was a quarter of a
backfill's time on SQLite. A process killed outright therefore re-sends at
most that many seconds of batches on ``--resume``, which Bubblehouse's update
calls take as the same state again. The HTTP call overlaps the next batch's work
(:mod:`.inflight`); at most ``concurrency + 1`` batches of payloads are in
memory, whatever the size of the table.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from time import monotonic
from typing import Any

from django.db import transaction
from django.db.models import F

from .. import throttle
from ..client import BubblehouseClient
from ..exceptions import BubblehouseAPIError, ConfigurationAPIError
from ..keyset import Page, Position
from ..models import BackfillRange
from ..outbox.failures import failed_generations, record_failures, resolve_failures
from ..outbox.outcomes import as_api_error
from ..serializers import BatchResult
from .inflight import Sender
from .progress import NoProgress, Progress
from .selection import Selection, SerializerClass, keyset

# The summary lists this many failures per serializer; the outbox keeps all of them.
MAX_LISTED_ERRORS = 10


class BackfillAborted(Exception):
    """Every further batch would fail the same way (credentials, API version, entity set)."""


@dataclass
class Tally:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    errors: list[str] = field(default_factory=list)
    sample: dict[str, Any] | None = None

    def add(self, other: Tally) -> None:
        self.sent += other.sent
        self.failed += other.failed
        self.skipped += other.skipped
        self.errors.extend(other.errors[: MAX_LISTED_ERRORS - len(self.errors)])
        self.sample = self.sample or other.sample


Checkpoint = Callable[[str, Tally], None]
CHECKPOINT_EVERY = 1.0  # seconds between cursor writes while every batch goes through


@dataclass
class _Unsaved:
    """Finished batches whose cursor and counts are not written yet."""

    checkpoint: Checkpoint | None
    every: float
    last_key: str | None = None
    tally: Tally = field(default_factory=Tally)
    saved_at: float = field(default_factory=monotonic)

    def add(self, last_key: str, tally: Tally) -> None:
        self.last_key = last_key
        self.tally.add(tally)

    def due(self) -> bool:
        return monotonic() - self.saved_at >= self.every

    def save(self) -> None:
        if self.checkpoint is not None and self.last_key is not None:
            self.checkpoint(self.last_key, self.tally)
        self.last_key, self.tally, self.saved_at = None, Tally(), monotonic()


@dataclass
class BatchRunner:
    """``dry_run`` serializes and validates but sends and records nothing.

    ``concurrency`` requests may be in flight while the next batch is prepared
    (:mod:`.inflight`); outcomes are recorded, and the cursor moved, in batch order.
    """

    client: BubblehouseClient
    batch_size: int
    dry_run: bool = False
    progress: Progress = field(default_factory=NoProgress)
    concurrency: int = 1
    checkpoint_every: float = CHECKPOINT_EVERY

    def run(
        self,
        serializer_cls: SerializerClass,
        selection: Selection,
        *,
        after: str | None = None,
        end_at: str | None = None,
        checkpoint: Checkpoint | None = None,
    ) -> Tally:
        """Every batch after the key ``after`` up to ``end_at``.

        ``checkpoint`` is given the last key and the counts of the batches finished since
        its previous call, in key order; every finished batch reaches it before this
        returns or raises.
        """
        walk = keyset(serializer_cls, selection, end_at=end_at)
        position = None if after is None else Position(pk=after)
        total = Tally()
        unsaved = _Unsaved(checkpoint, self.checkpoint_every)
        in_flight: deque[tuple[Page, _Prepared, Future[None] | None]] = deque()
        try:
            with Sender(self.client, self.concurrency) as sender:
                for page in walk.pages(after=position, size=self.batch_size):
                    prepared = self._prepare(serializer_cls, page.keys)
                    while len(in_flight) >= self.concurrency:
                        total.add(self._finish(serializer_cls, *in_flight.popleft(), unsaved))
                    sending = None
                    if prepared.result.payloads and not self.dry_run:
                        # A hold another process recorded (a drain's 429) covers backfills too;
                        # the sender's own hold covers the requests this run has in flight.
                        throttle.wait_out()
                        payloads = list(prepared.result.payloads.values())
                        sending = sender.submit(serializer_cls, payloads)
                    in_flight.append((page, prepared, sending))
                while in_flight:
                    total.add(self._finish(serializer_cls, *in_flight.popleft(), unsaved))
        finally:
            # Also when stopped or aborted: the batches finished before are done for --resume.
            unsaved.save()
        return total

    def _prepare(self, serializer_cls: SerializerClass, keys: list[str]) -> _Prepared:
        # Read before serializing: a failure recorded later is about newer data than we send.
        earlier = {} if self.dry_run else failed_generations(serializer_cls, keys)
        return _Prepared(serializer_cls().serialize_keys(keys), earlier)

    def _finish(
        self,
        serializer_cls: SerializerClass,
        page: Page,
        prepared: _Prepared,
        sending: Future[None] | None,
        unsaved: _Unsaved,
    ) -> Tally:
        batch = self._outcome(serializer_cls, prepared, sending)
        assert page.last is not None  # a non-empty page has a last row
        if not self.dry_run:
            unsaved.add(page.last.pk, batch.tally)
            # Failures are written as they happen, with the cursor past them.
            if batch.failures or batch.earlier_failures or unsaved.due():
                with transaction.atomic():
                    record_failures(serializer_cls, batch.failures)
                    resolve_failures(serializer_cls, batch.earlier_failures, batch.sent)
                    unsaved.save()
        self.progress.advance(len(page.keys))
        return batch.tally

    def _outcome(
        self, serializer_cls: SerializerClass, prepared: _Prepared, sending: Future[None] | None
    ) -> _Batch:
        result = prepared.result
        failures: dict[str, BaseException] = dict(result.errors)
        payloads = list(result.payloads.values())
        tally = Tally(skipped=len(result.skipped), sample=payloads[0] if payloads else None)
        if sending is not None:
            try:
                sending.result()
            except BubblehouseAPIError as raised:
                error = as_api_error(raised, serializer_cls.kind.api_call)
                if isinstance(error, ConfigurationAPIError):
                    # The cursor stays before this batch, so --resume sends it again.
                    raise BackfillAborted(str(error)) from error
                failures.update(dict.fromkeys(result.payloads, error))
        sent = [key for key in result.payloads if key not in failures]
        tally.failed = len(failures)
        tally.sent = len(sent)
        listed = list(failures.items())[:MAX_LISTED_ERRORS]
        tally.errors = [f"{key}: {error}" for key, error in listed]
        return _Batch(tally, failures, sent, prepared.earlier_failures)


@dataclass
class _Prepared:
    result: BatchResult
    earlier_failures: dict[str, int]  # failed or dead outbox rows before the push: generation


@dataclass
class _Batch:
    tally: Tally
    failures: dict[str, BaseException]
    sent: list[str]
    earlier_failures: dict[str, int]  # failed or dead outbox rows before the push: generation


def save_range_batch(range_id: int) -> Checkpoint:
    """A checkpoint that moves ``BackfillRange`` ``range_id``'s cursor and counts."""

    def checkpoint(last_key: str, tally: Tally) -> None:
        BackfillRange.objects.filter(pk=range_id).update(
            cursor=last_key,
            sent=F("sent") + tally.sent,
            failed=F("failed") + tally.failed,
            skipped=F("skipped") + tally.skipped,
        )

    return checkpoint

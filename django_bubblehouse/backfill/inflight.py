"""Requests in flight while the next batch is read and serialized.

A backfill's batch is CPU and database work on the main thread, then one HTTP
request that mostly waits for Bubblehouse. Up to ``concurrency`` requests are
sent from worker threads (which only talk HTTP, never to the database) while
the main thread prepares the next batch; their outcomes are taken in batch
order, so the cursor only ever moves over batches whose outcome is recorded.

A 429 holds every later request of the run until its ``Retry-After`` (or the
backoff base when it gives none): the throttle is the shop's, not one thread's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import Any

from ..client import BubblehouseClient
from ..conf import get_settings
from ..exceptions import TransientAPIError
from ..serializers import send
from .selection import SerializerClass

TOO_MANY_REQUESTS = 429


class Throttle:
    """The earliest time the next request may leave, shared by the run's threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._until = 0.0

    def hold(self, seconds: float) -> None:
        with self._lock:
            self._until = max(self._until, time.monotonic() + seconds)

    def wait(self) -> None:
        while (left := self._until - time.monotonic()) > 0:
            time.sleep(left)  # Bubblehouse asked for this pause (Retry-After); not a poll


class Sender:
    """Sends batches on up to ``concurrency`` threads; a context manager that joins them."""

    def __init__(self, client: BubblehouseClient, concurrency: int) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.client = client
        self.throttle = Throttle()
        self._pool = ThreadPoolExecutor(concurrency, thread_name_prefix="bubblehouse-backfill")

    def submit(self, serializer_cls: SerializerClass, payloads: Sequence[Any]) -> Future[None]:
        return self._pool.submit(self._send, serializer_cls, payloads)

    def _send(self, serializer_cls: SerializerClass, payloads: Sequence[Any]) -> None:
        self.throttle.wait()
        try:
            send(serializer_cls, self.client, payloads)
        except TransientAPIError as error:
            if error.status == TOO_MANY_REQUESTS:
                self.throttle.hold(error.retry_after or get_settings().backoff_base)
            raise

    def __enter__(self) -> Sender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Requests already sent finish; their outcome is not recorded, so --resume resends.
        self._pool.shutdown(wait=True, cancel_futures=True)

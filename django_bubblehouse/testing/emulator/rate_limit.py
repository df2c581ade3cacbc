"""The rate limit as a fault: at most N requests per second per shop, then 429.

A sliding one-second window of admitted requests; a refused request is not
counted, and its ``Retry-After`` says when the oldest admitted one leaves the
window (whole seconds, at least 1).
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable

WINDOW = 1.0


class RateLimiter:
    def __init__(self, per_second: int | None, clock: Callable[[], float]) -> None:
        self.per_second = per_second
        self.clock = clock
        self._admitted: dict[str, deque[float]] = {}

    def retry_after(self, shop: str) -> int | None:
        """Admit a request of ``shop`` (None), or the seconds it must wait."""
        if self.per_second is None:
            return None
        now = self.clock()
        admitted = self._admitted.setdefault(shop, deque())
        while admitted and admitted[0] <= now - WINDOW:
            admitted.popleft()
        if len(admitted) >= self.per_second:
            return max(1, math.ceil(admitted[0] + WINDOW - now))
        admitted.append(now)
        return None

"""Retry delays: exponential backoff with full jitter, never earlier than Retry-After."""

from __future__ import annotations

import random

_random = random.SystemRandom()
# 2**62 seconds is already past any cap; larger exponents only risk float overflow.
_MAX_EXPONENT = 62


def retry_delay(
    attempt: int,
    *,
    base: float,
    cap: float,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait before attempt ``attempt + 1`` (``attempt`` >= 1 failures so far).

    Full jitter (uniform between 0 and the exponential ceiling) spreads the
    retries of many workers that failed together; Bubblehouse's ``Retry-After``
    is a floor, not a suggestion.
    """
    ceiling = min(cap, base * 2 ** min(max(attempt - 1, 0), _MAX_EXPONENT))
    delay = (rng or _random).uniform(0, ceiling)
    if retry_after is not None:
        delay = max(delay, retry_after)
    return delay

"""Exponential backoff with full jitter, capped, never earlier than Retry-After."""

from __future__ import annotations

import random

from django_bubblehouse.outbox.outcomes import retry_delay


def test_full_jitter_stays_under_the_exponential_ceiling() -> None:
    rng = random.Random(7)
    for attempt, ceiling in [(1, 2.0), (2, 4.0), (3, 8.0), (10, 900.0), (500, 900.0)]:
        delays = [retry_delay(attempt, base=2.0, cap=900.0, rng=rng) for _ in range(200)]
        assert all(0 <= d <= ceiling for d in delays)
        assert max(delays) > ceiling / 2  # jitter covers the range, not a fixed value


def test_retry_after_is_a_floor() -> None:
    rng = random.Random(1)
    delays = [retry_delay(1, base=2.0, cap=900.0, retry_after=30.0, rng=rng) for _ in range(50)]
    assert min(delays) == 30.0
    assert retry_delay(9, base=2.0, cap=900.0, retry_after=0.5, rng=random.Random(3)) >= 0.5

"""Concurrent drains take disjoint batches (SELECT ... FOR UPDATE SKIP LOCKED: PostgreSQL,
MySQL 8, MariaDB 10.6+)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import pytest
from django.db import connection

from django_bubblehouse.models import OutboxEntry
from django_bubblehouse.outbox import claim, mark_dirty, wakeup
from django_bubblehouse.outbox.claim import Batch, claim_batch
from tests.claim_support import claim_concurrently
from tests.delivery_support import ORDERS
from tests.testapp.bubblehouse import OrderSerializer

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_claimers_never_claim_the_same_row() -> None:
    if not connection.features.has_select_for_update_skip_locked:  # asks the server's version
        pytest.skip("needs row locks: run with a PostgreSQL or MariaDB DATABASE_URL")
    with mock.patch("django_bubblehouse.outbox.wakeup.enqueue_drain"):  # no drain of our own
        mark_dirty(OrderSerializer, [str(n) for n in range(200)])
        assert wakeup.flush(30)  # the wake-up check runs off this thread
    claimed_a, claimed_b = claim_concurrently(ORDERS, 2, 7)
    assert not set(claimed_a) & set(claimed_b)
    assert sorted(claimed_a + claimed_b, key=int) == [str(n) for n in range(200)]
    assert claimed_a, "both claimers must have taken batches"
    assert claimed_b, "both claimers must have taken batches"
    assert OutboxEntry.objects.filter(state="sending").count() == 200


def test_a_claimer_whose_rows_were_claimed_after_it_read_them_gets_none() -> None:
    """Where the claim reads before it writes (a backend without ``UPDATE ... RETURNING``, and
    without row locks), two claimers may read the same rows: the one that writes second finds
    them at another generation and takes none."""
    with mock.patch("django_bubblehouse.outbox.wakeup.enqueue_drain"):
        mark_dirty(OrderSerializer, ["1", "2", "3"])
    read = claim._fetch
    other: list[Batch | None] = []

    def read_then_lose_the_race(*args: Any) -> list[tuple[Any, ...]]:
        rows = read(*args)  # this claimer has read the due rows...
        if not other:
            other.append(None)
            other[0] = claim_batch(ORDERS, 10)  # ...and another one claims them first
        return rows

    with (
        mock.patch.object(claim, "_updates_return_rows", return_value=False),
        mock.patch.object(claim, "_fetch", read_then_lose_the_race),
    ):
        mine = claim_batch(ORDERS, 10)
    assert other[0] is not None
    assert sorted(other[0].keys) == ["1", "2", "3"]
    assert mine is None
    assert set(OutboxEntry.objects.values_list("generation", flat=True)) == {other[0].token}

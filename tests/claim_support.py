"""Claimers racing each other, for the tests of concurrent claims (in process, and in a
process of its own over a SQLite file)."""

from __future__ import annotations

import threading

from django.db import connections

from django_bubblehouse.outbox.claim import claim_batch


def claim_concurrently(label: str, claimers: int, limit: int) -> list[list[str]]:
    """``claimers`` threads, started together, each claiming batches of ``limit`` rows of
    ``label`` until none is left: the keys each one took. The first error raised in any of
    them is raised here."""
    start = threading.Barrier(claimers)
    claimed: list[list[str]] = [[] for _ in range(claimers)]
    errors: list[BaseException] = []

    def claimer(mine: list[str]) -> None:
        try:
            start.wait(timeout=10)
            while (batch := claim_batch(label, limit)) is not None:
                mine.extend(batch.keys)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()  # this thread's own connections

    threads = [threading.Thread(target=claimer, args=(mine,)) for mine in claimed]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return claimed

"""The outbox: recording changes, waking drains, delivering batches, housekeeping.

One module per job: :mod:`.record` (in the host's transaction), :mod:`.wake`
(after commit, run off the host's thread by :mod:`.waker`), :mod:`.claim`,
:mod:`.deliver` and :mod:`.drain` (in a worker),
:mod:`.lease` (heartbeats, cut-off pushes), :mod:`.outcomes` (the retry
policy: what each failure does to a row), :mod:`.failures` (pushes made
outside the drain), :mod:`.pause` (circuit breaker), :mod:`.orphans` (rows of
serializers that are gone), :mod:`.maintenance` (schedules).
"""

from .drain import DrainReport, drain
from .failures import record_failures
from .maintenance import prune, release_stuck, retry_entries, sweep
from .pause import resume
from .record import mark_deleted, mark_dirty
from .wake import request_drain

__all__ = [
    "DrainReport",
    "drain",
    "mark_deleted",
    "mark_dirty",
    "prune",
    "record_failures",
    "release_stuck",
    "request_drain",
    "resume",
    "retry_entries",
    "sweep",
]

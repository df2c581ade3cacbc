"""The outbox: which objects still have to reach Bubblehouse, and getting them there.

The road of one change (the README's "How a change travels"):

- in the host's transaction, :mod:`.record` writes the row with one upsert;
- after commit, :mod:`.wakeup` makes sure a drain is enqueued (off the host's thread);
- in a worker, :func:`.drain.drain` claims batches (:mod:`.claim`) under a lease that
  :mod:`.lease` keeps beating, :mod:`.deliver` pushes each one and settles its rows by
  :mod:`.outcomes` (the one retry policy: what each failure does to a row), and
  :mod:`.pause` holds a misconfigured scope back;
- :mod:`.failures` records pushes made outside the drain (backfills) in the same terms;
  :mod:`.orphans` finds rows of serializers that are gone; :mod:`.maintenance` holds the
  schedules' housekeeping.
"""

from .drain import DrainReport, drain
from .maintenance import retry_entries
from .pause import resume
from .record import mark_dirty

# What hosts call; the app's own modules import the rest from the submodules.
__all__ = ["DrainReport", "drain", "mark_dirty", "resume", "retry_entries"]

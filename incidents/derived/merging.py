"""Folding the map's change log into its kept counts (incidents/derived/map_cells.py).

The triggers only log what changed; `map_changes_merge` moves the log into the cells with
`geo_map_changes_merge()` (incidents/derived/sql/), a batch per transaction so that a large
import never holds one long transaction. Readers add the changes not merged yet, so a merge
that runs late makes the map slower, never wrong. Celery beat runs it every
MAP_MERGE_INTERVAL seconds (incidents.tasks.merge_map_changes), and an import asks for it
once its rows are in.
"""

from __future__ import annotations

from django.db import OperationalError, connections, transaction
from psycopg2.errors import LockNotAvailable

# Changes merged per transaction: large enough for set-based work to pay, small enough that
# a merge's sort stays in memory (each change is placed at 9 levels, twice).
MERGE_BATCH = 20_000


def map_changes_merge(*, batch: int = MERGE_BATCH, using: str = "default") -> int:
    """Merge the logged changes into the kept counts until the log is empty; returns how
    many were merged. Returns early, having merged nothing more, when another merge holds
    the lock (that one merges what remains), or when a table it writes is locked whole (a
    rebuild, a TRUNCATE): it gives up its batch, still logged, for the next run, rather than
    wait in a queue where PostgreSQL may find a deadlock."""
    merged = 0
    while True:
        try:
            with transaction.atomic(using=using), connections[using].cursor() as cursor:
                cursor.execute("SET LOCAL lock_timeout = '100ms'")
                cursor.execute("SELECT geo_map_changes_merge(%s)", [batch])
                count = cursor.fetchone()[0]
        except OperationalError as error:
            if isinstance(error.__cause__, LockNotAvailable):
                return merged
            raise
        merged += count
        if count < batch:
            return merged


def map_changes_pending(*, using: str = "default") -> int:
    """How many changes wait to be merged (shown to operators on /healthz)."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM geo_incidentmapchange")
        return cursor.fetchone()[0]

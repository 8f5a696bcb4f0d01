"""Where reads of records go: a streaming replica when one is configured, else the primary.

The choice is explicit, never a global database router: a router would send every read to
the replica, and a user who has just saved a record would read the page that follows from a
copy that may not hold it yet. Only the reads that tolerate a delay they are told about ask
for `read_source()`: the analyst map's data and the analyses' reads of incidents. Writes,
sessions, memberships and the access policy's own reads stay on the primary: a role taken
away is refused at once, whatever the replica has replayed.

The lag is measured, not guessed: on a hot standby `now() - pg_last_xact_replay_timestamp()`
keeps growing while the primary is idle although the replica holds everything. So the
replica is behind by the WAL between the primary's position (`pg_current_wal_lsn()`) and
what the replica has replayed (`pg_last_wal_replay_lsn()`); when that is zero it is not
behind at all, and otherwise by at most the time since the last transaction it replayed was
committed on the primary (what is missing was committed after that). That bound overstates
a lag made only of WAL without commits (a checkpoint, a vacuum), never understates one.
"""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, DatabaseError, connections
from django.utils.formats import number_format
from django.utils.translation import gettext as _

REPLICA = "replica"
PRIMARY = DEFAULT_DB_ALIAS
# Why the primary was read, as readers are told it (the database's own message, which names
# hosts and ports, goes to the log only).
NOT_ANSWERING = "the replica did not answer"

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ReplicaLag:
    """How far the replica is behind the primary: WAL bytes not yet replayed, and at most
    how many seconds of commits they hold (0 when nothing is missing); `paused` when its
    replay was paused (pg_wal_replay_pause)."""

    bytes: int
    seconds: float
    paused: bool


@dataclass(frozen=True)
class ReadSource:
    """The database alias to read records from, and what the reader must be told: the
    replica's lag when reading it; why not, when a replica is configured but the primary
    is read instead."""

    alias: str
    lag: ReplicaLag | None = None
    fallback: str = ""

    @property
    def from_replica(self) -> bool:
        return self.alias == REPLICA


def replica_configured() -> bool:
    return REPLICA in settings.DATABASES


def primary_wal_position() -> str:
    """The primary's current WAL position (an LSN, as text)."""
    with connections[PRIMARY].cursor() as cursor:
        cursor.execute("SELECT pg_current_wal_lsn()::text")
        return cursor.fetchone()[0]


def replica_lag() -> ReplicaLag:
    """The replica's lag now (two statements: one on each server). Raises DatabaseError
    when either does not answer."""
    position = primary_wal_position()
    with connections[REPLICA].cursor() as cursor:
        cursor.execute(
            "SELECT pg_is_in_recovery(),"
            " pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())::bigint,"
            " extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8,"
            " CASE WHEN pg_is_in_recovery() THEN pg_is_wal_replay_paused() END",
            [position],
        )
        standby, difference, since_last_commit, paused = cursor.fetchone()
    if not standby:
        # A misconfiguration that must not pass for a replica that is caught up.
        raise DatabaseError("DATABASE_REPLICA_URL names a server that is not a standby.")
    # Below zero when the replica replayed more between the two statements: caught up.
    behind = max(int(difference), 0)
    seconds = 0.0 if behind == 0 else max(since_last_commit or 0.0, 0.0)
    return ReplicaLag(bytes=int(behind), seconds=round(seconds, 3), paused=bool(paused))


def read_source() -> ReadSource:
    """Where to read records now: the replica, with its lag, when one is configured and
    answers; else the primary (with the reason when a replica is configured). Without a
    replica, no statement is run."""
    if not replica_configured():
        return ReadSource(PRIMARY)
    try:
        return ReadSource(REPLICA, lag=replica_lag())
    except DatabaseError as error:
        # A replica that does not answer costs its readers nothing but the freshness it
        # would not have given: they read the primary, and are told so.
        logger.warning("Reading the primary: the replica did not answer (%s)", error)
        _forget_broken_connection()
        return ReadSource(PRIMARY, fallback=NOT_ANSWERING)


def read_source_caught_up(timeout: float) -> ReadSource:
    """As `read_source`, for a reader that must see every write committed before it
    started (an analysis: its request's fingerprint was taken on the primary): the replica
    once it has replayed them, waiting up to `timeout` seconds; else the primary."""
    if not replica_configured():
        return ReadSource(PRIMARY)
    position = primary_wal_position()
    if not replica_caught_up(position, timeout=timeout):
        return ReadSource(
            PRIMARY,
            fallback=f"the replica had not replayed the primary's WAL up to {position}"
            f" within {timeout:g} s (replay paused, far behind, or not answering)",
        )
    return read_source()


def source_record(source: ReadSource) -> dict | None:
    """Where records were read, as data to keep (an analysis's result): None without a
    replica (no change to any answer); else the database and the replica's lag, or why
    the primary was read."""
    if not replica_configured():
        return None
    if source.lag is None:
        return {"database": "primary", "fallback": source.fallback}
    return {
        "database": "replica",
        "lag_seconds": source.lag.seconds,
        "lag_bytes": source.lag.bytes,
        "paused": source.lag.paused,
    }


def source_note(source: ReadSource) -> dict | None:
    """`source_record` with a sentence for the reader, in the reader's language."""
    record = source_record(source)
    if record is None:
        return None
    if source.lag is None:
        return {
            "database": "primary",
            "note": _("Read from the primary database: the replica did not answer."),
        }
    lag = source.lag
    if lag.paused:
        note = _("Read from a replica whose replay is paused, %(seconds)s s behind.")
    else:
        note = _("Read from a replica, %(seconds)s s behind.")
    return {**record, "note": note % {"seconds": number_format(lag.seconds, decimal_pos=1)}}


def replica_caught_up(position: str, *, timeout: float, interval: float = 0.2) -> bool:
    """Whether the replica has replayed the primary's WAL up to `position`, waiting up to
    `timeout` seconds for it: an analysis requested after a write reads that write."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with connections[REPLICA].cursor() as cursor:
                cursor.execute(
                    "SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn, pg_is_wal_replay_paused()",
                    [position],
                )
                replayed, paused = cursor.fetchone()
        except DatabaseError as error:
            logger.warning("The replica did not answer (%s)", error)
            _forget_broken_connection()
            return False
        if replayed:
            return True
        if paused or time.monotonic() >= deadline:
            return False
        time.sleep(interval)


def _forget_broken_connection() -> None:
    """Close the replica's connection after an error, so the next read connects afresh
    (a connection that failed mid-statement is not usable again)."""
    with contextlib.suppress(DatabaseError):
        connections[REPLICA].close()

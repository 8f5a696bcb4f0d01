"""DATABASE_REPLICA_URL naming a server that is not a standby (here: the test database
itself) is a misconfiguration: it is never read as a replica that is caught up."""

import pytest
from django.conf import settings
from django.db import DatabaseError, connections

from armsmonitor.replica import (
    PRIMARY,
    REPLICA,
    read_source,
    read_source_caught_up,
    replica_lag,
    source_note,
)


@pytest.fixture(scope="module", autouse=True)
def primary_named_as_replica(django_db_setup, django_db_blocker):
    """The alias in place before the test's database set-up, which checks the aliases a
    test may use (module-scoped fixtures come first)."""
    databases = settings.DATABASES
    settings.DATABASES = {**databases, REPLICA: dict(databases[PRIMARY])}
    connections.settings[REPLICA] = dict(connections.settings[PRIMARY])
    yield
    connections[REPLICA].close()
    del connections[REPLICA]
    del connections.settings[REPLICA]
    settings.DATABASES = databases


# Not in a transaction: a failed statement on the "replica" must not abort the test's own.
@pytest.mark.django_db(transaction=True, databases=[PRIMARY, REPLICA])
def test_a_server_that_is_not_a_standby_is_never_read_as_a_replica():
    with pytest.raises(DatabaseError, match="not a standby"):
        replica_lag()
    source = read_source()
    assert source.alias == PRIMARY and source.fallback == "the replica did not answer"
    assert source_note(source)["database"] == "primary"
    assert read_source_caught_up(1).alias == PRIMARY

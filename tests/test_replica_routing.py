"""Reads of records without a replica (armsmonitor/replica.py): nothing changes. A "replica"
that is not a standby: tests/test_replica_not_a_standby.py; a real streaming replica:
tests/test_read_replica.py."""

import pytest

from armsmonitor.health import platform_health
from armsmonitor.replica import (
    PRIMARY,
    ReadSource,
    read_source,
    read_source_caught_up,
    source_note,
    source_record,
)


@pytest.mark.django_db
def test_without_a_replica_reads_go_to_the_primary_and_nothing_is_asked(
    django_assert_num_queries,
):
    with django_assert_num_queries(0):
        source = read_source()
        caught_up = read_source_caught_up(30)
    assert source == caught_up == ReadSource(PRIMARY)
    assert not source.from_replica
    assert source_note(source) is None and source_record(source) is None


@pytest.mark.django_db
def test_without_a_replica_health_has_no_replica_part(monkeypatch):
    monkeypatch.setattr("armsmonitor.health.celery_health", lambda: {"ok": True})
    assert "replica" not in platform_health()

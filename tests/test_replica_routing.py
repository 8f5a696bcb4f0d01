"""Reads of records without a replica (armsmonitor/replica.py): nothing changes. A "replica"
that is not a standby: tests/test_replica_not_a_standby.py; a real streaming replica:
tests/test_read_replica.py."""

import json

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
from tests.test_settings import PRODUCTION_ENVIRONMENT, run_manage


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


REPLICA_URL = "postgres://armsmonitor_app:secret@replica.example.org:5433/armsmonitor"
SHOW_REPLICA = (
    "import json; from django.conf import settings;"
    " replica = settings.DATABASES['replica'];"
    " print(json.dumps({key: replica[key] for key in ('ENGINE', 'HOST', 'PORT', 'NAME',"
    " 'CONN_HEALTH_CHECKS')} | {'mirror': replica['TEST']['MIRROR'],"
    " 'connect_timeout': replica['OPTIONS']['connect_timeout']}))"
)


def test_the_replica_is_a_second_alias_read_like_database_url():
    result = run_manage(
        "shell",
        "-c",
        SHOW_REPLICA,
        environment={**PRODUCTION_ENVIRONMENT, "DATABASE_REPLICA_URL": REPLICA_URL},
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "HOST": "replica.example.org",
        "PORT": 5433,
        "NAME": "armsmonitor",
        # Tests read the test database through it: no database of its own is created.
        "mirror": "default",
        "CONN_HEALTH_CHECKS": True,
        "connect_timeout": 3,
    }
    # Production's deployment checks are as clean with a replica as without.
    checked = run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "DEBUG",
        environment={**PRODUCTION_ENVIRONMENT, "DATABASE_REPLICA_URL": REPLICA_URL},
    )
    assert checked.returncode == 0, checked.stderr

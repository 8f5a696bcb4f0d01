"""pytest-xdist workers share nothing: each has its own test database, Redis database and
Celery queues (tests/xdist_worker.py)."""

import os

import pytest
from django.conf import settings
from django.db import connection

from armsmonitor.celery import app as celery_app
from tests.xdist_worker import redis_url_for_worker

WORKER = os.environ.get("PYTEST_XDIST_WORKER")


@pytest.mark.parametrize(
    ("url", "index", "expected"),
    [
        ("redis://127.0.0.1:6379/15", 0, "redis://127.0.0.1:6379/15"),
        ("redis://127.0.0.1:6379/15", 1, "redis://127.0.0.1:6379/14"),
        ("redis://127.0.0.1:6379/12", 1, "redis://127.0.0.1:6379/11"),
        ("redis://:secret@redis:6379/15", 3, "redis://:secret@redis:6379/12"),
        ("redis://127.0.0.1:6379", 0, "redis://127.0.0.1:6379/0"),
        ("unix:///run/redis.sock?db=9", 2, "unix:///run/redis.sock?db=7"),
    ],
)
def test_a_worker_uses_the_base_redis_database_minus_its_number(url, index, expected):
    assert redis_url_for_worker(url, index) == expected


def test_no_worker_but_the_first_gets_redis_database_0():
    with pytest.raises(pytest.UsageError, match="higher base database"):
        redis_url_for_worker("redis://127.0.0.1:6379/1", 1)
    with pytest.raises(pytest.UsageError):
        redis_url_for_worker("redis://127.0.0.1:6379/0", 1)


@pytest.mark.skipif(not WORKER, reason="run without pytest-xdist")
@pytest.mark.django_db
def test_this_worker_has_its_own_database_redis_database_and_queues():
    assert connection.settings_dict["NAME"].endswith(f"_{WORKER}")
    assert os.environ["REDIS_URL"] == settings.REDIS_URL
    assert settings.CACHES["default"]["LOCATION"] == settings.REDIS_URL
    assert celery_app.conf.broker_url == settings.REDIS_URL
    for queue in (
        settings.CELERY_TASK_DEFAULT_QUEUE,
        settings.CONTROL_QUEUE,
        settings.REPORTS_QUEUE,
        celery_app.conf.task_default_queue,
    ):
        assert WORKER in queue


# A transactional test's flush empties every table, the reference data that migrations load
# with it (tests/conftest.py loads it again): a test that comes after one on the same worker
# (in any order pytest-xdist hands them out) still finds the manufacturers and instruments.
@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_flushes_the_database_after_it(world):
    assert world.records


@pytest.mark.django_db(transaction=True)
def test_the_reference_data_of_the_migrations_is_there_after_a_flush():
    from geo.models import Region
    from incidents.models import Manufacturer

    assert Manufacturer.objects.filter(name="Kalashnikov Concern").exists()
    assert Region.objects.filter(kind="instrument").count() >= 3

"""Analysis runs in real Celery worker processes: a worker killed in the middle of a run
leaves it retried and finished, once; two workers share a batch of scheduled runs.

To stop a run at a known point without timing luck, the tests hold an exclusive lock on
the clusters table: a run computes, then waits on that lock to replace its stored rows,
and is killed (or observed) while it waits.
"""

import os
import signal
import time
from contextlib import contextmanager

import psycopg2
import pytest
from django.db import connection

from geo.analyses.services import analysis_run_request
from geo.models import AnalysisRun, IncidentCluster
from geo.tasks import refresh_standard_analyses
from tests.analysis_layouts import north_of, seizure
from tests.conftest import start_celery_worker, stop_celery_worker
from tests.personas import build_world
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@contextmanager
def clusters_table_locked():
    """Hold an exclusive lock on the clusters table from a connection of our own."""
    database = connection.settings_dict
    locker = psycopg2.connect(
        dbname=database["NAME"],
        user=database["USER"],
        password=database["PASSWORD"],
        host=database["HOST"] or None,
        port=database["PORT"] or None,
    )
    try:
        with locker.cursor() as cursor:
            cursor.execute("LOCK TABLE geo_incidentcluster IN ACCESS EXCLUSIVE MODE")
        yield
    finally:
        locker.rollback()
        locker.close()


def test_a_worker_killed_mid_run_leaves_the_run_retried_and_finished_once():
    world = build_world()
    for metres in (0, 50, 100, 150):
        seizure(*north_of(15.6, 5.93, metres))
    worker = start_celery_worker("prefork-worker", pool="prefork", concurrency=1)
    try:
        with clusters_table_locked():
            run = analysis_run_request(
                requester=world.users["admin"],
                kind="clusters",
                parameters={"distance_m": 150, "min_incidents": 3},
                incident_filter={"kind": ["cache_discovery"]},
            )
            # Computed, and now waiting for the lock to store its result.
            running = wait_for(
                lambda: (
                    AnalysisRun.objects.filter(pk=run.pk, state="running", progress__gte=70)
                    .values_list("worker", flat=True)
                    .first()
                ),
                what="the run to compute",
            )
            os.kill(int(running.rsplit(":", 1)[1]), signal.SIGKILL)
            time.sleep(1)
        run = wait_for(
            lambda: AnalysisRun.objects.filter(pk=run.pk, state="done").first(),
            what="the retried run to finish",
        )
    finally:
        stop_celery_worker(worker)

    assert run.attempts == 2
    assert run.result["summary"]["clusters"] == 1
    assert AnalysisRun.objects.count() == 1
    assert IncidentCluster.objects.filter(run=run).count() == 1


def workers_holding_runs() -> set[str] | None:
    """The workers with a run in hand, once there are two of them."""
    names = {
        worker.split("@")[0]
        for worker in AnalysisRun.objects.filter(state="running").values_list("worker", flat=True)
    }
    return names if len(names) == 2 else None


def test_two_workers_share_the_nightly_runs_of_the_missions():
    build_world()  # two missions with verified records
    workers = [start_celery_worker(f"fleet-{number}") for number in (1, 2)]
    try:
        with clusters_table_locked():
            refresh_standard_analyses.delay()
            # A run that reaches the storing of its result waits for the lock, holding up
            # the worker that took it; the other worker goes on with the rest of the batch
            # until it holds up too.
            busy = wait_for(workers_holding_runs, what="both workers to hold a run")
        wait_for(
            lambda: (
                AnalysisRun.objects.count() == 8
                and not AnalysisRun.objects.filter(state__in=["queued", "running"]).exists()
            ),
            what="every run to finish",
        )
    finally:
        for worker in workers:
            stop_celery_worker(worker)

    assert len(busy) == 2
    assert {run.mission.acronym for run in AnalysisRun.objects.all()} == {"MINUSCA", "MONUSCO"}
    hosts = {run.worker.split("@")[0] for run in AnalysisRun.objects.all()}
    assert len(hosts) == 2

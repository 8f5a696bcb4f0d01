"""Faults, with the real parts: a Celery worker killed outright (SIGKILL of the whole
worker, not only a pool child) in the middle of an import and of an analysis, then a new
worker started; and PostgreSQL dropping every connection of the web processes (gunicorn)
and of a worker while requests run.

To stop a task at a known point without timing luck, the tests hold an exclusive lock on a
table the task must write: the task reaches it, waits, and is killed while it waits.
"""

import csv
import io
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from contextlib import contextmanager

import psycopg2
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection

from armsmonitor.celery import app as celery_app
from geo.analyses.services import analysis_run_request
from geo.core.boundaries import countries_load
from geo.models import AnalysisRun, IncidentCluster
from incidents.models import ImportJob, Incident, WeaponItem
from incidents.tasks import run_import_job
from organisations.models import AuditEvent
from tests.analysis_layouts import north_of, seizure
from tests.conftest import PROJECT_DIR, _database_url, start_celery_worker, stop_celery_worker
from tests.personas import build_world
from tests.waiting import SAFETY_SECONDS, wait_for

# A killed worker's task comes back after the broker's visibility timeout; the workers of
# these tests use seconds (and hard limits below them), production uses an hour and more.
FAST_REDELIVERY = {
    "CELERY_TASK_SOFT_TIME_LIMIT": "40",
    "CELERY_TASK_TIME_LIMIT": "45",
    "CELERY_VISIBILITY_TIMEOUT": "50",
}
IMPORT_ROWS = 5_000


# --- settings the fault tolerance rests on ------------------------------------------


def test_tasks_are_acknowledged_late_one_at_a_time_and_redelivered_after_their_limit():
    assert settings.CELERY_TASK_ACKS_LATE is True
    assert settings.CELERY_TASK_REJECT_ON_WORKER_LOST is True
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
    celery_app.loader.import_default_modules()
    tasks = {
        name: task for name, task in celery_app.tasks.items() if not name.startswith("celery.")
    }
    longest = max(task.time_limit or settings.CELERY_TASK_TIME_LIMIT for task in tasks.values())
    visibility = settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"]
    assert visibility > longest, (visibility, longest)
    for name in ("incidents.tasks.run_import_job", "geo.tasks.run_analysis"):
        if name in tasks:
            assert tasks[name].acks_late and tasks[name].reject_on_worker_lost, name
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def test_a_visibility_timeout_at_or_below_the_hard_limit_is_refused():
    environment = {
        **os.environ,
        "CELERY_TASK_TIME_LIMIT": "600",
        "CELERY_VISIBILITY_TIMEOUT": "600",
        "DJANGO_SETTINGS_MODULE": "armsmonitor.settings",
    }
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=PROJECT_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "CELERY_VISIBILITY_TIMEOUT must be above CELERY_TASK_TIME_LIMIT" in result.stderr


# --- a worker killed in the middle of its task -----------------------------------------


def _own_connection():
    database = connection.settings_dict
    return psycopg2.connect(
        dbname=database["NAME"],
        user=database["USER"],
        password=database["PASSWORD"],
        host=database["HOST"] or None,
        port=database["PORT"] or None,
    )


@contextmanager
def table_locked(table: str, mode: str = "ACCESS EXCLUSIVE"):
    """Hold a lock on `table` from a connection of our own: by default one that stops every
    reader and writer; "EXCLUSIVE" stops writers and lets readers (a page) through."""
    locker = _own_connection()
    try:
        with locker.cursor() as cursor:
            cursor.execute(f"LOCK TABLE {table} IN {mode} MODE")
        yield locker
    finally:
        locker.rollback()
        locker.close()


def waiting_on_a_lock() -> bool:
    with _own_connection() as probe, probe.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        waiting = cursor.fetchone()[0] > 0
    probe.close()
    return waiting


def kill_worker(worker) -> None:
    """SIGKILL the worker process: no warm shutdown, nothing handed back to the broker."""
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


def import_file(rows: int, *, prefix: str = "KILL") -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        [
            "external_reference",
            "occurred_at",
            "latitude",
            "longitude",
            "kind",
            "context",
            "weapon_category",
            "weapon_quantity",
        ]
    )
    for number in range(rows):
        writer.writerow(
            [
                f"{prefix}-{number:06d}",
                "2025-06-01",
                "4.39",
                "18.55",
                "cache_discovery",
                "other",
                "mortar",
                "1",
            ]
        )
    return text.getvalue().encode()


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_worker_is_killed_finishes_once_on_a_new_worker(monkeypatch, capsys):
    for name, value in FAST_REDELIVERY.items():
        monkeypatch.setenv(name, value)
    countries_load(scale="110m")
    world = build_world()
    job = ImportJob(
        file_format="csv",
        original_name="kill.csv",
        contingent=world.records["alpha_draft_L1"].contingent,
        requested_by=world.users["reporter_alpha"],
    )
    job.file.save("import.csv", ContentFile(import_file(IMPORT_ROWS)), save=False)
    job.save()
    before = Incident.objects.count(), WeaponItem.objects.count()

    first = start_celery_worker("import-killed")
    try:
        with table_locked("incidents_incident"):
            run_import_job.delay(job.pk)
            wait_for(
                lambda: (
                    ImportJob.objects.filter(pk=job.pk, state="running").exists()
                    and waiting_on_a_lock()
                ),
                what="the import to stage its rows and wait to write",
            )
            killed_at = time.monotonic()
            kill_worker(first)
    finally:
        if first.poll() is None:
            stop_celery_worker(first)
    # The killed worker's transaction died with its connection: nothing of it remains.
    assert (Incident.objects.count(), WeaponItem.objects.count()) == before
    assert ImportJob.objects.get(pk=job.pk).state == "running"

    second = start_celery_worker("import-restarted")
    try:
        done = wait_for(
            lambda: ImportJob.objects.filter(pk=job.pk, state="done").first(),
            what="the import to be delivered again and finish",
        )
        redelivered_after = time.monotonic() - killed_at
        # Delivered again (or not) once more: still nothing doubled.
        run_import_job.delay(job.pk)
        time.sleep(2)
    finally:
        stop_celery_worker(second)

    assert done.report["incidents_created"] == IMPORT_ROWS
    assert Incident.objects.count() == before[0] + IMPORT_ROWS
    assert WeaponItem.objects.count() == before[1] + IMPORT_ROWS
    assert (
        Incident.objects.filter(external_reference__startswith="KILL-")
        .values("external_reference")
        .distinct()
        .count()
        == IMPORT_ROWS
    )
    assert AuditEvent.objects.filter(action="import.csv").count() == 1
    with capsys.disabled():
        print(
            f"\nimport of {IMPORT_ROWS:,} rows: worker SIGKILLed mid-import; redelivered to a "
            f"new worker and finished after {redelivered_after:.0f} s; "
            f"{IMPORT_ROWS:,} incidents, none lost, none doubled"
        )


@pytest.mark.django_db(transaction=True)
def test_an_analysis_whose_worker_is_killed_finishes_once_on_a_new_worker(monkeypatch, capsys):
    for name, value in FAST_REDELIVERY.items():
        monkeypatch.setenv(name, value)
    world = build_world()
    for metres in (0, 50, 100, 150):
        seizure(*north_of(15.6, 5.93, metres))

    first = start_celery_worker("analysis-killed")
    try:
        with table_locked("geo_incidentcluster"):
            run = analysis_run_request(
                requester=world.users["admin"],
                kind="clusters",
                parameters={"distance_m": 150, "min_incidents": 3},
                incident_filter={"kind": ["cache_discovery"]},
            )
            wait_for(
                lambda: (
                    AnalysisRun.objects.filter(pk=run.pk, state="running").exists()
                    and waiting_on_a_lock()
                ),
                what="the run to compute and wait to store its result",
            )
            killed_at = time.monotonic()
            kill_worker(first)
    finally:
        if first.poll() is None:
            stop_celery_worker(first)
    assert not IncidentCluster.objects.filter(run=run).exists()

    second = start_celery_worker("analysis-restarted")
    try:
        run = wait_for(
            lambda: AnalysisRun.objects.filter(pk=run.pk, state="done").first(),
            what="the run to be delivered again and finish",
        )
        redelivered_after = time.monotonic() - killed_at
    finally:
        stop_celery_worker(second)

    assert run.attempts == 2
    assert AnalysisRun.objects.count() == 1
    assert run.result["summary"]["clusters"] == 1
    assert IncidentCluster.objects.filter(run=run).count() == 1
    with capsys.disabled():
        print(
            f"\nclusters analysis: worker SIGKILLed mid-run; redelivered to a new worker and "
            f"finished after {redelivered_after:.0f} s, attempt 2; one result stored"
        )


# --- PostgreSQL drops every connection while requests run ------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def terminate_backends_of_others(*spared) -> int:
    """pg_terminate_backend on every connection to the test database but the test's own
    (and the `spared` psycopg2 connections)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        own = cursor.fetchone()[0]
    with _own_connection() as admin, admin.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND NOT pid = ANY(%s) AND backend_type = 'client backend'",
            [[own, *(spare.get_backend_pid() for spare in spared)]],
        )
        count = cursor.fetchone()[0]
    admin.close()
    return count


@pytest.mark.django_db(transaction=True)
def test_terminated_database_connections_cost_at_most_one_request_per_process(capsys):
    world = build_world()
    key = world.api_keys["partner_agency"]
    port = _free_port()
    processes = 2
    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
        "REDIS_URL": settings.REDIS_URL,
        "CONN_MAX_AGE": "600",  # connections kept: each process holds one to lose
        "API_RATE_AGENCY": "1000000/hour",
    }
    server = subprocess.Popen(
        [
            os.path.join(os.path.dirname(sys.executable), "gunicorn"),
            "armsmonitor.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(processes),
            "--log-level",
            "warning",
        ],
        cwd=PROJECT_DIR,
        env=environment,
    )
    url = f"http://127.0.0.1:{port}/api/v1/incidents?limit=5"

    def get() -> int:
        request = urllib.request.Request(url, headers={"Authorization": f"Api-Key {key}"})
        try:
            with urllib.request.urlopen(request, timeout=SAFETY_SECONDS) as answer:
                answer.read()
                return answer.status
        except urllib.error.HTTPError as error:
            return error.code
        except OSError:
            return 0

    try:
        wait_for(lambda: get() == 200, what="gunicorn to answer")
        results: list[tuple[int, int]] = []  # (round, status)
        round_number = 0
        stop = threading.Event()

        def client() -> None:
            while not stop.is_set():
                results.append((round_number, get()))

        threads = [threading.Thread(target=client) for _ in range(4)]
        for thread in threads:
            thread.start()
        terminated = []
        for round_number in range(1, 4):  # noqa: B007 - read by the client threads
            time.sleep(1.5)
            terminated.append(terminate_backends_of_others())
        time.sleep(1.5)
        round_number = 4
        time.sleep(1.5)
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        server.terminate()
        server.wait(timeout=30)

    failures = [(round_, status) for round_, status in results if status != 200]
    after_last = [status for round_, status in results if round_ == 4]
    with capsys.disabled():
        print(
            f"\n{len(results)} requests to {processes} gunicorn processes, backends terminated "
            f"3 times ({terminated} connections): {len(failures)} failed {failures}; "
            f"{len(after_last)} requests after the last termination, all 200: "
            f"{set(after_last) == {200}}"
        )
    assert all(count >= 1 for count in terminated)
    # Each termination costs at most the request each process had in flight.
    assert len(failures) <= processes * len(terminated), failures
    assert after_last and set(after_last) == {200}


@pytest.mark.django_db(transaction=True)
def test_a_worker_whose_connection_is_terminated_mid_task_fails_that_task_only(monkeypatch):
    """Celery's Django fix-up closes the connection after each task, so an idle worker has
    none to lose; a task whose connection dies under it fails, and the next one, on the same
    worker, opens a fresh connection and succeeds."""
    from incidents.tasks import summarise_mission

    world = build_world()
    mission = world.records["alpha_draft_L1"].mission
    worker = start_celery_worker("reconnecting")
    try:
        first = summarise_mission.delay(mission.pk).get(timeout=SAFETY_SECONDS)
        with table_locked("incidents_incident") as locker:
            stranded = summarise_mission.delay(mission.pk)
            wait_for(waiting_on_a_lock, what="the task to wait on the locked table")
            assert terminate_backends_of_others(locker) >= 1
            with pytest.raises(Exception, match=r"terminat|closed the connection"):
                stranded.get(timeout=SAFETY_SECONDS)
        third = summarise_mission.delay(mission.pk).get(timeout=SAFETY_SECONDS)
        assert worker.poll() is None
    finally:
        stop_celery_worker(worker)
    assert first == third

"""Background jobs always finish or fail clearly (issue 26): each job is owned by one
attempt, which beats a heartbeat; the watchdog (Celery beat) sends again the jobs whose task
was lost or whose worker died, and fails with a reason those past their hard time limit or
out of attempts. /healthz counts stuck jobs; a request made while the broker is down
answers 503.

The real-process tests run their workers and a beat with leases of seconds, and wait on
events with long safety timeouts. To stop a job at a known point they hold an exclusive
lock on a table it must write (as tests/test_faults.py does). The Redis restart happens to a
Redis server of the test's own, without persistence, so that the restart loses the queue.
"""

import os
import signal
import subprocess
import sys
import time
from datetime import timedelta

import kombu.exceptions
import kombu.pools
import pytest
import redis
from celery.app.task import Task
from django.core.files.base import ContentFile
from django.utils import timezone

from armsmonitor.celery import app as celery_app
from armsmonitor.jobs import (
    JOB_KINDS,
    claim_fields,
    claimable,
    job_enqueue,
    job_may_run,
    jobs_watchdog,
    owned,
)
from geo.analyses.services import analysis_run_request
from geo.core.boundaries import countries_load
from geo.models import AnalysisRun, IncidentCluster
from geo.tasks import execute_analysis_run
from incidents.models import ImportJob, Incident
from incidents.tasks import run_import_job
from organisations.models import AuditEvent
from tests.analysis_layouts import north_of, seizure
from tests.conftest import PROJECT_DIR, _database_url, start_celery_worker, stop_celery_worker
from tests.personas import build_world
from tests.test_faults import (
    _free_port,
    import_file,
    kill_worker,
    table_locked,
    waiting_on_a_lock,
)
from tests.waiting import SAFETY_SECONDS, wait_for

CLUSTERS = {"distance_m": 150, "min_incidents": 3}
CLUSTERS_WIDE = {"distance_m": 300, "min_incidents": 3}
# The workers and the beat of the real-process tests: leases of seconds.
SHORT_LEASES = {
    "JOB_LEASE_SECONDS": "4",
    "JOB_QUEUED_SECONDS": "5",
    "JOB_WATCHDOG_INTERVAL": "3",
    "JOB_MAX_ATTEMPTS": "3",
}
# Limits that fire while a job waits on a locked table. The soft limit cannot stop a
# statement waiting on a lock (its signal is handled only once the statement returns): the
# hard one does. The soft one leaves a job on a loaded machine the time to reach the table.
SHORT_LIMITS = {
    "IMPORT_SOFT_TIME_LIMIT": "15",
    "IMPORT_TIME_LIMIT": "20",
    "ANALYSIS_SOFT_TIME_LIMIT": "15",
    "ANALYSIS_TIME_LIMIT": "20",
}


def import_job(world, rows: int, *, prefix: str = "KILL") -> ImportJob:
    job = ImportJob(
        file_format="csv",
        original_name="lease.csv",
        contingent=world.records["alpha_draft_L1"].contingent,
        requested_by=world.users["reporter_alpha"],
    )
    job.file.save("import.csv", ContentFile(import_file(rows, prefix=prefix)), save=False)
    job.save()
    return job


def clusters_run(world) -> AnalysisRun:
    return analysis_run_request(
        requester=world.users["admin"],
        kind="clusters",
        parameters=CLUSTERS,
        incident_filter={"kind": ["cache_discovery"]},
    )


# --- the claim and the owner's writes --------------------------------------------------


@pytest.mark.django_db
def test_only_the_delivery_the_job_waits_for_or_one_after_a_lapsed_lease_takes_a_running_job(
    settings,
):
    settings.JOB_LEASE_SECONDS = 60
    job = import_job(build_world(), 1)
    job.task_id = "sent"
    assert claimable(job, "another copy"), "a queued job goes to whichever delivery comes"
    job.state = "running"
    claim_fields(job, "sent")
    assert claimable(job, "sent"), "the task delivered again after its worker was lost"
    assert not claimable(job, "another copy"), "a copy while the owner still beats"
    job.heartbeat_at = timezone.now() - timedelta(seconds=61)
    assert claimable(job, "another copy"), "the owner's lease lapsed"


@pytest.mark.django_db
def test_an_attempt_that_lost_its_job_writes_nothing():
    job = import_job(build_world(), 1)
    ImportJob.objects.filter(pk=job.pk).update(state="running", attempts=2)

    assert owned(ImportJob, job.pk, 1).update(state="done") == 0
    assert owned(ImportJob, job.pk, 2).update(state="done") == 1


@pytest.mark.django_db
def test_a_task_delivered_again_after_its_hard_limit_killed_it_fails_the_job_with_the_limit(
    settings,
):
    settings.JOB_LEASE_SECONDS, settings.IMPORT_TIME_LIMIT = 4, 60
    world = build_world()
    killed_by_limit, lost_early = import_job(world, 1), import_job(world, 1)
    started = timezone.now() - timedelta(seconds=70)
    for job, beat_until in ((killed_by_limit, 59), (lost_early, 10)):
        ImportJob.objects.filter(pk=job.pk).update(
            state="running",
            attempts=1,
            task_id="sent",
            attempt_started_at=started,
            heartbeat_at=started + timedelta(seconds=beat_until),
        )

    assert not job_may_run(ImportJob.objects.get(pk=killed_by_limit.pk), "sent")
    assert job_may_run(ImportJob.objects.get(pk=lost_early.pk), "sent")
    killed_by_limit.refresh_from_db()
    assert killed_by_limit.state == "failed"
    assert "time limit of 60 seconds" in killed_by_limit.report["file_error"]


# --- the watchdog -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_watchdog_sends_again_a_lost_task_and_a_job_whose_worker_died(settings):
    settings.JOB_LEASE_SECONDS, settings.JOB_QUEUED_SECONDS = 60, 600
    world = build_world()
    lost, dead, fresh = (import_job(world, 1) for _ in range(3))
    long_ago = timezone.now() - timedelta(hours=1)
    ImportJob.objects.filter(pk=lost.pk).update(task_id="lost", enqueued_at=long_ago)
    ImportJob.objects.filter(pk=dead.pk).update(
        state="running",
        attempts=1,
        task_id="dead",
        attempt_started_at=timezone.now(),
        heartbeat_at=timezone.now() - timedelta(seconds=61),
    )
    ImportJob.objects.filter(pk=fresh.pk).update(task_id="fresh", enqueued_at=timezone.now())

    assert jobs_watchdog() == {"requeued": 2, "failed": 0}

    lost.refresh_from_db(), dead.refresh_from_db(), fresh.refresh_from_db()
    # A run that died counted its attempt when it started; a task never run counts none.
    assert (lost.state, lost.attempts) == ("queued", 0)
    assert (dead.state, dead.attempts) == ("queued", 1)
    assert lost.task_id not in ("", "lost") and dead.task_id not in ("", "dead")
    assert fresh.task_id == "fresh"


@pytest.mark.django_db
def test_the_watchdog_fails_with_a_reason_a_job_past_its_limit_or_out_of_attempts(settings):
    settings.JOB_LEASE_SECONDS, settings.JOB_MAX_ATTEMPTS = 60, 3
    settings.IMPORT_TIME_LIMIT = 600
    world = build_world()
    past_limit, out_of_attempts = import_job(world, 1), import_job(world, 1)
    silent = timezone.now() - timedelta(seconds=61)
    ImportJob.objects.filter(pk=past_limit.pk).update(
        state="running",
        attempts=1,
        heartbeat_at=silent,
        attempt_started_at=timezone.now() - timedelta(seconds=601),
    )
    ImportJob.objects.filter(pk=out_of_attempts.pk).update(
        state="running", attempts=3, heartbeat_at=silent, attempt_started_at=silent
    )

    assert jobs_watchdog() == {"requeued": 0, "failed": 2}

    past_limit.refresh_from_db(), out_of_attempts.refresh_from_db()
    assert past_limit.state == out_of_attempts.state == "failed"
    assert "time limit of 600 seconds" in past_limit.report["file_error"]
    assert "after 3 attempts" in out_of_attempts.report["file_error"]


@pytest.mark.django_db
def test_an_identical_request_never_gets_back_a_run_whose_lease_lapsed(settings):
    settings.JOB_QUEUED_SECONDS = 600
    world = build_world()
    for metres in (0, 50, 100):
        seizure(*north_of(15.6, 5.93, metres))
    first = clusters_run(world)
    AnalysisRun.objects.filter(pk=first.pk).update(
        task_id="lost", enqueued_at=timezone.now() - timedelta(hours=1)
    )

    again = clusters_run(world)

    assert again.pk == first.pk and again.reused
    assert again.task_id != "lost", "sent again with a fresh lease"
    assert again.enqueued_at > timezone.now() - timedelta(minutes=1)


@pytest.mark.django_db
def test_healthz_counts_stuck_jobs_and_turns_503_above_the_threshold(client, settings):
    settings.JOB_QUEUED_SECONDS, settings.STUCK_JOBS_HEALTH_THRESHOLD = 600, 0
    job = import_job(build_world(), 1)
    ImportJob.objects.filter(pk=job.pk).update(
        task_id="lost", enqueued_at=timezone.now() - timedelta(hours=1)
    )

    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["jobs"]["stuck"] == 1
    assert response.json()["jobs"]["by_kind"]["incidents.ImportJob"] == 1
    settings.STUCK_JOBS_HEALTH_THRESHOLD = 1
    assert client.get("/healthz").json()["jobs"]["ok"] is True


# --- the broker down --------------------------------------------------------------------


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise kombu.exceptions.OperationalError("Error 111 connecting to 127.0.0.1:6379.")

    monkeypatch.setattr(Task, "apply_async", refuse)


@pytest.mark.django_db(transaction=True)
def test_asking_for_an_analysis_while_the_broker_is_down_answers_503_with_a_message(
    client, broker_down
):
    world = build_world()
    for metres in (0, 50, 100):
        seizure(*north_of(15.6, 5.93, metres))
    client.force_login(world.users["admin"])

    api = client.post(
        "/api/v1/analyses",
        {"kind": "clusters", "parameters": CLUSTERS, "filter": {"kind": ["cache_discovery"]}},
        content_type="application/json",
    )
    page = client.post(
        "/analyses/?kind=clusters",
        {"parameters-distance_m": "150", "parameters-min_incidents": "3"},
    )

    assert api.status_code == 503
    assert "task queue is unreachable" in api.json()["detail"]
    assert page.status_code == 503
    assert "task queue is unreachable" in page.content.decode()
    # Kept, with no task: the watchdog sends it after one lease.
    assert set(AnalysisRun.objects.values_list("state", "task_id")) == {("queued", "")}


# --- real processes: a worker killed whole, a lost task, hard limits --------------------


def start_beat(tmp_path) -> subprocess.Popen:
    """A real `celery beat`, sending the watchdog every JOB_WATCHDOG_INTERVAL seconds."""
    from django.conf import settings

    environment = {
        **os.environ,
        "DATABASE_URL": _database_url(settings.DATABASES["default"]),
        "REDIS_URL": settings.REDIS_URL,
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "armsmonitor",
            "beat",
            "--loglevel",
            "WARNING",
            "--schedule",
            str(tmp_path / "beat-schedule"),
        ],
        cwd=PROJECT_DIR,
        env=environment,
    )


def stop_beat(beat) -> None:
    beat.terminate()
    try:
        beat.wait(timeout=30)
    except subprocess.TimeoutExpired:
        beat.kill()


@pytest.mark.django_db(transaction=True)
def test_an_import_whose_whole_worker_is_killed_finishes_once_within_lease_and_a_beat(
    monkeypatch, tmp_path, capsys
):
    for name, value in SHORT_LEASES.items():
        monkeypatch.setenv(name, value)
    countries_load(scale="110m")
    world = build_world()
    rows = 2_000
    job = import_job(world, rows)
    before = Incident.objects.count()
    beat = start_beat(tmp_path)
    first = start_celery_worker("lease-killed")
    second = None
    try:
        with table_locked("incidents_incident"):
            job_enqueue(job=job)
            wait_for(
                lambda: (
                    ImportJob.objects.filter(pk=job.pk, state="running").exists()
                    and waiting_on_a_lock()
                ),
                seconds=SAFETY_SECONDS,
                what="the import to wait to write",
            )
            killed_at = time.monotonic()
            kill_worker(first)
            # The killed worker's backend ends at its next socket check (5 s).
            wait_for(lambda: not waiting_on_a_lock(), seconds=SAFETY_SECONDS, what="the backend")
        second = start_celery_worker("lease-second")
        done = wait_for(
            lambda: ImportJob.objects.filter(pk=job.pk, state="done").first(),
            seconds=SAFETY_SECONDS,
            what="the watchdog to send the import again and a worker to finish it",
        )
        recovered_after = time.monotonic() - killed_at
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                stop_celery_worker(process)
        stop_beat(beat)

    assert done.report["incidents_created"] == rows
    assert Incident.objects.count() == before + rows
    assert AuditEvent.objects.filter(action="import.csv").count() == 1
    assert done.attempts == 2
    with capsys.disabled():
        print(
            f"\nimport of {rows:,} rows, whole worker SIGKILLed: finished once after "
            f"{recovered_after:.1f} s (lease 4 s, beat 3 s, a new worker's start included); "
            f"incidents {before:,} -> {Incident.objects.count():,}"
        )


@pytest.mark.django_db(transaction=True)
def test_a_queued_job_whose_task_was_lost_is_sent_again_and_finishes(monkeypatch, tmp_path, capsys):
    for name, value in SHORT_LEASES.items():
        monkeypatch.setenv(name, value)
    countries_load(scale="110m")
    job = import_job(build_world(), 10)
    # Sent once to a broker that lost it (a Redis restart without persistence).
    ImportJob.objects.filter(pk=job.pk).update(task_id="lost-in-redis", enqueued_at=timezone.now())
    lost_at = time.monotonic()
    beat = start_beat(tmp_path)
    worker = start_celery_worker("lease-lost-task")
    try:
        done = wait_for(
            lambda: ImportJob.objects.filter(pk=job.pk, state="done").first(),
            seconds=SAFETY_SECONDS,
            what="the watchdog to send the lost import again",
        )
        recovered_after = time.monotonic() - lost_at
    finally:
        stop_celery_worker(worker)
        stop_beat(beat)

    assert done.report["incidents_created"] == 10
    with capsys.disabled():
        print(f"\nqueued import whose task was lost: finished after {recovered_after:.1f} s")


# --- hard limits: a job stopped by its limit ends failed, and stays so -----------------


@pytest.fixture
def limits_of_seconds(monkeypatch):
    """Workers and a beat whose imports and analyses have hard limits of seconds, and
    leases of seconds. The test process sends the tasks as a web process does, with its
    own settings (limits of an hour): the worker must apply its own."""
    for name, value in {**SHORT_LEASES, **SHORT_LIMITS}.items():
        monkeypatch.setenv(name, value)


def stopped_by_its_hard_limit(model, *, table: str, send, tmp_path):
    """Send a job (`send` sends it and returns it) to a prefork worker (the solo pool
    applies no time limit) while `table`, which the job must write, is locked: the job waits
    there until its hard limit kills the worker's child, and the beat's watchdog fails it.
    The job as it ended, and the seconds from its limit to its failure (by the database's
    own timestamps)."""
    beat = start_beat(tmp_path)
    worker = start_celery_worker("hard-limit", pool="prefork")
    try:
        with table_locked(table):
            job = send()
            state = wait_for(
                lambda: (
                    "waiting"
                    if model.objects.filter(pk=job.pk, state="running").exists()
                    and waiting_on_a_lock()
                    else model.objects.filter(pk=job.pk, finished_at__isnull=False)
                    .values_list("state", flat=True)
                    .first()
                ),
                seconds=SAFETY_SECONDS,
                what="the job to wait to write",
            )
            assert state == "waiting", f"the job ended {state} before it reached {table}"
            failed = wait_for(
                lambda: model.objects.filter(pk=job.pk, state="failed").first(),
                seconds=SAFETY_SECONDS,
                what="the hard limit to stop the job and the watchdog to fail it",
            )
            # The killed child's backend ends at its next socket check (5 s): nothing it
            # held is written once the table is free.
            wait_for(lambda: not waiting_on_a_lock(), seconds=SAFETY_SECONDS, what="the backend")
    finally:
        stop_celery_worker(worker)
        stop_beat(beat)
    kind = next(kind for kind in JOB_KINDS if kind.model == model._meta.label)
    limit = int(SHORT_LIMITS[kind.time_limit_setting])
    stopped_at = failed.attempt_started_at + timedelta(seconds=limit)
    return failed, (failed.finished_at - stopped_at).total_seconds()


def delivered_late(task, job_id: int) -> None:
    """A late copy of the job's task, run to its end by a worker, the table free."""
    worker = start_celery_worker("late-copy")
    try:
        task.delay(job_id).get(timeout=SAFETY_SECONDS)
    finally:
        stop_celery_worker(worker)


def as_stored(model, pk: int) -> dict:
    return model.objects.filter(pk=pk).values().get()


@pytest.mark.django_db(transaction=True)
def test_an_import_stopped_by_its_hard_limit_fails_with_a_message_and_a_late_copy_changes_nothing(
    limits_of_seconds, tmp_path, capsys
):
    countries_load(scale="110m")
    job = import_job(build_world(), 10)
    before = Incident.objects.count()

    def send():
        job_enqueue(job=job)
        return job

    failed, limit_to_failed = stopped_by_its_hard_limit(
        ImportJob, table="incidents_incident", send=send, tmp_path=tmp_path
    )
    stored = as_stored(ImportJob, job.pk)
    delivered_late(run_import_job, job.pk)

    assert failed.report["ok"] is False
    assert "time limit of 20 seconds" in failed.report["file_error"]
    assert as_stored(ImportJob, job.pk) == stored
    assert Incident.objects.count() == before
    assert not AuditEvent.objects.filter(action="import.csv").exists()
    with capsys.disabled():
        print(
            f"\nimport held past its hard limit (20 s): failed {limit_to_failed:.1f} s after "
            f"the limit, attempt {failed.attempts}: {failed.report['file_error']!r}; "
            f"incidents {before:,} -> {Incident.objects.count():,} after a late copy too"
        )


@pytest.mark.django_db(transaction=True)
def test_an_analysis_stopped_by_its_hard_limit_fails_with_a_message_and_a_late_copy_changes_nothing(
    limits_of_seconds, tmp_path, capsys
):
    world = build_world()
    for metres in (0, 50, 100):
        seizure(*north_of(15.6, 5.93, metres))

    failed, limit_to_failed = stopped_by_its_hard_limit(
        AnalysisRun,
        table="geo_incidentcluster",
        send=lambda: clusters_run(world),
        tmp_path=tmp_path,
    )
    stored = as_stored(AnalysisRun, failed.pk)
    delivered_late(execute_analysis_run, failed.pk)

    assert "time limit of 20 seconds" in failed.error
    assert failed.result in (None, {})
    assert as_stored(AnalysisRun, failed.pk) == stored
    assert not IncidentCluster.objects.exists()
    with capsys.disabled():
        print(
            f"\nclusters analysis held past its hard limit (20 s): failed {limit_to_failed:.1f} s "
            f"after the limit, attempt {failed.attempts}: {failed.error!r}; clusters stored "
            f"0 -> {IncidentCluster.objects.count()} after a late copy too"
        )


# --- the broker loses its queue ---------------------------------------------------------


def use_broker(url: str) -> None:
    """Point this process's Celery app at the broker `url`, with fresh connections."""
    celery_app.conf.broker_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None
    kombu.pools.reset()  # closed and forgotten: new connections are made on next use


@pytest.fixture
def private_redis(tmp_path, settings):
    """A Redis server of the test's own, without persistence (as a Redis restarted without
    its append-only file): the broker of this process, of the workers and of the beat. Its
    client is returned, with `kill` (SIGKILL) and `start` (a new server on the same port,
    empty)."""
    port = _free_port()
    url = f"redis://127.0.0.1:{port}/0"
    command = [
        "/usr/bin/redis-server",
        "--port",
        str(port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--dir",
        str(tmp_path),
    ]
    client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=5)
    server = {}

    def answers() -> bool:
        try:
            return client.ping()
        except redis.ConnectionError:
            return False

    def start() -> None:
        server["process"] = subprocess.Popen(command, stdout=subprocess.DEVNULL)
        wait_for(answers, seconds=SAFETY_SECONDS, what="the private Redis to answer")
        use_broker(url)  # connections to a server killed before are dead

    def kill() -> None:
        os.kill(server["process"].pid, signal.SIGKILL)
        server["process"].wait(timeout=30)

    original = celery_app.conf.broker_url
    start()
    settings.REDIS_URL = url  # the workers' and the beat's broker (tests/conftest.py)
    client.start, client.kill = start, kill
    try:
        yield client
    finally:
        use_broker(original)
        server["process"].kill()
        server["process"].wait(timeout=30)


@pytest.mark.django_db(transaction=True)
def test_after_a_redis_restart_every_queued_job_finishes_or_fails_with_a_reason(
    private_redis, client, monkeypatch, tmp_path, capsys
):
    from django.conf import settings

    for name, value in SHORT_LEASES.items():
        monkeypatch.setenv(name, value)
    countries_load(scale="110m")
    world = build_world()
    for metres in (0, 50, 100):
        seizure(*north_of(15.6, 5.93, metres))
    rows = 200
    imports = [import_job(world, rows, prefix=f"REDIS{number}") for number in range(3)]
    incidents_before = Incident.objects.count()
    for job in imports:
        job_enqueue(job=job)
    analyses = [
        analysis_run_request(
            requester=world.users["admin"],
            kind="clusters",
            parameters={"distance_m": metres, "min_incidents": 3},
            incident_filter={"kind": ["cache_discovery"]},
        )
        for metres in (150, 200, 250)
    ]
    queue = settings.CELERY_TASK_DEFAULT_QUEUE
    assert private_redis.llen(queue) == 6, "sent, no worker yet"

    private_redis.kill()
    # Asked for while Redis is down: answered 503, and kept without a task.
    client.force_login(world.users["admin"])
    asked = client.post(
        "/api/v1/analyses",
        {"kind": "clusters", "parameters": CLUSTERS_WIDE, "filter": {"kind": ["cache_discovery"]}},
        content_type="application/json",
    )
    assert asked.status_code == 503, asked.content
    assert "task queue is unreachable" in asked.json()["detail"]
    asked_while_down = AnalysisRun.objects.get(parameters=CLUSTERS_WIDE)
    assert (asked_while_down.state, asked_while_down.task_id) == ("queued", "")
    analyses.append(asked_while_down)
    private_redis.start()
    restarted_at = time.monotonic()
    assert private_redis.llen(queue) == 0, "the queue was lost"
    beat, worker = start_beat(tmp_path), None
    try:
        worker = start_celery_worker("after-redis-restart")
        wait_for(
            lambda: (
                not (
                    ImportJob.objects.filter(state__in=("queued", "running")).exists()
                    or AnalysisRun.objects.filter(state__in=("queued", "running")).exists()
                )
            ),
            seconds=SAFETY_SECONDS,
            what="every job to finish or fail after the Redis restart",
        )
        recovered_after = time.monotonic() - restarted_at
    finally:
        if worker is not None:
            stop_celery_worker(worker)
        stop_beat(beat)

    imports = [ImportJob.objects.get(pk=job.pk) for job in imports]
    analyses = [AnalysisRun.objects.get(pk=run.pk) for run in analyses]
    outcomes = [(job.state, job.attempts) for job in (*imports, *analyses)]
    for job in imports:
        assert job.state in ("done", "failed"), job.state
        assert job.state == "done" or job.report["file_error"], job.report
    for run in analyses:
        assert run.state in ("done", "failed"), run.state
        assert run.state == "done" or run.error
    for number, job in enumerate(imports):
        created = Incident.objects.filter(external_reference__startswith=f"REDIS{number}-")
        assert created.count() == (rows if job.state == "done" else 0), job.report
        assert created.values("external_reference").distinct().count() == created.count()
    assert AuditEvent.objects.filter(action="import.csv").count() == sum(
        job.state == "done" for job in imports
    )
    with capsys.disabled():
        print(
            f"\nRedis restarted (no persistence) with 3 imports and 3 analyses queued, and "
            f"one analysis asked for while it was down (503): all "
            f"settled {recovered_after:.1f} s after the restart (a worker's and a beat's start "
            f"included); (state, attempts) {outcomes}; incidents {incidents_before:,} -> "
            f"{Incident.objects.count():,} ({rows} per import)"
        )


# --- the nearest-place work -------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_one_copy_of_the_nearest_place_work_runs_at_a_time_and_fills_every_place():
    from django.contrib.gis.geos import Point

    from geo.models import Place
    from incidents.services import NEAREST_PLACES_LOCK, incidents_assign_missing_nearest_places
    from tests.test_faults import _own_connection

    build_world()
    Place.objects.create(
        geonameid=1, name="Bangui", search_name="bangui", country="CAF", point=Point(18.55, 4.36)
    )
    Incident.objects.update(nearest_place=None)
    other = _own_connection()
    try:
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_lock(%s)", [NEAREST_PLACES_LOCK])
        assert incidents_assign_missing_nearest_places() is None, "another copy runs"
        # Released outright: a closed connection's backend lets go of its locks only once
        # the server has noticed, which a busy machine may not have done by the next line.
        with other.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [NEAREST_PLACES_LOCK])
    finally:
        other.close()

    assert incidents_assign_missing_nearest_places(batch=2) == Incident.objects.count()
    assert not Incident.objects.filter(nearest_place__isnull=True).exists()
    assert incidents_assign_missing_nearest_places() == 0, "idempotent"

"""The one life cycle of every background job (armsmonitor/jobs.py, issue 25): a claim
starts an attempt, its progress only moves forward, its end or its failure is written only
while it owns the job, and a job whose lease expired is sent again and finished by a real
worker. One status view (armsmonitor/job_status.py) answers for the three kinds, each with
its own access rule.

The tests that need a worker use the session's real Celery worker and wait for the task's
result (an event) with a long safety timeout, never a deadline the machine must keep.
"""

from datetime import date, timedelta

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.utils import timezone

from armsmonitor.celery import app as celery_app
from armsmonitor.jobs import (
    JobAttempt,
    JobFailed,
    JobLost,
    JobMessages,
    job_claim,
    job_run,
    jobs_watchdog,
)
from geo.models import AnalysisRun
from incidents.models import ImportJob
from reports.models import Report
from tests.analysis_layouts import north_of, seizure
from tests.personas import build_world
from tests.test_job_leases import import_job
from tests.waiting import SAFETY_SECONDS

MESSAGES = JobMessages(
    time_limit=lambda: "Stopped by its time limit.",
    unexpected=lambda error: f"Unexpected: {type(error).__name__}",
)


def analysis_run(world, *, by: str = "admin", key: str = "k") -> AnalysisRun:
    return AnalysisRun.objects.create(
        kind="clusters",
        parameters={"distance_m": 150, "min_incidents": 3},
        incident_filter={"kind": ["cache_discovery"]},
        requested_by=world.users[by],
        request_key=key,
        data_fingerprint="f",
    )


def report(world, *, by: str) -> Report:
    return Report.objects.create(
        template="mission_monthly",
        scope_kind="mission",
        scope_value="1",
        scope_label="MINUSCA",
        period_start=date(2025, 3, 1),
        period_end=date(2025, 3, 31),
        requested_by=world.users[by],
        request_key=f"report-of-{by}",
        data_fingerprint="f",
    )


def run_body(job, body) -> None:
    job_run(type(job), job.pk, body=body, messages=MESSAGES)
    job.refresh_from_db()


# --- progress ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_progress_only_moves_forward_stays_below_100_until_the_end_and_restarts_with_a_claim():
    run = analysis_run(build_world())
    seen = []

    def body(attempt: JobAttempt) -> None:
        for percent in (40, 20, 60, 150):
            attempt.progress(percent)
            seen.append(AnalysisRun.objects.get(pk=run.pk).progress)
        attempt.finish(result={})

    run_body(run, body)

    assert seen == [40, 40, 60, 99], "a step reported late never moves the bar back"
    assert (run.state, run.progress) == ("done", 100)
    AnalysisRun.objects.filter(pk=run.pk).update(state="queued")
    assert job_claim(AnalysisRun, run.pk).job.progress == 0, "a new attempt starts from 0"


@pytest.mark.django_db
def test_a_claim_sets_back_what_the_kind_reports_as_it_goes():
    job = import_job(build_world(), 1)
    ImportJob.objects.filter(pk=job.pk).update(rows_checked=500, stage="writing")

    attempt = job_claim(ImportJob, job.pk, task_id="sent")

    stored = ImportJob.objects.get(pk=job.pk)
    assert (stored.state, stored.rows_checked, stored.stage) == ("running", 0, "")
    assert (stored.attempts, stored.task_id) == (attempt.number, "sent") == (1, "sent")
    assert job_claim(ImportJob, job.pk, task_id="another copy") is None, "the owner still beats"


@pytest.mark.django_db
def test_an_attempt_that_lost_its_job_records_neither_progress_nor_an_end():
    run = analysis_run(build_world())
    first = job_claim(AnalysisRun, run.pk)
    # Its lease lapsed and the watchdog sent the run again; a second attempt took it.
    AnalysisRun.objects.filter(pk=run.pk).update(state="queued")
    second = job_claim(AnalysisRun, run.pk)

    assert not first.progress(50)
    assert not first.finish(result={"stale": True})
    assert not first.fail("too late")
    assert second.progress(30)
    stored = AnalysisRun.objects.get(pk=run.pk)
    assert (stored.state, stored.progress, stored.result, stored.error) == ("running", 30, None, "")


# --- failing ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_failure_is_recorded_with_the_reason_the_user_reads_for_every_kind():
    world = build_world()
    run, job = analysis_run(world), import_job(world, 1)

    def refuse(attempt: JobAttempt) -> None:
        raise JobFailed("The filter reads no incident.")

    for failing in (run, job):
        run_body(failing, refuse)

    assert (run.state, run.error, run.error_message) == (
        "failed",
        "The filter reads no incident.",
        "The filter reads no incident.",
    )
    assert run.finished_at is not None
    # The import's page reads why it failed where it reads the file's problems.
    assert job.state == "failed" and job.stage == "done"
    assert job.report == {
        "ok": False,
        "file_error": "The filter reads no incident.",
        "problem_count": 0,
        "problems": [],
    }
    assert job.error_message == "The filter reads no incident."


@pytest.mark.django_db
def test_a_time_limit_or_an_unexpected_error_fails_the_job_with_the_kinds_message():
    world = build_world()
    stopped, broken = analysis_run(world, key="a"), analysis_run(world, key="b")

    def too_long(attempt: JobAttempt) -> None:
        raise SoftTimeLimitExceeded

    def bug(attempt: JobAttempt) -> None:
        raise ZeroDivisionError

    run_body(stopped, too_long)
    with pytest.raises(ZeroDivisionError):  # raised again, for the worker's log
        run_body(broken, bug)
    broken.refresh_from_db()

    assert (stopped.state, stopped.error) == ("failed", "Stopped by its time limit.")
    assert (broken.state, broken.error) == ("failed", "Unexpected: ZeroDivisionError")


@pytest.mark.django_db
def test_a_body_whose_job_was_taken_from_it_leaves_its_writes_undone():
    run = analysis_run(build_world())

    def cancelled_meanwhile(attempt: JobAttempt) -> None:
        AnalysisRun.objects.filter(pk=run.pk).update(state="cancelled")
        if not attempt.progress(10):
            raise JobLost

    run_body(run, cancelled_meanwhile)

    assert (run.state, run.progress, run.error) == ("cancelled", 0, "")


# --- the lease expires: the watchdog sends the job again, a real worker finishes it -----


@pytest.mark.django_db(transaction=True)
def test_a_job_whose_lease_expired_is_sent_again_and_a_real_worker_finishes_it_once(
    settings, celery_worker_process
):
    settings.JOB_LEASE_SECONDS = 60
    world = build_world()
    for metres in (0, 50, 100):
        seizure(*north_of(15.6, 5.93, metres))
    run = analysis_run(world)
    # Its worker died a while ago, half way through: no heartbeat since.
    AnalysisRun.objects.filter(pk=run.pk).update(
        state="running",
        attempts=1,
        task_id="dead",
        progress=50,
        attempt_started_at=timezone.now() - timedelta(minutes=10),
        heartbeat_at=timezone.now() - timedelta(minutes=9),
    )

    assert jobs_watchdog() == {"requeued": 1, "failed": 0}
    requeued = AnalysisRun.objects.get(pk=run.pk)
    assert (requeued.state, requeued.attempts) == ("queued", 1)
    celery_app.AsyncResult(requeued.task_id).get(timeout=SAFETY_SECONDS)

    done = AnalysisRun.objects.get(pk=run.pk)
    assert (done.state, done.progress, done.attempts) == ("done", 100, 2)
    assert done.task_id == requeued.task_id and done.result is not None
    assert jobs_watchdog() == {"requeued": 0, "failed": 0}, "nothing left to take up"


# --- one status view, each kind's access rule -------------------------------------------

STATUS_KEYS = {"state", "state_label", "finished", "progress", "rows_checked", "stage", "error"}


@pytest.mark.django_db
def test_the_three_kinds_answer_one_status_shape_to_whoever_may_read_them(client):
    world = build_world()
    run = analysis_run(world, by="mission_analyst")
    job = import_job(world, 1)  # sent by reporter_alpha
    asked = report(world, by="mission_analyst")
    Report.objects.filter(pk=asked.pk).update(state="running", progress=30, stage="Writing")

    client.force_login(world.users["mission_analyst"])
    run_status = client.get(f"/analyses/{run.pk}.json").json()
    report_status = client.get(f"/reports/{asked.pk}.json").json()
    client.force_login(world.users["reporter_alpha"])
    import_status = client.get(f"/incidents/import/{job.pk}.json").json()

    assert set(run_status) == set(report_status) == set(import_status) == STATUS_KEYS
    assert run_status == {
        "state": "queued",
        "state_label": "Queued",
        "finished": False,
        "progress": 0,
        "rows_checked": None,
        "stage": "",
        "error": "",
    }
    assert (report_status["state"], report_status["progress"], report_status["stage"]) == (
        "running",
        30,
        "Writing",
    )
    assert (import_status["progress"], import_status["rows_checked"]) == (None, 0)


@pytest.mark.django_db
def test_a_reader_never_sees_the_status_of_a_job_that_is_not_theirs(client):
    world = build_world()
    run = analysis_run(world, by="mission_analyst")
    job = import_job(world, 1)  # sent by reporter_alpha
    asked = report(world, by="mission_analyst")
    statuses = {
        "analysis": f"/analyses/{run.pk}.json",
        "import": f"/incidents/import/{job.pk}.json",
        "report": f"/reports/{asked.pk}.json",
    }

    assert all(client.get(url).status_code == 302 for url in statuses.values()), "signed out"
    # Runs and reports: those asked for by the reader (or scheduled for a mission the
    # reader reads whole); imports: only the reporter's own, whoever else may read them.
    for name in ("other_mission_analyst", "wps_analyst", "reporter_bravo", "nobody"):
        client.force_login(world.users[name])
        assert [client.get(url).status_code for url in statuses.values()] == [404] * 3, name
    client.force_login(world.users["admin"])
    answers = {kind: client.get(url).status_code for kind, url in statuses.items()}
    assert answers == {"analysis": 200, "import": 404, "report": 200}

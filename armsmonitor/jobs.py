"""The life cycle of every background job (analysis run, report, import): one module.

A job is a row (a LeasedJob) and a Celery task that takes its id. Its life cycle:
`job_enqueue` records the task and sends it once the transaction commits; `job_run` claims
the job for one attempt (`job_claim`), runs its body under a lease, and ends it: the body
records progress and its end through the `JobAttempt` it is given (`progress`,
`progress_now`, `finish`), and raises `JobFailed` to fail with a reason for the user or
`JobLost` when its attempt no longer owns the job; a soft time limit or an unexpected error
fails the job with the kind's message. The watchdog re-queues the jobs whose lease expired.
The status page's JSON is `armsmonitor/job_status.py`.

Each job stores the id of the task that should run it, when that task was sent, which
attempt owns it (`attempts`, raised by each claim) and a heartbeat. The attempt that owns a
job beats the heartbeat while it works; only that attempt may write the job's final state
(`UPDATE … WHERE attempts = :mine AND state = 'running'`), so a late second delivery changes
nothing. The watchdog (a Celery beat task) sends again the jobs whose task was lost (queued
too long) or whose worker died (heartbeat older than the lease), and fails them with a
reason after JOB_MAX_ATTEMPTS attempts or once they ran past their hard time limit.

The job kinds are named by strings (model label, task name) so that this module, at the
bottom of the layers, imports none of the apps.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module
from typing import Any

import psycopg2
from celery.exceptions import SoftTimeLimitExceeded
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connections, models, transaction
from django.db.models import F, Q, Value
from django.db.models.functions import Greatest
from django.utils import timezone, translation

logger = logging.getLogger(__name__)


class LeasedJob(models.Model):
    """The fields of a job's lease, shared by the three job kinds."""

    task_id = models.CharField(max_length=64, blank=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)
    # The attempt that owns the job: raised by each claim, and by the watchdog when it sends
    # again a task that never started.
    attempts = models.PositiveSmallIntegerField(default=0)
    attempt_started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the first attempt started, and when the job ended (done, refused, failed…).
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Every job kind also has `state`: "queued", "running", then an end state, in the
    # TextChoices of its own.
    state: Any
    # What an attempt reports as it goes: set back to their defaults by each claim.
    PROGRESS_FIELDS: tuple[str, ...] = ()

    class Meta:
        abstract = True

    @property
    def finished(self) -> bool:
        return self.state not in ("queued", "running")

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None

    @property
    def percent_done(self) -> int | None:
        """How far it went, in percent; None for a kind that counts rows instead."""
        return getattr(self, "progress", None)

    @property
    def error_message(self) -> str:
        """Why it failed, as its user reads it ("" unless it failed)."""
        return getattr(self, "error", "")

    def failure_values(self, message: str) -> dict[str, Any]:
        """The fields that record `message` as the reason it failed."""
        return {"error": message}


@dataclass(frozen=True)
class JobKind:
    model: str  # app_label.ModelName
    task: str  # the Celery task's name; it takes the job's id
    time_limit_setting: str  # the setting naming the task's hard time limit (seconds)
    queue_setting: str = ""  # a setting naming the queue, when not the default one
    failed_state: str = "failed"


JOB_KINDS = (
    JobKind("geo.AnalysisRun", "geo.tasks.execute_analysis_run", "ANALYSIS_TIME_LIMIT"),
    JobKind(
        "reports.Report", "reports.tasks.generate_report", "REPORT_TIME_LIMIT", "REPORTS_QUEUE"
    ),
    JobKind("incidents.ImportJob", "incidents.tasks.run_import_job", "IMPORT_TIME_LIMIT"),
)


def _kind_of(model: type[models.Model]) -> JobKind:
    return next(kind for kind in JOB_KINDS if kind.model == model._meta.label)


def _send(kind: JobKind, job_id: int, task_id: str) -> None:

    # No time limits in the message: Celery would put the sender's (a web process's, read
    # from its own settings) there, and the worker obeys the message's over its own. Sent
    # without, the job kind's limits are those of the worker that runs it.
    options: dict[str, Any] = {"task_id": task_id, "time_limit": None, "soft_time_limit": None}
    if kind.queue_setting:
        options["queue"] = getattr(settings, kind.queue_setting)
    # The task's module may not be imported yet in a web process (Celery imports task
    # modules only in workers).
    task = import_module(kind.task.rsplit(".", 1)[0]).__dict__[kind.task.rsplit(".", 1)[1]]
    try:
        task.apply_async((job_id,), **options)
    except Exception:
        # Not sent (the broker is down): no task id, so the watchdog sends it after one
        # lease rather than after JOB_QUEUED_SECONDS.
        apps.get_model(kind.model)._default_manager.filter(pk=job_id, task_id=task_id).update(
            task_id=""
        )
        raise


def job_enqueue(*, job: models.Model) -> str:
    """Record the task that will run `job` and send it once the transaction commits.

    The task id is chosen here so it is stored before the task can start. If the broker is
    down the sending raises (answered 503 by BrokerUnavailableMiddleware) and the job stays
    queued with this task id: the watchdog sends it again once the broker is back."""
    kind = _kind_of(type(job))
    task_id = str(uuid.uuid4())
    type(job)._default_manager.filter(pk=job.pk).update(task_id=task_id, enqueued_at=timezone.now())
    job.task_id = task_id
    transaction.on_commit(lambda: _send(kind, job.pk, task_id))
    return task_id


def claimable(job: LeasedJob, task_id: str, *, now: Any = None) -> bool:
    """Whether the delivery `task_id` may take `job` (locked by the caller) for itself.

    A queued job, yes. A running one only if its lease lapsed, or if this delivery is the
    very task the job waits for (the broker delivers a task again only once the worker that
    had it is gone); any other copy, while the owner still beats, leaves it alone."""
    if getattr(job, "finished", False) or job.state != "running":
        return job.state == "queued"
    now = now or timezone.now()
    beat = job.heartbeat_at or job.attempt_started_at
    lapsed = beat is None or beat < now - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    # No task id: called directly (a test, a shell), not delivered by the broker.
    return lapsed or not task_id or not job.task_id or job.task_id == task_id


def job_may_run(job: Any, task_id: str) -> bool:
    """`claimable`, and not an attempt after one stopped by its hard time limit or after
    the last allowed one: those fail the job (locked by the caller) with the reason.

    A hard limit kills the worker child; the broker may then hand the task to a new child
    at once, and without this the job would run into its limit again and again."""
    if not claimable(job, task_id):
        return False
    if job.state != "running":
        return True
    kind = _kind_of(type(job))
    limit = getattr(settings, kind.time_limit_setting)
    # The attempt before beat its heartbeat until (about) its limit: the limit killed it.
    # (A worker lost earlier stopped beating earlier.) One beat interval of slack.
    slack = settings.JOB_LEASE_SECONDS / 4 + 1
    if (
        job.attempt_started_at
        and job.heartbeat_at
        and (job.heartbeat_at - job.attempt_started_at).total_seconds() >= limit - slack
    ):
        _fail(type(job), job, _limit_message(limit))
        return False
    if job.attempts >= settings.JOB_MAX_ATTEMPTS:
        _fail(type(job), job, _attempts_message(job.attempts))
        return False
    return True


def _limit_message(limit: int) -> str:
    return (
        f"Stopped: it ran longer than its time limit of {limit} seconds. "
        "Narrow the request (a shorter period, a smaller file) and try again."
    )


def _attempts_message(attempts: int) -> str:
    return (
        f"Failed after {attempts} attempts: the worker running it was lost each time "
        "(or its task never reached a worker). Try again later; if it fails again, "
        "tell the platform's operators."
    )


def claim_fields(job: LeasedJob, task_id: str) -> list[str]:
    """Set the lease of a new attempt on `job` (locked by the caller); the fields to save."""
    now = timezone.now()
    job.attempts += 1
    job.attempt_started_at = now
    job.heartbeat_at = now
    if task_id:
        job.task_id = task_id
    return ["attempts", "attempt_started_at", "heartbeat_at", "task_id"]


def owned(model: type[models.Model], job_id: int, attempt: int) -> models.QuerySet:
    """The job, if attempt `attempt` still owns it: where its final state is written."""
    return model._default_manager.filter(pk=job_id, attempts=attempt, state="running")


# --- one attempt: claim, progress, finish, fail ------------------------------------------


class JobLost(Exception):
    """Raised in a job's body when its attempt no longer owns the job (cancelled, or taken
    over after its lease lapsed): the attempt stops quietly, and whatever transaction the
    body opened rolls back."""


class JobFailed(Exception):
    """Raised in a job's body to end the job failed; the message is the reason its user
    reads."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def unexpected_error(error: Exception) -> str:
    """The message of an unexpected error, where a job kind says nothing more particular."""
    return translation.gettext("Unexpected error: %(error)s") % {
        "error": f"{type(error).__name__}: {error}"
    }


@dataclass(frozen=True)
class JobMessages:
    """What the user of a job kind reads when its attempt is stopped by the soft time limit
    or by an unexpected error. Called when it happens, in the job's language."""

    time_limit: Callable[[], str]
    unexpected: Callable[[Exception], str] = unexpected_error


@dataclass
class JobAttempt:
    """One attempt's hold on a job: every write it makes goes through here, and only while
    the attempt owns the job (`attempts` is still its number and the job still runs)."""

    job: Any
    model: type[models.Model] = field(init=False)
    number: int = field(init=False)

    def __post_init__(self) -> None:
        self.model = type(self.job)
        self.number = self.job.attempts

    def owned(self) -> models.QuerySet:
        return owned(self.model, self.job.pk, self.number)

    def lock(self) -> Any:
        """The job locked until the transaction ends, or None once the attempt lost it:
        for an end written with other rows (the result's)."""
        return self.owned().select_for_update(of=("self",)).first()

    def progress(self, percent: int | None = None, **values: Any) -> bool:
        """Record progress (and a heartbeat) on the default connection; False once the
        attempt no longer owns the job. `percent` is kept within 0–99 (100 is the end's)
        and never goes back: a step reported late does not move the bar backwards."""
        if percent is not None:
            values["progress"] = Greatest(
                F("progress"),
                Value(min(max(int(percent), 0), 99)),
                output_field=models.PositiveSmallIntegerField(),
            )
        if "stage" in values:
            values["stage"] = str(values["stage"])[: _field(self.model, "stage").max_length]
        return bool(self.owned().update(heartbeat_at=timezone.now(), **values))

    def progress_now(self, **values: Any) -> bool:
        """Record progress at once on a connection of its own: for a body that holds a long
        transaction open, whose own writes nobody sees before it commits."""
        return job_write_now(self.model, self.job.pk, self.number, **values)

    def finish(self, *, state: str = "done", **values: Any) -> bool:
        """Write the job's end; False (nothing written) once the attempt no longer owns it."""
        if "progress" in _field_names(self.model):
            values.setdefault("progress", 100)
        return bool(self.owned().update(state=state, finished_at=timezone.now(), **values))

    def fail(self, message: str) -> bool:
        """End the job failed, `message` recorded as the reason its user reads."""
        return bool(
            self.owned().update(
                state="failed", finished_at=timezone.now(), **self.job.failure_values(message)
            )
        )


def _field_names(model: type[models.Model]) -> set[str]:
    return {model_field.name for model_field in model._meta.get_fields()}


def _field(model: type[models.Model], name: str) -> models.Field:
    found = model._meta.get_field(name)
    assert isinstance(found, models.Field), f"{model._meta.label}.{name} is a relation"
    return found


def job_claim(
    model: type[models.Model],
    job_id: int,
    *,
    task_id: str = "",
    worker: str = "",
    related: tuple[str, ...] = (),
) -> JobAttempt | None:
    """Take the job for a new attempt, if this delivery may (`job_may_run`): running, its
    progress set back, its lease started. None when it is finished, missing, or another
    attempt still owns it. `related` is selected with it, for the body."""
    with transaction.atomic():
        job: Any = (
            model._default_manager.select_for_update(of=("self",))
            .select_related(*related)
            .filter(pk=job_id)
            .first()
        )
        if job is None or job.finished or not job_may_run(job, task_id):
            return None
        job.state = "running"
        job.started_at = job.started_at or timezone.now()
        updated = ["state", "started_at"]
        for name in job.PROGRESS_FIELDS:
            setattr(job, name, _field(model, name).get_default())
            updated.append(name)
        if worker and "worker" in _field_names(model):
            job.worker = worker[:200]
            updated.append("worker")
        job.save(update_fields=[*updated, *claim_fields(job, task_id)])
    return JobAttempt(job)


def job_run(
    model: type[models.Model],
    job_id: int,
    *,
    body: Callable[[JobAttempt], None],
    messages: JobMessages,
    task_id: str = "",
    worker: str = "",
    related: tuple[str, ...] = (),
) -> None:
    """Run one attempt of a job: claim it, run `body` under its lease (in the job's
    language, for a kind that records one), and fail it with a reason if the body does not
    end it. Safe to call again for the same job: a finished job is left alone, and so is
    one another attempt still owns. An unexpected error is raised again, after the job is
    failed, so that the worker logs it."""
    attempt = job_claim(model, job_id, task_id=task_id, worker=worker, related=related)
    if attempt is None:
        return
    job = attempt.job
    language = getattr(job, "language", None)
    with translation.override(language) if language else nullcontext():
        try:
            with job_lease(model, job.pk, attempt.number):
                body(attempt)
        except JobLost:
            return
        except JobFailed as failure:
            attempt.fail(failure.message)
        except ValidationError as error:
            attempt.fail(validation_message(error))
        except SoftTimeLimitExceeded:
            attempt.fail(messages.time_limit())
        except Exception as error:
            logger.exception("%s %s failed", model._meta.label, job_id)
            attempt.fail(messages.unexpected(error))
            raise


def validation_message(error: ValidationError) -> str:
    """A ValidationError as one line naming each field."""
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


# --- the heartbeat: on a connection of its own, beside the attempt's transaction --------


def _own_connection() -> Any:
    """A short psycopg2 connection as the application's role (the same parameters as
    Django's), autocommitting: what it writes is seen at once, whatever transaction the
    job holds open on the default connection."""
    parameters = connections["default"].get_connection_params()
    parameters.pop("cursor_factory", None)
    parameters.pop("context", None)
    connection = psycopg2.connect(**parameters)
    connection.autocommit = True
    return connection


def job_write_now(model: type[models.Model], job_id: int, attempt: int, **values: Any) -> bool:
    """Write `values` (and a heartbeat) on the job at once, on a connection of its own, if
    attempt `attempt` still owns it; used for progress during a long transaction."""
    table = model._meta.db_table
    columns = {model._meta.get_field(name).column: value for name, value in values.items()}
    columns["heartbeat_at"] = timezone.now()
    assignments = ", ".join(f'"{column}" = %s' for column in columns)
    try:
        connection = _own_connection()
    except psycopg2.Error:
        logger.warning("Job %s %s: progress not written (no connection)", table, job_id)
        return False
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                # Table and column names come from the model, never from input.
                f'UPDATE "{table}" SET {assignments} '  # noqa: S608
                "WHERE id = %s AND attempts = %s AND state = 'running'",
                [*columns.values(), job_id, attempt],
            )
            return cursor.rowcount == 1
    finally:
        connection.close()


@contextmanager
def job_lease(model: type[models.Model], job_id: int, attempt: int) -> Iterator[None]:
    """Beat the job's heartbeat every quarter lease while the block runs, from a thread with
    its own connection: a long SQL statement holds the worker's thread, and must not look
    like a dead worker. A killed worker stops beating, and its lease lapses."""
    stop = threading.Event()
    interval = max(settings.JOB_LEASE_SECONDS / 4, 0.5)

    def beat() -> None:
        while not stop.wait(interval):
            try:
                if not job_write_now(model, job_id, attempt):
                    return  # another attempt owns the job, or it ended
            except Exception:  # a failed beat is retried at the next interval
                logger.exception("Heartbeat of %s %s failed", model._meta.label, job_id)

    thread = threading.Thread(target=beat, name=f"heartbeat-{job_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()


# --- the watchdog ------------------------------------------------------------------------


def stuck(now: Any = None) -> Q:
    """Jobs queued or running past their lease."""
    now = now or timezone.now()
    lease = now - timedelta(seconds=settings.JOB_LEASE_SECONDS)
    queued = now - timedelta(seconds=settings.JOB_QUEUED_SECONDS)
    return (
        Q(state="running", heartbeat_at__lt=lease)
        | Q(state="running", heartbeat_at__isnull=True, started_at__lt=lease)
        | Q(state="queued", enqueued_at__lt=queued)
        | Q(state="queued", enqueued_at__isnull=True, created_at__lt=queued)
    )


def stuck_jobs_count() -> dict[str, int]:
    """Jobs queued or running past their lease, by kind: what the watchdog will take up."""
    now = timezone.now()
    counts = {}
    for kind in JOB_KINDS:
        model = apps.get_model(kind.model)
        counts[kind.model] = model._default_manager.filter(stuck(now)).count()
    return counts


def jobs_watchdog() -> dict[str, int]:
    """Send again every job whose task was lost or whose worker died; fail those past their
    hard time limit or out of attempts, with the reason the user reads."""
    outcome = {"requeued": 0, "failed": 0}
    now = timezone.now()
    for kind in JOB_KINDS:
        model = apps.get_model(kind.model)
        with transaction.atomic():
            # SKIP LOCKED: a job an attempt is claiming right now is not stuck.
            jobs = list(
                model._default_manager.select_for_update(skip_locked=True).filter(stuck(now))
            )
            for job in jobs:
                outcome[_watch_one(kind, model, job, now)] += 1
    if any(outcome.values()):
        logger.warning("Job watchdog: %s", outcome)
    return outcome


def job_recover(*, job: Any) -> Any:
    """Take up one job whose lease lapsed, as the watchdog would (sent again, or failed);
    the job as it is now. For a request about to reuse it."""
    kind = _kind_of(type(job))
    model = type(job)
    with transaction.atomic():
        locked = (
            model._default_manager.select_for_update(skip_locked=True)
            .filter(stuck(), pk=job.pk)
            .first()
        )
        if locked is not None:
            _watch_one(kind, model, locked, timezone.now())
    job.refresh_from_db()
    return job


def _watch_one(kind: JobKind, model: type[models.Model], job: Any, now: Any) -> str:
    limit = getattr(settings, kind.time_limit_setting)
    if (
        job.state == "running"
        and job.attempt_started_at
        and (job.attempt_started_at <= now - timedelta(seconds=limit))
    ):
        _fail(model, job, _limit_message(limit))
        return "failed"
    # Attempts are runs that started (each claim counts one) and died. A queued job is sent
    # again without counting: its task may be lost (a broker restarted without its data) or
    # only waiting behind a backlog, which no attempt limit should fail. The copy that comes
    # first claims it; later copies find it taken. Until then /healthz counts it stuck.
    if job.state == "running" and job.attempts >= settings.JOB_MAX_ATTEMPTS:
        _fail(model, job, _attempts_message(job.attempts))
        return "failed"
    task_id = str(uuid.uuid4())
    model._default_manager.filter(pk=job.pk).update(
        state="queued",
        task_id=task_id,
        enqueued_at=now,
        heartbeat_at=None,
    )
    transaction.on_commit(lambda: _send(kind, job.pk, task_id))
    return "requeued"


def _fail(model: type[models.Model], job: Any, message: str) -> None:
    model._default_manager.filter(pk=job.pk).update(
        state="failed", finished_at=timezone.now(), **job.failure_values(message)
    )

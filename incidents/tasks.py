import logging
from smtplib import SMTPException

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import InterfaceError, OperationalError

from incidents.imports.importer import import_job_run
from incidents.notification_mail import notification_email_send
from incidents.selectors import mission_summary

logger = logging.getLogger(__name__)


@shared_task
def summarise_mission(mission_id: int) -> dict:
    return mission_summary(mission_id=mission_id)


# Idempotent (a finished job is not run again, a job another attempt still runs is left
# alone), so a redelivery after a worker died is safe. Its own time limits: the soft one
# fails the job with a message, the hard one is caught by the job watchdog.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.IMPORT_SOFT_TIME_LIMIT,
    time_limit=settings.IMPORT_TIME_LIMIT,
)
def run_import_job(self, job_id: int) -> None:
    import_job_run(job_id=job_id, task_id=self.request.id)


# Idempotent and resumable (each batch commits), so retried on a lost database connection
# and on its soft limit; one copy at a time (an advisory lock): a copy that finds another
# running tries again later rather than holding a second worker.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError, SoftTimeLimitExceeded),
    retry_backoff=True,
    max_retries=5,
    soft_time_limit=settings.IMPORT_SOFT_TIME_LIMIT,
    time_limit=settings.IMPORT_TIME_LIMIT,
)
def assign_missing_nearest_places(self) -> int:
    from incidents.services import incidents_assign_missing_nearest_places

    updated = incidents_assign_missing_nearest_places()
    if updated is None:
        raise self.retry(countdown=60)
    return updated


# Merges whatever the log holds; a run that finds another one merging returns at once.
# Expires with its interval: a queue backed up for longer sends no pile of merges.
@shared_task(ignore_result=True)
def merge_map_changes() -> int:
    from incidents.derived.merging import map_changes_merge

    return map_changes_merge()


@shared_task
def purge_expired_idempotency_keys() -> int:
    from incidents.api.idempotency import idempotency_keys_purge_expired

    return idempotency_keys_purge_expired()


@shared_task
def publish_custody_digest() -> str:
    """The daily signed digest of every chain of custody's head (incidents/custody_digests.py).
    A second run after a redelivery only writes one digest more, which chains on."""
    from incidents.custody_digests import custody_digest_publish

    return str(custody_digest_publish())


@shared_task
def purge_refused_import_files() -> int:
    from incidents.imports.retention import import_refused_files_purge

    return import_refused_files_purge()


# An SMTP server that is down or refuses for a while: retried with growing pauses (up to
# an hour apart, about a day in all). The service sends each e-mail once.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(SMTPException, ConnectionError, TimeoutError, OperationalError),
    retry_backoff=60,
    retry_backoff_max=3600,
    retry_jitter=True,
    max_retries=24,
)
def send_notification_email(self, notification_id: int) -> bool:
    return notification_email_send(notification_id=notification_id)


# Idempotent: each batch is claimed and its hits written in one transaction (a hit already
# recorded for a pair stays), so a redelivery after a worker died checks what is still
# queued. Sent once a write commits (incidents/registry/hits.py) and every minute.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def check_registry_hits() -> int:
    from incidents.registry.hits import hits_check

    try:
        return hits_check()
    except OperationalError:
        # A lock not granted in time (see hits_check): the batch is still queued, and the
        # beat's next run (or the next write's) checks it.
        logger.warning("Registry hit check postponed: a table was locked.", exc_info=True)
        return 0

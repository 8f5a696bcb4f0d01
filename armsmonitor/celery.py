"""The Celery application: configuration comes from Django settings (CELERY_*)."""

import os

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "armsmonitor.settings")

app = Celery("armsmonitor")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


# Workers live outside Django's request cycle, so nothing closes a connection that the
# database dropped (restart, idle timeout): do it around every task.
@task_prerun.connect
@task_postrun.connect
def _close_stale_database_connections(**_kwargs) -> None:
    from django.db import close_old_connections

    close_old_connections()


# On the beat schedule (JOB_WATCHDOG_INTERVAL): jobs whose task was lost or whose worker
# died are sent again, or failed with a reason (armsmonitor/jobs.py). Expires after one
# interval: a backlog of watchdog runs behind a stopped worker would only repeat itself.
@app.task(name="armsmonitor.jobs_watchdog", acks_late=False, ignore_result=True)
def jobs_watchdog() -> dict:
    from armsmonitor.jobs import jobs_watchdog as watchdog

    return watchdog()

import os

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from reports.services import monthly_reports_request, report_generate


# Late acknowledgement and rejection on worker loss: a report whose worker died is
# delivered again and starts over; report_generate leaves finished reports alone, so a
# second delivery never doubles one. A lost database connection is retried.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=settings.REPORT_SOFT_TIME_LIMIT,
    time_limit=settings.REPORT_TIME_LIMIT,
)
def generate_report(self, report_id: int) -> None:
    report_generate(
        report_id=report_id,
        worker=f"{self.request.hostname}:{os.getpid()}",
        task_id=self.request.id,
    )


@shared_task(acks_late=True, reject_on_worker_lost=True)
def request_monthly_reports() -> list[int]:
    """Monthly (Celery beat, on the 1st): each mission's report of the month before."""
    return [report.pk for report in monthly_reports_request()]

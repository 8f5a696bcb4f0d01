import os

from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError

from geo.analyses.services import analysis_run_execute, mission_analyses_refresh
from organisations.models import Mission


# Late acknowledgement and rejection on worker loss: a run whose worker died is delivered
# again and starts over; analysis_run_execute leaves finished runs alone, so a second
# delivery never duplicates one. A lost database connection is retried.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=3,
    soft_time_limit=settings.ANALYSIS_SOFT_TIME_LIMIT,
    time_limit=settings.ANALYSIS_TIME_LIMIT,
)
def execute_analysis_run(self, run_id: int) -> None:
    analysis_run_execute(
        run_id=run_id, worker=f"{self.request.hostname}:{os.getpid()}", task_id=self.request.id
    )


@shared_task(acks_late=True, reject_on_worker_lost=True)
def refresh_mission_analyses(mission_id: int) -> list[int]:
    mission = Mission.objects.get(pk=mission_id)
    return [run.pk for run in mission_analyses_refresh(mission=mission)]


@shared_task
def refresh_standard_analyses() -> int:
    """Nightly: one task per mission, so that several workers share the missions."""
    mission_ids = list(Mission.objects.values_list("pk", flat=True))
    for mission_id in mission_ids:
        refresh_mission_analyses.delay_on_commit(mission_id)
    return len(mission_ids)

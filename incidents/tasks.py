from celery import shared_task

from incidents.importer import import_job_run
from incidents.selectors import mission_summary


@shared_task
def summarise_mission(mission_id: int) -> dict:
    return mission_summary(mission_id=mission_id)


# Idempotent (a finished job is not run again), so a redelivery after a worker died is safe.
@shared_task(acks_late=True, reject_on_worker_lost=True)
def run_import_job(job_id: int) -> None:
    import_job_run(job_id=job_id)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def assign_missing_nearest_places() -> int:
    from incidents.services import incidents_assign_missing_nearest_places

    return incidents_assign_missing_nearest_places()


@shared_task
def purge_expired_idempotency_keys() -> int:
    from incidents.api.idempotency import idempotency_keys_purge_expired

    return idempotency_keys_purge_expired()

from celery import shared_task

from incidents.selectors import mission_summary


@shared_task
def summarise_mission(mission_id: int) -> dict:
    return mission_summary(mission_id=mission_id)

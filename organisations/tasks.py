"""Celery tasks of organisations: the webhook deliveries (organisations/webhooks.py)."""

from celery import shared_task
from django.conf import settings

from organisations.webhooks import webhook_deliveries_resend_overdue, webhook_delivery_attempt


# Late acknowledgement: a worker killed during the POST (its transaction rolled back,
# the attempt not recorded) means the task is delivered again, and the row lock makes a
# second copy wait and find the delivery answered. The pauses between attempts are the
# service's (WEBHOOK_RETRY_*), counted in the row (max_retries=None: no second limit in
# Celery). A task that fails otherwise (the database away) leaves its delivery pending:
# the overdue sweep sends it again.
@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=None,
    soft_time_limit=120,
    time_limit=180,
)
def deliver_webhook(self, delivery_id: str) -> str:
    outcome = webhook_delivery_attempt(delivery_id=delivery_id)
    if outcome.retry_in is not None:
        # A worker holds a waiting task unacknowledged, and the broker hands it to another
        # worker after its visibility timeout: a longer pause is waited in hops (the task
        # finds its delivery "not due" and waits the rest), never as one long countdown.
        hop = settings.CELERY_VISIBILITY_TIMEOUT / 2
        raise self.retry(countdown=min(outcome.retry_in, hop))
    return outcome.state


@shared_task(acks_late=False, ignore_result=True)
def resend_overdue_webhook_deliveries() -> int:
    return webhook_deliveries_resend_overdue()

"""Webhooks: agencies told of events by a signed POST to their endpoints.

    webhook_event_send(agency=…, event_type=WebhookEventType.REGISTRY_HIT, payload={…})

creates one `WebhookDelivery` per active endpoint of the agency that wants the event,
inside the caller's transaction, and sends the delivery task once it commits: a rolled-back
event sends nothing. The task (organisations.tasks.deliver_webhook) calls
`webhook_delivery_attempt`, which locks the delivery's row for the whole POST, so two
copies of the task never both POST; an answered delivery is never POSTed again.

One attempt, by its answer:

    2xx                                 delivered (delivered_at)
    5xx, 408, 429, no connection,       attempted again after a pause that doubles from
    a timeout, a name not resolved      WEBHOOK_RETRY_BASE_SECONDS (with jitter, at most
                                        WEBHOOK_RETRY_MAX_SECONDS); given up after
                                        WEBHOOK_MAX_ATTEMPTS attempts
    any other 4xx, a redirect (never    given up at once (given_up_at), with an audit event
    followed), a URL refused            and a log line; an administrator may send it again

How a receiver verifies a delivery: docs/clients/webhooks.md (and organisations/webhook_signing.py).
"""

from __future__ import annotations

import json
import logging
import secrets
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import requests
from celery import current_app
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone

from organisations.audit import record_write
from organisations.choices import WebhookEventType
from organisations.models import Agency, WebhookDelivery, WebhookEndpoint
from organisations.webhook_addresses import webhook_url_check
from organisations.webhook_signing import webhook_signature

__all__ = [
    "AttemptOutcome",
    "webhook_body",
    "webhook_deliveries_resend_overdue",
    "webhook_delivery_attempt",
    "webhook_delivery_send_again",
    "webhook_endpoint_create",
    "webhook_endpoint_secret_rotate",
    "webhook_event_send",
]

logger = logging.getLogger(__name__)

DELIVERY_TASK = "organisations.tasks.deliver_webhook"
# Of an endpoint's answer, only this much is read (kept in last_error when it failed).
RESPONSE_READ_LIMIT = 4096
# A pending delivery this long past its next attempt lost its task: the sweep sends it again.
OVERDUE_AFTER = timedelta(minutes=10)
# Statuses that mean "later": the receiver is busy or timed out, not refusing the delivery.
RETRY_STATUSES = {408, 429}


# --- Endpoints ------------------------------------------------------------------------


def webhook_endpoint_create(
    *, agency: Agency, url: str, event_types: Iterable[str], is_active: bool = True, by: Any = None
) -> tuple[WebhookEndpoint, str]:
    """Create an endpoint of `agency`; return it with its signing secret, which is shown
    only now (it is derived again when signing, never stored). A URL refused names the
    field `url` (ValidationError)."""
    endpoint = WebhookEndpoint(
        agency=agency, url=url, event_types=list(event_types), is_active=is_active
    )
    endpoint.full_clean()
    with transaction.atomic():
        endpoint.save()
        record_write(by, "webhook.endpoint.create", target=endpoint)
    return endpoint, endpoint.signing_secret()


def webhook_endpoint_secret_rotate(*, endpoint: WebhookEndpoint, by: Any = None) -> str:
    """Give `endpoint` a new secret (a new salt) and return it, shown only now. The old one
    stops verifying at the next attempt of any delivery."""
    endpoint.secret_salt = secrets.token_hex(16)
    with transaction.atomic():
        endpoint.save(update_fields=["secret_salt"])
        record_write(by, "webhook.endpoint.rotate_secret", target=endpoint)
    return endpoint.signing_secret()


# --- Events ---------------------------------------------------------------------------


def webhook_body(
    *, delivery_id: uuid.UUID, event_type: str, created_at: datetime, payload: Mapping[str, Any]
) -> str:
    """The canonical JSON of one delivery: keys sorted, no spaces, UTF-8 text. The receiver
    verifies the bytes it received, never a re-serialisation, so canonical only makes the
    stored body easy to compare and diff."""
    document = {
        "created_at": created_at.isoformat(),
        "delivery_id": str(delivery_id),
        "event_type": event_type,
        "payload": payload,
    }
    return json.dumps(
        document, cls=DjangoJSONEncoder, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def webhook_event_send(
    *, agency: Agency, event_type: str, payload: Mapping[str, Any]
) -> list[WebhookDelivery]:
    """Tell `agency` of an event: one delivery per active endpoint that wants `event_type`,
    written in the caller's transaction and sent by a worker once it commits (a rollback
    sends nothing). `payload` must be JSON-able (dates, decimals and UUIDs become strings).
    Returns the deliveries, none when the agency has no endpoint for the event."""
    if event_type not in WebhookEventType.values:
        raise ValueError(f"Unknown webhook event type: {event_type!r}.")
    if not agency.is_active:
        return []
    endpoints = WebhookEndpoint.objects.filter(
        agency=agency, is_active=True, event_types__contains=[event_type]
    )
    now = timezone.now()
    deliveries = []
    for endpoint in endpoints:
        delivery_id = uuid.uuid4()
        deliveries.append(
            WebhookDelivery(
                id=delivery_id,
                endpoint=endpoint,
                event_type=event_type,
                created_at=now,
                next_attempt_at=now,
                body=webhook_body(
                    delivery_id=delivery_id, event_type=event_type, created_at=now, payload=payload
                ),
            )
        )
    if deliveries:
        with transaction.atomic():
            WebhookDelivery.objects.bulk_create(deliveries)
            ids = [str(delivery.id) for delivery in deliveries]
            transaction.on_commit(lambda: _send_tasks(ids))
    return deliveries


def _send_tasks(delivery_ids: Iterable[str]) -> None:
    # After the commit: a broker that is down loses the tasks, never the deliveries, which
    # the overdue sweep sends again.
    for delivery_id in delivery_ids:
        try:
            current_app.send_task(DELIVERY_TASK, args=(delivery_id,))
        except Exception:
            logger.exception("Webhook delivery %s could not be queued.", delivery_id)


# --- Attempts -------------------------------------------------------------------------


@dataclass(frozen=True)
class AttemptOutcome:
    """What one run of the task did. `state`: "delivered", "retry" (attempted, failed, to
    be attempted again in `retry_in` seconds), "given up", "not due" (too early: run again
    in `retry_in` seconds) or "skipped" (delivered or given up already, or no such row)."""

    state: str
    retry_in: float | None = None


@dataclass(frozen=True)
class _Answer:
    status: int | None
    error: str
    delivered: bool = False
    final: bool = False  # give up now, whatever the attempts left
    retry_after: float | None = None  # the receiver's Retry-After, in seconds


def webhook_delivery_attempt(*, delivery_id: uuid.UUID | str) -> AttemptOutcome:
    """Attempt one delivery, the row locked for the whole POST (a second copy of the task
    waits, then finds it delivered); record the answer; say whether to attempt again."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(of=("self",))
            .select_related("endpoint__agency")
            .filter(pk=delivery_id, delivered_at__isnull=True, given_up_at__isnull=True)
            .first()
        )
        if delivery is None:
            return AttemptOutcome("skipped")
        now = timezone.now()
        if delivery.next_attempt_at and delivery.next_attempt_at > now:
            # An early copy (a clock ahead, a duplicate): the attempt is due later.
            return AttemptOutcome("not due", (delivery.next_attempt_at - now).total_seconds())
        endpoint = delivery.endpoint
        if not endpoint.is_active or not endpoint.agency.is_active:
            answer = _Answer(None, "The endpoint or its agency was deactivated.", final=True)
        else:
            answer = _post(delivery, endpoint)
            delivery.attempts += 1
        return _record(delivery, answer)


def _record(delivery: WebhookDelivery, answer: _Answer) -> AttemptOutcome:
    now = timezone.now()
    delivery.last_status = answer.status
    delivery.last_error = answer.error[:500]
    outcome: AttemptOutcome
    if answer.delivered:
        delivery.delivered_at, delivery.next_attempt_at = now, None
        outcome = AttemptOutcome("delivered")
    elif answer.final or delivery.attempts >= settings.WEBHOOK_MAX_ATTEMPTS:
        delivery.given_up_at, delivery.next_attempt_at = now, None
        outcome = AttemptOutcome("given up")
    else:
        pause = _pause(delivery.attempts, answer.retry_after)
        delivery.next_attempt_at = now + timedelta(seconds=pause)
        outcome = AttemptOutcome("retry", pause)
    delivery.save(
        update_fields=[
            "attempts",
            "last_status",
            "last_error",
            "next_attempt_at",
            "delivered_at",
            "given_up_at",
        ]
    )
    if outcome.state == "given up":
        record_write(None, "webhook.given_up", target=delivery)
        logger.warning(
            "Webhook delivery %s to %s given up after %s attempt(s): %s",
            delivery.id,
            delivery.endpoint.url,
            delivery.attempts,
            delivery.last_error or delivery.last_status,
        )
    return outcome


def _pause(attempts: int, retry_after: float | None) -> float:
    """Seconds before the next attempt: the base doubled per attempt made, at most the
    maximum, drawn between half and all of it (jitter spreads a receiver's backlog); a
    longer Retry-After from the receiver wins, within the maximum."""
    ceiling = min(
        settings.WEBHOOK_RETRY_MAX_SECONDS,
        settings.WEBHOOK_RETRY_BASE_SECONDS * 2 ** max(attempts - 1, 0),
    )
    pause = secrets.SystemRandom().uniform(ceiling / 2, ceiling)
    if retry_after is not None:
        pause = max(pause, min(retry_after, settings.WEBHOOK_RETRY_MAX_SECONDS))
    return pause


def _post(delivery: WebhookDelivery, endpoint: WebhookEndpoint) -> _Answer:
    """POST the delivery once; never follow a redirect, read at most RESPONSE_READ_LIMIT
    bytes of the answer, and use no proxy from the environment (the address check would
    not see where it leads)."""
    try:
        webhook_url_check(endpoint.url, resolve=True)
    except ValidationError as refused:
        # A name not resolved may be a passing DNS failure; any other refusal is final.
        transient = any(error.code == "webhook_dns" for error in refused.error_dict["url"])
        return _Answer(None, " ".join(refused.messages), final=not transient)
    body = delivery.body.encode()
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "ArmsMonitor-Webhooks/1",
        "X-ArmsMonitor-Delivery": str(delivery.id),
        "X-ArmsMonitor-Event": delivery.event_type,
        "X-ArmsMonitor-Timestamp": str(timestamp),
        "X-ArmsMonitor-Signature": webhook_signature(
            secret=endpoint.signing_secret(), timestamp=timestamp, body=body
        ),
    }
    timeout = settings.WEBHOOK_TIMEOUT_SECONDS
    with requests.Session() as session:
        session.trust_env = False
        try:
            response = session.post(
                endpoint.url,
                data=body,
                headers=headers,
                timeout=(timeout, timeout),
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout:
            return _Answer(None, "No answer within the timeout.")
        except SoftTimeLimitExceeded:
            # A receiver that trickles its answer byte by byte outlasts the per-read timeout:
            # the task's soft limit ends it, and the attempt is counted like a timeout (not
            # counted, the delivery would be attempted forever).
            return _Answer(None, "No complete answer within the task's time limit.")
        except requests.RequestException as error:
            return _Answer(None, f"Connection failed: {type(error).__name__}.")
        with response:
            status = response.status_code
            if 200 <= status < 300:
                return _Answer(status, "", delivered=True)
            excerpt = _answer_excerpt(response)
            if status >= 500 or status in RETRY_STATUSES:
                return _Answer(status, excerpt, retry_after=_retry_after(response))
            if 300 <= status < 400:
                location = response.headers.get("Location", "")[:200]
                return _Answer(status, f"Redirect to {location} not followed.", final=True)
            return _Answer(status, excerpt, final=True)


def _answer_excerpt(response: requests.Response) -> str:
    try:
        data = response.raw.read(RESPONSE_READ_LIMIT, decode_content=True) or b""
    except Exception:  # the answer's body is only a hint for the administrator
        return ""
    return data.decode("utf-8", errors="replace")


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After", "")
    return float(value) if value.isdigit() else None


# --- Administration and the sweep -------------------------------------------------------


def webhook_delivery_send_again(*, delivery: WebhookDelivery, by: Any = None) -> bool:
    """Send a given-up delivery again, with its attempts counted from zero and the same
    body and delivery id (a receiver that did process it dedupes it). Return False for a
    delivery that is not given up (delivered, or still being attempted)."""
    with transaction.atomic():
        updated = WebhookDelivery.objects.filter(
            pk=delivery.pk, given_up_at__isnull=False, delivered_at__isnull=True
        ).update(given_up_at=None, attempts=0, next_attempt_at=timezone.now())
        if not updated:
            return False
        record_write(by, "webhook.send_again", target=delivery)
        delivery_id = str(delivery.pk)
        transaction.on_commit(lambda: _send_tasks([delivery_id]))
    return True


def webhook_deliveries_resend_overdue() -> int:
    """Send again the pending deliveries whose next attempt is OVERDUE_AFTER past (their
    task was lost: the broker down at the commit, a message dropped); return how many. A
    copy that finds its delivery attempted meanwhile does nothing (the row lock)."""
    overdue = WebhookDelivery.objects.filter(
        delivered_at__isnull=True,
        given_up_at__isnull=True,
        next_attempt_at__lt=timezone.now() - OVERDUE_AFTER,
    ).values_list("id", flat=True)
    ids = [str(delivery_id) for delivery_id in overdue[:1000]]
    _send_tasks(ids)
    return len(ids)

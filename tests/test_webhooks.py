"""Signed webhooks to agencies (organisations/webhooks.py): a real receiver on 127.0.0.1
that checks every signature with the recipe of docs/clients/webhooks.md, a real Celery
worker with short pauses between attempts (set through its settings), the real database.

Personas: the Customs of Cameroon have an endpoint for hits ("the receiver"); a second
endpoint of theirs wants only test pings.
"""

import http.server
import re
import threading
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from celery import current_app
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from organisations.choices import AgencyKind, WebhookEventType
from organisations.models import Agency, AuditEvent, WebhookDelivery, WebhookEndpoint
from organisations.webhooks import (
    DELIVERY_TASK,
    OVERDUE_AFTER,
    _pause,
    webhook_deliveries_resend_overdue,
    webhook_delivery_attempt,
    webhook_delivery_send_again,
    webhook_endpoint_create,
    webhook_endpoint_secret_rotate,
    webhook_event_send,
)
from tests.conftest import start_celery_worker, stop_celery_worker
from tests.docs_pages import docs_page
from tests.waiting import SAFETY_SECONDS, wait_for

SIGNING_KEY = "test-webhook-signing-key-of-the-suite-0123456789"
HIT = WebhookEventType.REGISTRY_HIT
PING = WebhookEventType.PING


def documented_recipe() -> dict:
    """The Python example of docs/clients/webhooks.md, run as written: the tests verify
    deliveries with what agencies are told to use."""
    page = docs_page("clients/webhooks.md")
    code = next(
        block for block in re.findall(r"```python\n(.*?)```", page, re.S) if "def verify_" in block
    )
    namespace: dict = {}
    exec(compile(code, "docs/clients/webhooks.md", "exec"), namespace)
    return namespace


RECIPE = documented_recipe()
verify_delivery = RECIPE["verify_delivery"]
InvalidDelivery = RECIPE["InvalidDelivery"]


@dataclass
class Received:
    headers: dict
    body: bytes
    answered: int
    verified: bool


@dataclass
class Receiver:
    """An agency's HTTP server: records every POST, checks its signature, answers the
    statuses queued in `answers` (then 200). With `gate` cleared, it holds each request
    until the gate opens."""

    url: str = ""
    secret: str = ""
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    gate: threading.Event = field(default_factory=threading.Event)
    arrived: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def successes(self) -> list[Received]:
        with self.lock:
            return [r for r in self.received if 200 <= r.answered < 300]

    def count(self) -> int:
        with self.lock:
            return len(self.received)


def _serve(receiver: Receiver) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            try:
                verify_delivery(receiver.secret, self.headers, body)
                verified = True
            except InvalidDelivery:
                verified = False
            receiver.arrived.set()
            receiver.gate.wait(SAFETY_SECONDS)
            with receiver.lock:
                status = receiver.answers.pop(0) if receiver.answers else 200
                if not verified:
                    status = 401
                receiver.received.append(Received(dict(self.headers), body, status, verified))
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/armsmonitor"
    return server


@pytest.fixture
def receivers():
    """Receivers made on demand, their servers shut down after the test."""
    servers = []

    def make(*answers: int) -> Receiver:
        receiver = Receiver(answers=list(answers))
        receiver.gate.set()
        servers.append(_serve(receiver))
        return receiver

    yield make
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(autouse=True)
def _webhook_settings(settings):
    settings.WEBHOOK_SIGNING_KEY = SIGNING_KEY
    settings.WEBHOOK_ALLOW_LOCAL = True
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_RETRY_BASE_SECONDS = 0.2
    settings.WEBHOOK_RETRY_MAX_SECONDS = 1.0


@pytest.fixture(scope="module")
def webhook_worker(django_db_setup, django_db_blocker):
    """A real worker of this module's own, with the same settings as the tests: local
    receivers allowed, pauses of a fraction of a second, 3 attempts."""
    with pytest.MonkeyPatch.context() as environment:
        environment.setenv("WEBHOOK_SIGNING_KEY", SIGNING_KEY)
        environment.setenv("WEBHOOK_ALLOW_LOCAL", "true")
        environment.setenv("WEBHOOK_MAX_ATTEMPTS", "3")
        environment.setenv("WEBHOOK_RETRY_BASE_SECONDS", "0.2")
        environment.setenv("WEBHOOK_RETRY_MAX_SECONDS", "1")
        worker = start_celery_worker("webhook-worker")
    yield worker
    stop_celery_worker(worker)


@pytest.fixture
def customs(db):
    return Agency.objects.create(
        name="Customs of Cameroon (webhooks)", kind=AgencyKind.CUSTOMS, country="CMR"
    )


def endpoint_for(agency: Agency, receiver: Receiver, events=(HIT,)) -> WebhookEndpoint:
    endpoint, receiver.secret = webhook_endpoint_create(
        agency=agency, url=receiver.url, event_types=events
    )
    return endpoint


def hit_sent(agency: Agency, **payload) -> list[WebhookDelivery]:
    with transaction.atomic():
        return webhook_event_send(
            agency=agency, event_type=HIT, payload={"serial_number": "AK-4711", **payload}
        )


def ended(delivery: WebhookDelivery) -> WebhookDelivery | None:
    delivery.refresh_from_db()
    return delivery if (delivery.delivered_at or delivery.given_up_at) else None


pytestmark = pytest.mark.django_db(transaction=True)


# --- With the worker --------------------------------------------------------------------


def test_a_delivery_answered_500_then_200_is_delivered_once_on_its_second_attempt(
    webhook_worker, customs, receivers
):
    receiver = receivers(500)
    endpoint_for(customs, receiver)

    [delivery] = hit_sent(customs, seized_in="Bangui")
    wait_for(lambda: ended(delivery), what="the delivery to end")

    assert delivery.delivered_at is not None and delivery.given_up_at is None
    assert delivery.attempts == 2 and delivery.last_status == 200
    assert [r.answered for r in receiver.received] == [500, 200]
    assert all(r.verified for r in receiver.received)
    assert len(receiver.successes()) == 1
    first, second = receiver.received
    assert first.body == second.body == delivery.body.encode()
    assert first.headers["X-ArmsMonitor-Delivery"] == str(delivery.id)
    assert second.headers["X-ArmsMonitor-Event"] == "registry.hit"
    document = verify_delivery(receiver.secret, second.headers, second.body)
    assert document["delivery_id"] == str(delivery.id)
    assert document["event_type"] == "registry.hit"
    assert document["payload"] == {"serial_number": "AK-4711", "seized_in": "Bangui"}


def test_a_refusal_4xx_gives_up_at_once_and_an_administrator_can_send_it_again(
    webhook_worker, customs, receivers, admin_user
):
    receiver = receivers(404)
    endpoint_for(customs, receiver)

    [delivery] = hit_sent(customs)
    wait_for(lambda: ended(delivery), what="the delivery to end")

    assert delivery.given_up_at is not None and delivery.delivered_at is None
    assert delivery.attempts == 1 and delivery.last_status == 404
    assert receiver.count() == 1
    assert AuditEvent.objects.filter(action="webhook.given_up", object_id=str(delivery.id)).exists()

    assert webhook_delivery_send_again(delivery=delivery, by=admin_user)
    wait_for(lambda: ended(delivery), what="the delivery sent again to end")

    assert delivery.delivered_at is not None and delivery.attempts == 1
    assert [r.answered for r in receiver.received] == [404, 200]
    assert receiver.received[0].headers["X-ArmsMonitor-Delivery"] == str(delivery.id)
    assert receiver.received[1].headers["X-ArmsMonitor-Delivery"] == str(delivery.id)
    assert not webhook_delivery_send_again(delivery=delivery, by=admin_user)  # delivered


def test_a_delivery_failing_every_attempt_is_given_up_after_the_last(
    webhook_worker, customs, receivers
):
    receiver = receivers(503, 500, 502)
    endpoint_for(customs, receiver)

    [delivery] = hit_sent(customs)
    wait_for(lambda: ended(delivery), what="the delivery to end")

    assert delivery.given_up_at is not None and delivery.attempts == 3
    assert [r.answered for r in receiver.received] == [503, 500, 502]


def test_an_event_rolled_back_sends_nothing(webhook_worker, customs, receivers):
    receiver = receivers()
    endpoint_for(customs, receiver)

    with pytest.raises(RuntimeError), transaction.atomic():
        webhook_event_send(agency=customs, event_type=HIT, payload={"serial_number": "lost"})
        raise RuntimeError("the hit's transaction fails")
    assert not WebhookDelivery.objects.exists()
    # What was sent after it arrives; had the rolled-back one been sent, it would be first.
    [delivery] = hit_sent(customs, serial_number="kept")
    wait_for(lambda: ended(delivery), what="the committed delivery")

    assert receiver.count() == 1
    assert receiver.received[0].headers["X-ArmsMonitor-Delivery"] == str(delivery.id)


def test_an_endpoint_not_subscribed_to_the_event_or_inactive_gets_nothing(
    webhook_worker, customs, receivers
):
    hits, pings_only, switched_off = receivers(), receivers(), receivers()
    endpoint_for(customs, hits)
    endpoint_for(customs, pings_only, events=(PING,))
    off = endpoint_for(customs, switched_off)
    off.is_active = False
    off.save(update_fields=["is_active"])

    deliveries = hit_sent(customs)
    wait_for(lambda: all(ended(d) for d in deliveries), what="the deliveries to end")

    assert [d.endpoint.url for d in deliveries] == [hits.url]
    assert hits.count() == 1
    assert pings_only.count() == 0 and switched_off.count() == 0


def test_a_delivered_delivery_is_never_posted_again(webhook_worker, customs, receivers):
    receiver = receivers()
    endpoint_for(customs, receiver)
    [delivery] = hit_sent(customs)
    wait_for(lambda: ended(delivery), what="the delivery")

    again = current_app.send_task(DELIVERY_TASK, args=(str(delivery.id),))
    assert again.get(timeout=SAFETY_SECONDS) == "skipped"
    assert webhook_delivery_attempt(delivery_id=delivery.id).state == "skipped"

    assert receiver.count() == 1


def test_a_pending_delivery_whose_task_was_lost_is_sent_by_the_overdue_sweep(
    webhook_worker, customs, receivers, monkeypatch
):
    receiver = receivers()
    endpoint_for(customs, receiver)
    with monkeypatch.context() as broker_down:
        broker_down.setattr("organisations.webhooks._send_tasks", lambda ids: None)
        [delivery] = hit_sent(customs)
    assert webhook_deliveries_resend_overdue() == 0  # not overdue yet
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        next_attempt_at=timezone.now() - OVERDUE_AFTER - timedelta(seconds=1)
    )

    assert webhook_deliveries_resend_overdue() == 1
    wait_for(lambda: ended(delivery), what="the swept delivery")

    assert delivery.delivered_at is not None and receiver.count() == 1


def _waiting_for_a_row_lock() -> bool:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            " AND wait_event_type = 'Lock' AND query ILIKE %s",
            ["%organisations_webhookdelivery%"],
        )
        return cursor.fetchone()[0] > 0


def test_two_copies_of_one_delivery_at_once_post_it_once(webhook_worker, customs, receivers):
    receiver = receivers()
    receiver.gate.clear()  # the worker's POST is held open, its row locked
    endpoint_for(customs, receiver)
    [delivery] = hit_sent(customs)
    wait_for(receiver.arrived.is_set, what="the worker's POST")

    outcomes = []

    def second_copy():
        try:
            outcomes.append(webhook_delivery_attempt(delivery_id=delivery.id).state)
        finally:
            connection.close()

    copy = threading.Thread(target=second_copy)
    copy.start()
    wait_for(_waiting_for_a_row_lock, what="the second copy to wait for the row lock")
    receiver.gate.set()
    copy.join(SAFETY_SECONDS)
    wait_for(lambda: ended(delivery), what="the delivery")

    assert outcomes == ["skipped"]
    assert receiver.count() == 1 and len(receiver.successes()) == 1
    assert delivery.attempts == 1


# --- Without the worker -----------------------------------------------------------------


@pytest.fixture
def tasks_kept_back(monkeypatch):
    """The delivery tasks are not sent (their ids are kept here): the test attempts the
    deliveries itself, and a worker left running by the tests above must not race it."""
    kept: list[str] = []
    monkeypatch.setattr("organisations.webhooks._send_tasks", kept.extend)
    return kept


def test_a_tampered_body_or_an_old_timestamp_fails_the_documented_verification(
    tasks_kept_back, customs, receivers
):
    receiver = receivers()
    endpoint = endpoint_for(customs, receiver)
    [delivery] = webhook_event_send(agency=customs, event_type=HIT, payload={"n": 1})
    assert webhook_delivery_attempt(delivery_id=delivery.id).state == "delivered"
    [genuine] = receiver.received
    headers, body = genuine.headers, genuine.body
    sent_at = int(headers["X-ArmsMonitor-Timestamp"])

    assert verify_delivery(receiver.secret, headers, body)["delivery_id"] == str(delivery.id)
    with pytest.raises(InvalidDelivery, match="signature"):
        verify_delivery(receiver.secret, headers, body.replace(b'"n":1', b'"n":2'))
    with pytest.raises(InvalidDelivery, match="signature"):  # replayed with a new timestamp
        verify_delivery(
            receiver.secret, {**headers, "X-ArmsMonitor-Timestamp": str(sent_at + 600)}, body
        )
    with pytest.raises(InvalidDelivery, match="older than 5 minutes"):
        verify_delivery(receiver.secret, headers, body, now=sent_at + 5 * 60 + 1)
    with pytest.raises(InvalidDelivery, match="signature"):  # another endpoint's secret
        verify_delivery(webhook_endpoint_secret_rotate(endpoint=endpoint), headers, body)


def test_the_signing_secret_is_not_stored_and_rotating_it_changes_it(
    tasks_kept_back, customs, receivers
):
    receiver = receivers()
    endpoint = endpoint_for(customs, receiver)
    first = receiver.secret

    row = WebhookEndpoint.objects.filter(pk=endpoint.pk).values().get()
    assert first not in {str(value) for value in row.values()}
    assert endpoint.signing_secret() == first
    assert webhook_endpoint_secret_rotate(endpoint=endpoint) != first


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/hook",
        "ftp://example.org/hook",
        "https://10.1.2.3/hook",
        "https://127.0.0.1/hook",
        "https://localhost/hook",
        "https://[::1]/hook",
        "https://169.254.169.254/latest",
        "https://user:pw@example.org/hook",
    ],
)
def test_a_url_not_https_or_not_public_is_refused_naming_the_field(customs, settings, url):
    settings.WEBHOOK_ALLOW_LOCAL = False

    with pytest.raises(ValidationError) as refused:
        webhook_endpoint_create(agency=customs, url=url, event_types=[HIT])

    assert "url" in refused.value.message_dict
    assert not WebhookEndpoint.objects.exists()


def test_a_local_endpoint_is_given_up_before_any_post_once_local_addresses_are_refused(
    tasks_kept_back, customs, receivers, settings
):
    receiver = receivers()
    endpoint_for(customs, receiver)
    [delivery] = webhook_event_send(agency=customs, event_type=HIT, payload={})
    settings.WEBHOOK_ALLOW_LOCAL = False

    assert webhook_delivery_attempt(delivery_id=delivery.id).state == "given up"

    delivery.refresh_from_db()
    assert "https://" in delivery.last_error
    assert receiver.count() == 0


def test_no_endpoint_is_saved_without_a_signing_key(customs, settings):
    settings.WEBHOOK_SIGNING_KEY = ""

    with pytest.raises(ValidationError, match="WEBHOOK_SIGNING_KEY is not set"):
        webhook_endpoint_create(agency=customs, url="https://example.org/hook", event_types=[HIT])


def test_the_pause_doubles_per_attempt_within_its_bounds_and_heeds_retry_after(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS, settings.WEBHOOK_RETRY_MAX_SECONDS = 60, 3600

    for attempts, ceiling in [(1, 60), (2, 120), (3, 240), (10, 3600)]:
        assert ceiling / 2 <= _pause(attempts, None) <= ceiling
    assert _pause(1, 300) == 300  # the receiver's Retry-After, when longer
    assert _pause(1, 10**6) == 3600  # but never beyond the maximum


def test_an_unknown_event_type_is_refused(customs):
    with pytest.raises(ValueError, match="Unknown webhook event"):
        webhook_event_send(agency=customs, event_type="registry.miss", payload={})


def test_the_body_is_canonical_json_with_the_event_and_its_delivery_id(
    tasks_kept_back, customs, receivers
):
    endpoint_for(customs, receivers())
    [delivery] = webhook_event_send(
        agency=customs, event_type=HIT, payload={"b": uuid.UUID(int=1), "a": "é"}
    )

    assert delivery.body.startswith('{"created_at":"')
    assert f'"delivery_id":"{delivery.id}","event_type":"registry.hit"' in delivery.body
    assert delivery.body.endswith('"payload":{"a":"é","b":"00000000-0000-0000-0000-000000000001"}}')


# --- The admin --------------------------------------------------------------------------


def test_the_admin_shows_a_new_endpoints_secret_once(admin_client, customs, receivers):
    receiver = receivers()

    added = admin_client.post(
        "/admin/organisations/webhookendpoint/add/",
        {"agency": customs.pk, "url": receiver.url, "event_types": [HIT], "is_active": "on"},
        follow=True,
    )

    endpoint = WebhookEndpoint.objects.get()
    assert endpoint.event_types == [HIT]
    assert endpoint.signing_secret() in added.content.decode()
    page = admin_client.get(f"/admin/organisations/webhookendpoint/{endpoint.pk}/change/")
    assert endpoint.signing_secret() not in page.content.decode()


def test_the_admin_refuses_a_url_that_is_not_https_on_its_field(admin_client, customs, settings):
    settings.WEBHOOK_ALLOW_LOCAL = False

    refused = admin_client.post(
        "/admin/organisations/webhookendpoint/add/",
        {"agency": customs.pk, "url": "http://example.org/hook", "event_types": [HIT]},
    )

    assert refused.status_code == 200
    assert refused.context["adminform"].form.errors["url"] == [
        "A webhook URL must start with https://."
    ]
    assert not WebhookEndpoint.objects.exists()


def test_the_admin_sends_a_given_up_delivery_again(
    tasks_kept_back, admin_client, customs, receivers
):
    receiver = receivers(404)
    endpoint_for(customs, receiver)
    [given_up] = webhook_event_send(agency=customs, event_type=HIT, payload={})
    webhook_delivery_attempt(delivery_id=given_up.id)
    [delivered] = webhook_event_send(agency=customs, event_type=HIT, payload={})
    webhook_delivery_attempt(delivery_id=delivered.id)

    listed = admin_client.get("/admin/organisations/webhookdelivery/?state=given_up")
    assert str(given_up.id) in listed.content.decode()
    assert str(delivered.id) not in listed.content.decode()
    admin_client.post(
        "/admin/organisations/webhookdelivery/",
        {"action": "send_again", "_selected_action": [str(given_up.id), str(delivered.id)]},
    )

    given_up.refresh_from_db()
    assert given_up.given_up_at is None and given_up.attempts == 0
    assert tasks_kept_back[-1] == str(given_up.id)
    assert webhook_delivery_attempt(delivery_id=given_up.id).state == "delivered"
    assert AuditEvent.objects.filter(
        action="webhook.send_again", object_id=str(given_up.id)
    ).exists()

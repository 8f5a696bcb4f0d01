"""Notifications (issue 21): each workflow step tells exactly the people it concerns,
never the one who acted; each reader reads only its own, and only what it may still see;
with NOTIFY_BY_EMAIL each is also e-mailed by a worker, saying nothing of the record."""

import os
import time
from pathlib import Path
from smtplib import SMTPServerDisconnected

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation

from incidents import notification_mail, notifications, services
from incidents.choices import NotificationKind
from incidents.models import Incident, Notification
from incidents.notification_mail import notification_email_send
from incidents.tasks import send_notification_email
from organisations.choices import Role
from organisations.models import Membership, Mission, UserPreferences
from tests.conftest import start_celery_worker, stop_celery_worker
from tests.personas import sign_in


@pytest.fixture(autouse=True)
def records_with_reporters(world):
    """Alpha's records reported by reporter_alpha; a second verifier of MINUSCA and one of
    MONUSCO, who must not hear of MINUSCA's records."""
    Incident.objects.filter(contingent__name="Alpha").update(
        reported_by=world.users["reporter_alpha"]
    )
    for record in world.records.values():
        record.refresh_from_db()
    user_model = get_user_model()
    for name, acronym in (("second_verifier", "MINUSCA"), ("monusco_verifier", "MONUSCO")):
        world.users[name] = user_model.objects.create_user(name)
        Membership.objects.create(
            user=world.users[name], role=Role.VERIFIER, mission=Mission.objects.get(acronym=acronym)
        )
    return world


def _told(world, incident) -> dict[str, str]:
    names = {user.pk: name for name, user in world.users.items()}
    return {
        names[notification.recipient_id]: notification.kind
        for notification in Notification.objects.filter(incident=incident)
    }


def test_a_submission_tells_the_missions_verifiers_and_not_the_reporter(world):
    incident = world.records["alpha_draft_L1"]
    services.incident_submit(incident=incident, by=world.users["reporter_alpha"])
    assert _told(world, incident) == {"verifier": "submitted", "second_verifier": "submitted"}
    notification = Notification.objects.get(recipient=world.users["verifier"])
    assert notification.actor == world.users["reporter_alpha"]
    assert notification.read_at is None and notification.comment == ""


def test_a_return_tells_the_reporter_with_the_comment(world):
    incident = world.records["alpha_submitted_L1"]
    services.incident_return(incident=incident, by=world.users["verifier"], comment=" Serial? ")
    assert _told(world, incident) == {"reporter_alpha": "returned"}
    assert Notification.objects.get(incident=incident).comment == "Serial?"


def test_a_verification_tells_the_reporter(world):
    incident = world.records["alpha_submitted_L1"]
    services.incident_verify(incident=incident, by=world.users["verifier"])
    assert _told(world, incident) == {"reporter_alpha": "verified"}


def test_a_withdrawal_tells_the_reporter_and_the_verifiers_but_not_who_withdrew(world):
    incident = world.records["alpha_submitted_L1"]
    services.incident_withdraw(incident=incident, by=world.users["admin"], reason="Duplicate.")
    assert _told(world, incident) == {
        "reporter_alpha": "withdrawn",
        "verifier": "withdrawn",
        "second_verifier": "withdrawn",
    }
    assert {n.comment for n in Notification.objects.filter(incident=incident)} == {"Duplicate."}

    returned = world.records["alpha_returned_L1"]
    services.incident_withdraw(incident=returned, by=world.users["verifier"], reason="Test.")
    assert _told(world, returned) == {"reporter_alpha": "withdrawn", "second_verifier": "withdrawn"}


def test_the_withdrawal_of_a_draft_tells_no_verifier(world):
    draft = world.records["alpha_draft_L1"]
    services.incident_withdraw(incident=draft, by=world.users["reporter_alpha"], reason="Oops.")
    assert _told(world, draft) == {}


def test_a_refused_step_tells_no_one(world):
    with pytest.raises(PermissionDenied):
        services.incident_verify(
            incident=world.records["alpha_draft_L1"], by=world.users["verifier"]
        )
    assert not Notification.objects.exists()


def test_the_top_bar_counts_the_unread_notifications(client, world):
    sign_in(client, world, "verifier")
    assert 'id="notifications-link">Notifications</a>' in client.get("/").content.decode()
    for name in ("alpha_draft_L1", "alpha_returned_L1"):
        services.incident_submit(incident=world.records[name], by=world.users["reporter_alpha"])
    assert ">2 unread notifications</a>" in client.get("/").content.decode()
    Notification.objects.filter(recipient=world.users["verifier"]).update(read_at=timezone.now())
    assert "unread notification" not in client.get("/").content.decode()


def test_the_page_lists_newest_first_and_opening_one_marks_it_read(client, world):
    first, second = world.records["alpha_draft_L1"], world.records["alpha_returned_L1"]
    for incident in (first, second):
        services.incident_submit(incident=incident, by=world.users["reporter_alpha"])
    sign_in(client, world, "verifier")
    page = client.get("/notifications/").content.decode()
    newest, oldest = Notification.objects.filter(recipient=world.users["verifier"])
    assert newest.incident == second
    assert page.index(f'data-notification="{newest.pk}"') < page.index(
        f'data-notification="{oldest.pk}"'
    )
    assert "reporter_alpha submitted the record Seizure at checkpoint or border 2025-03-14" in page
    assert f'href="/notifications/{newest.pk}"' in page

    opened = client.get(f"/notifications/{newest.pk}")
    assert opened.status_code == 302 and opened["Location"] == f"/incidents/{second.pk}/"
    newest.refresh_from_db()
    oldest.refresh_from_db()
    assert newest.read_at is not None and oldest.read_at is None


def test_the_page_reads_as_many_queries_for_one_notification_as_for_many(client, world):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/notifications/").status_code == 200
        return len(captured)

    sign_in(client, world, "verifier")
    services.incident_submit(
        incident=world.records["alpha_draft_L1"], by=world.users["reporter_alpha"]
    )
    one = queries()
    services.incident_submit(
        incident=world.records["alpha_returned_L1"], by=world.users["reporter_alpha"]
    )
    for name in ("alpha_submitted_L1", "bravo_submitted_L5"):
        services.incident_withdraw(
            incident=world.records[name], by=world.users["admin"], reason="Duplicate."
        )
    assert Notification.objects.filter(recipient=world.users["verifier"]).count() == 4
    assert queries() == one


def test_mark_all_read_marks_only_the_readers_own(client, world):
    services.incident_submit(
        incident=world.records["alpha_draft_L1"], by=world.users["reporter_alpha"]
    )
    sign_in(client, world, "verifier")
    assert client.get("/notifications/read").status_code == 405
    response = client.post("/notifications/read", follow=True)
    assert "1 notification marked read." in response.content.decode()
    assert Notification.objects.get(recipient=world.users["verifier"]).read_at is not None
    assert Notification.objects.get(recipient=world.users["second_verifier"]).read_at is None


def test_nobody_reads_or_opens_anothers_notifications(client, world):
    services.incident_submit(
        incident=world.records["alpha_draft_L1"], by=world.users["reporter_alpha"]
    )
    theirs = Notification.objects.get(recipient=world.users["verifier"])
    sign_in(client, world, "reporter_alpha")
    assert client.get(f"/notifications/{theirs.pk}").status_code == 404
    assert f'data-notification="{theirs.pk}"' not in client.get("/notifications/").content.decode()
    theirs.refresh_from_db()
    assert theirs.read_at is None
    client.logout()
    assert client.get("/notifications/").status_code == 302


def test_a_recipient_who_lost_access_is_told_only_that_a_record_changed(client, world):
    incident = world.records["alpha_submitted_L1"]
    services.incident_return(incident=incident, by=world.users["verifier"], comment="Serial?")
    services.incident_withdraw(incident=incident, by=world.users["admin"], reason="Secret.")
    Membership.objects.filter(user=world.users["verifier"]).delete()

    sign_in(client, world, "verifier")
    page = client.get("/notifications/").content.decode()
    assert "A record changed." in page
    notifications_table = page[page.index('id="notifications"') :]
    for revealing in ("checkpoint", "Alpha", "Secret.", "admin withdrew", "/incidents/"):
        assert revealing not in notifications_table
    notification = Notification.objects.get(recipient=world.users["verifier"])
    opened = client.get(f"/notifications/{notification.pk}")
    assert opened["Location"] == "/notifications/"


def test_notifications_are_written_in_the_readers_language(client, world):
    services.incident_submit(
        incident=world.records["alpha_draft_L1"], by=world.users["reporter_alpha"]
    )
    UserPreferences.objects.create(user=world.users["verifier"], language="fr")
    sign_in(client, world, "verifier")
    # The middleware activates French in this thread; given back to the next tests.
    with translation.override(translation.get_language()):
        page = client.get("/notifications/").content.decode()
    assert "reporter_alpha a soumis" in page
    assert "1 notification non lue" in page


# --- e-mail ------------------------------------------------------------------------------


def test_an_email_says_only_that_a_record_needs_attention_in_the_recipients_language(
    world, settings
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SITE_URL = "https://armsmonitor.example.org"
    world.users["verifier"].email = "verifier@example.org"
    world.users["verifier"].save()
    UserPreferences.objects.create(user=world.users["verifier"], language="fr")
    incident = world.records["alpha_submitted_L1"]
    services.incident_return(incident=incident, by=world.users["verifier"], comment="Serial?")
    services.incident_submit(incident=incident, by=world.users["reporter_alpha"])
    notification = Notification.objects.get(recipient=world.users["verifier"])

    assert notification_email_send(notification_id=notification.pk)
    assert not notification_email_send(notification_id=notification.pk)  # once only
    (email,) = mail.outbox
    assert email.to == ["verifier@example.org"]
    assert email.subject == "ArmsMonitor : une fiche demande votre attention"
    assert f"https://armsmonitor.example.org/notifications/{notification.pk}" in email.body
    for revealing in ("checkpoint", "Alpha", "MINUSCA", "reporter_alpha", "Serial", "2025"):
        assert revealing not in email.body + email.subject

    # A recipient without an address gets none.
    second = Notification.objects.get(recipient=world.users["second_verifier"])
    assert not notification_email_send(notification_id=second.pk)
    assert len(mail.outbox) == 1


def test_an_smtp_error_leaves_the_email_to_a_retry_and_it_goes_once(world, settings, monkeypatch):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    reporter = world.users["reporter_alpha"]
    reporter.email = "reporter@example.org"
    reporter.save()
    services.incident_verify(
        incident=world.records["alpha_submitted_L1"], by=world.users["verifier"]
    )
    notification = Notification.objects.get(recipient=reporter)
    failures = [SMTPServerDisconnected("the server went away")]

    def send_mail_once_down(*args, **kwargs):
        if failures:
            raise failures.pop()
        return mail.send_mail(*args, **kwargs)

    monkeypatch.setattr(notification_mail, "send_mail", send_mail_once_down)
    # The task retries on SMTP errors with growing pauses; called directly (not from a
    # worker), a retry raises the error instead of scheduling the next attempt.
    assert issubclass(SMTPServerDisconnected, send_notification_email.autoretry_for)
    assert send_notification_email.retry_backoff and send_notification_email.max_retries
    with pytest.raises(SMTPServerDisconnected):
        send_notification_email(notification.pk)
    notification.refresh_from_db()
    assert notification.emailed_at is None and mail.outbox == []

    assert send_notification_email(notification.pk) is True
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert send_notification_email(notification.pk) is False
    assert len(mail.outbox) == 1


def test_no_email_goes_to_a_recipient_who_lost_access(world, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    verifier = world.users["verifier"]
    verifier.email = "verifier@example.org"
    verifier.save()
    services.incident_submit(
        incident=world.records["alpha_draft_L1"], by=world.users["reporter_alpha"]
    )
    Membership.objects.filter(user=verifier).delete()
    notification = Notification.objects.get(recipient=verifier)
    assert not notification_email_send(notification_id=notification.pk)
    assert mail.outbox == []


def test_nothing_is_sent_for_a_step_that_rolls_back(
    world, settings, monkeypatch, django_capture_on_commit_callbacks
):
    settings.NOTIFY_BY_EMAIL = True
    world.users["verifier"].email = "verifier@example.org"
    world.users["verifier"].save()
    sent = []
    monkeypatch.setattr(notifications, "_send_emails", sent.extend)

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.incident_submit(
            incident=world.records["alpha_draft_L1"], by=world.users["reporter_alpha"]
        )
        raise RuntimeError("the rest of the write failed")
    assert callbacks == [] and sent == []
    assert not Notification.objects.exists()
    world.records["alpha_draft_L1"].refresh_from_db()

    with django_capture_on_commit_callbacks(execute=True):
        services.incident_submit(
            incident=world.records["alpha_draft_L1"], by=world.users["reporter_alpha"]
        )
    # Only the verifier with an address is e-mailed.
    assert sent == [Notification.objects.get(recipient=world.users["verifier"]).pk]


def test_without_the_setting_no_email_is_queued(
    world, monkeypatch, django_capture_on_commit_callbacks
):
    world.users["verifier"].email = "verifier@example.org"
    world.users["verifier"].save()
    sent = []
    monkeypatch.setattr(notifications, "_send_emails", sent.extend)
    with django_capture_on_commit_callbacks(execute=True):
        services.incident_submit(
            incident=world.records["alpha_draft_L1"], by=world.users["reporter_alpha"]
        )
    assert sent == []


def _wait_for_files(folder: Path, *, timeout: float = 300) -> list[Path]:
    # A long safety limit, not a deadline: the worker usually writes within a second.
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        files = [path for path in folder.iterdir() if path.stat().st_size]
        if files:
            return files
        time.sleep(0.2)
    pytest.fail(f"No e-mail written to {folder} in {timeout} s.")


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_email_after_the_step_commits(
    world, settings, monkeypatch, tmp_path, client
):
    """Through the real worker, with Django's file-based e-mail backend: the worker is
    another process, so its settings come from the environment (start_celery_worker passes
    os.environ on), and its e-mails are read from the folder it writes them to."""
    monkeypatch.setenv("EMAIL_BACKEND", "django.core.mail.backends.filebased.EmailBackend")
    monkeypatch.setenv("EMAIL_FILE_PATH", str(tmp_path))
    monkeypatch.setenv("SITE_URL", "https://armsmonitor.example.org")
    settings.NOTIFY_BY_EMAIL = True
    reporter = world.users["reporter_alpha"]
    reporter.email = "reporter@example.org"
    reporter.save()
    UserPreferences.objects.create(user=reporter, language="fr")
    incident = world.records["alpha_submitted_L1"]

    worker = start_celery_worker("notify-mail")
    try:
        sign_in(client, world, "verifier")
        client.post(f"/incidents/{incident.pk}/return", {"comment": "Check the serial."})
        (written,) = _wait_for_files(tmp_path)
    finally:
        stop_celery_worker(worker)

    message = written.read_text()
    notification = Notification.objects.get(recipient=reporter, kind=NotificationKind.RETURNED)
    assert "To: reporter@example.org" in message
    assert "une fiche demande votre attention" in message
    assert f"https://armsmonitor.example.org/notifications/{notification.pk}" in message
    for revealing in ("Check the serial", "checkpoint", "Alpha", "verifier"):
        assert revealing not in message
    notification.refresh_from_db()
    assert notification.emailed_at is not None
    assert os.environ["EMAIL_FILE_PATH"] == str(tmp_path)

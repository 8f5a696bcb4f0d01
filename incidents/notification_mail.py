"""A notification's e-mail (NOTIFY_BY_EMAIL), sent by a worker.

E-mail leaves the platform: it says only that a record needs the recipient's attention and
gives the link to the notification (which opens the record if the reader may still read
it), never the record's reference, contents, the comment or who acted. Written in the
recipient's language (UserPreferences.language), else the site's default.
"""

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from incidents.models import Incident, Notification


def notification_email_send(*, notification_id: int) -> bool:
    """Send the e-mail of one notification; return whether one was sent (not to a
    recipient without an address, no longer active or no longer entitled to read the
    record, nor a second time)."""
    with transaction.atomic():
        # Locked: two deliveries of one task send one e-mail.
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("recipient__preferences")
            .filter(pk=notification_id, emailed_at__isnull=True)
            .first()
        )
        if notification is None:
            return False
        recipient = notification.recipient
        if not recipient.is_active or not recipient.email:
            return False
        # Nor to a recipient who can no longer read the record (a membership ended since):
        # nothing of it needs their attention any more.
        if not Incident.objects.visible_to(recipient).filter(pk=notification.incident_id).exists():
            return False
        preferences = getattr(recipient, "preferences", None)
        language = (preferences.language if preferences else "") or settings.LANGUAGE_CODE
        link = settings.SITE_URL + reverse("notifications:open", args=[notification.pk])
        with translation.override(language):
            subject = _("ArmsMonitor: a record needs your attention")
            body = "\n\n".join(
                [
                    _("A record needs your attention."),
                    link,
                    _("Sign in to ArmsMonitor to see it."),
                ]
            )
        # An SMTP error raises here and rolls back: the task retries it later.
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [recipient.email])
        notification.emailed_at = timezone.now()
        notification.save(update_fields=["emailed_at"])
    return True

"""A notification: one person told that something happened to a record (issue 21).

The row keeps what happened, to which record, by whom and when, and the comment of a
return or the reason of a withdrawal; never a copy of the record. What a reader is shown of
it is decided when it is read, from what the reader may see then (incidents/notifications.py).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from incidents.choices import NotificationKind


class Notification(models.Model):
    # No index of its own: notification_inbox (recipient first) serves it.
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("recipient"),
        db_index=False,
    )
    kind = models.CharField(_("what happened"), max_length=12, choices=NotificationKind.choices)
    incident = models.ForeignKey(
        "incidents.Incident",
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("record"),
    )
    # For a hit (issue 23): which one. The record is then the seized weapon's incident.
    hit = models.ForeignKey(
        "incidents.WeaponHit",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("hit"),
    )
    # SET_NULL: a deleted account must not take the recipients' notifications with it.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)
    comment = models.TextField(_("comment"), blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    # Set once its e-mail went out, so that a task delivered again does not send it twice.
    emailed_at = models.DateTimeField(_("e-mailed at"), null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(fields=["recipient", "-at"], name="notification_inbox"),
            # The top bar counts a reader's unread ones on every page.
            models.Index(
                fields=["recipient"],
                condition=models.Q(read_at__isnull=True),
                name="notification_unread",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.recipient} — {self.get_kind_display()} — {self.incident_id}"

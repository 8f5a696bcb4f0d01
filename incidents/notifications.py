"""Who is told what when a record moves through the workflow (issue 21), and what each
reader is shown of what they were told.

- submitted: the verifiers of its mission (who may verify it);
- returned for correction, with the verifier's comment: its reporter;
- verified: its reporter;
- withdrawn, with the reason: its reporter, and its mission's verifiers unless it was
  still a draft (verifiers never see drafts);
- a hit (issue 23: a seized weapon may be a registry entry's, or another seizure's): the
  registry entry's reporter and its mission's verifiers, and the seizing missions'
  verifiers. What each is shown of the other side is decided when read, from what the
  reader may see (`hit_wording`): until its owner releases it to them, only that a match
  exists and whom to contact.

Never the person who acted. A notification is one row per recipient, written in the
transaction of the step, so a step that fails tells no one. With NOTIFY_BY_EMAIL, each is
also sent by e-mail from a worker once the transaction commits (incidents/notification_mail.py).

What a notification shows is decided when it is read, from what the reader may see then
(`Incident.objects.visible_to`): a reader who lost sight of the record (a membership
ended) is told only that a record changed, with no reference, comment or link.
"""

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from celery import current_app
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from incidents.choices import NotificationKind, WorkflowState
from incidents.models import Incident, Notification, WeaponHit
from organisations.choices import Role

logger = logging.getLogger(__name__)

# Sent by name: incidents.tasks imports the importer, which imports the services that call
# this module, so importing the task here would be a cycle.
EMAIL_TASK = "incidents.tasks.send_notification_email"


def _verifiers_of(incident: Incident) -> QuerySet:
    return get_user_model().objects.filter(
        is_active=True,
        memberships__role=Role.VERIFIER,
        memberships__mission_id=incident.mission_id,
    )


def _reporter_of(incident: Incident) -> list[AbstractBaseUser]:
    # Records written before reported_by was kept (or by a bulk load) have no reporter.
    reporter = incident.reported_by
    return [reporter] if reporter is not None and reporter.is_active else []


def _notify(
    *,
    incident: Incident,
    kind: NotificationKind,
    by: AbstractBaseUser,
    recipients: Iterable[AbstractBaseUser],
    comment: str = "",
) -> list[Notification]:
    unique = {user.pk: user for user in recipients if user.pk != by.pk}
    notifications = Notification.objects.bulk_create(
        Notification(
            recipient_id=user.pk, kind=kind, incident=incident, actor_id=by.pk, comment=comment
        )
        for user in unique.values()
    )
    if settings.NOTIFY_BY_EMAIL:
        to_email = [n.pk for n in notifications if getattr(unique[n.recipient_id], "email", "")]
        if to_email:
            transaction.on_commit(lambda: _send_emails(to_email))
    return notifications


def _send_emails(notification_ids: Sequence[int]) -> None:
    # After the commit: a broker that is down loses the e-mails, never the step or the
    # notifications in the application (which are already written).
    for notification_id in notification_ids:
        try:
            current_app.send_task(EMAIL_TASK, args=(notification_id,))
        except Exception:
            logger.exception("Notification %s: its e-mail could not be queued.", notification_id)


def notify_submitted(*, incident: Incident, by: AbstractBaseUser) -> list[Notification]:
    return _notify(
        incident=incident,
        kind=NotificationKind.SUBMITTED,
        by=by,
        recipients=_verifiers_of(incident),
    )


def notify_returned(
    *, incident: Incident, by: AbstractBaseUser, comment: str
) -> list[Notification]:
    return _notify(
        incident=incident,
        kind=NotificationKind.RETURNED,
        by=by,
        recipients=_reporter_of(incident),
        comment=comment,
    )


def notify_verified(*, incident: Incident, by: AbstractBaseUser) -> list[Notification]:
    return _notify(
        incident=incident,
        kind=NotificationKind.VERIFIED,
        by=by,
        recipients=_reporter_of(incident),
    )


def notify_withdrawn(
    *, incident: Incident, by: AbstractBaseUser, reason: str
) -> list[Notification]:
    verifiers = _verifiers_of(incident) if incident.state != WorkflowState.DRAFT else []
    return _notify(
        incident=incident,
        kind=NotificationKind.WITHDRAWN,
        by=by,
        recipients=[*_reporter_of(incident), *verifiers],
        comment=reason,
    )


def notify_hits(hits: Sequence[WeaponHit]) -> list[Notification]:
    """Tell each hit's readers (see the module's docstring); no actor: the check found it."""
    notifications = []
    hits = list(
        WeaponHit.objects.filter(pk__in=[hit.pk for hit in hits]).select_related(
            "weapon__incident", "other_weapon__incident", "registry_entry__reported_by"
        )
    )
    for hit in hits:
        missions = {hit.weapon.incident.mission_id}
        recipients: dict[int, AbstractBaseUser] = {}
        if hit.other_weapon is not None:
            missions.add(hit.other_weapon.incident.mission_id)
        entry = hit.registry_entry
        if entry is not None:
            if entry.mission_id is not None:
                missions.add(entry.mission_id)
            if entry.reported_by is not None and entry.reported_by.is_active:
                recipients[entry.reported_by.pk] = entry.reported_by
        for user in (
            get_user_model()
            .objects.filter(
                is_active=True,
                memberships__role=Role.VERIFIER,
                memberships__mission_id__in=missions,
            )
            .distinct()
        ):
            recipients[user.pk] = user
        notifications += Notification.objects.bulk_create(
            Notification(
                recipient_id=user_id,
                kind=NotificationKind.HIT,
                incident_id=hit.weapon.incident_id,
                hit=hit,
            )
            for user_id in recipients
        )
    if settings.NOTIFY_BY_EMAIL:
        to_email = [n.pk for n in notifications]
        if to_email:
            transaction.on_commit(lambda: _send_emails(to_email))
    return notifications


def hit_wording(hit: WeaponHit) -> str:
    """What a reader is told of a hit, from `WeaponHit.objects.visible_to(reader)`'s
    annotations of the sides it may read: both sides where it may read both; else that a
    match exists and whom to contact, never the side it may not read."""
    seized_shown = hit.weapon_shown  # type: ignore[attr-defined]
    holder = hit.weapon.incident.mission.acronym if hit.weapon.incident.mission_id else ""
    entry = hit.registry_entry
    if entry is None:
        other = hit.other_weapon
        assert other is not None  # a hit has one target (constraint weaponhit_one_target)
        if seized_shown and hit.other_shown:  # type: ignore[attr-defined]
            return _(
                "Weapon %(weapon)s of record %(record)s may be weapon %(other)s of record "
                "%(other_record)s (%(reason)s, score %(score).2f)."
            ) % {
                "weapon": hit.weapon_serial,
                "record": hit.weapon.incident,
                "other": hit.matched_serial,
                "other_record": other.incident,
                "reason": hit.get_reason_display(),
                "score": hit.score,
            }
        mission = (other if seized_shown else hit.weapon).incident.mission
        return _(
            "A weapon of your mission's seizures may have been seized again elsewhere; "
            "contact %(holder)s."
        ) % {"holder": mission.acronym}
    entry_shown = hit.entry_shown  # type: ignore[attr-defined]
    if seized_shown and entry_shown:
        return _(
            "Weapon %(weapon)s of record %(record)s may be the weapon reported %(circumstance)s "
            "in registry entry %(entry)s (%(reason)s, score %(score).2f)."
        ) % {
            "weapon": hit.weapon_serial,
            "record": hit.weapon.incident,
            "circumstance": entry.get_circumstance_display().lower(),
            "entry": entry.pk,
            "reason": hit.get_reason_display(),
            "score": hit.score,
        }
    if entry_shown:
        return _("A weapon you reported may have been seized; contact %(holder)s.") % {
            "holder": holder
        }
    return _(
        "A weapon your mission seized may have been reported lost or stolen; contact "
        "%(holder)s (%(contact)s)."
    ) % {"holder": entry.reporting_body, "contact": entry.contact}


# --- reading ---------------------------------------------------------------------------


def _hits_read_by(
    reader: AbstractBaseUser, notifications: Sequence[Notification]
) -> dict[int, WeaponHit]:
    """The hits of `notifications`, with the sides `reader` may read: one query. Not only
    those it reads a side of: it was told of each as a party (its mission seized the
    weapon, or reported it), and is told whom to contact."""
    hit_ids = {n.hit_id for n in notifications if n.hit_id is not None}
    if not hit_ids:
        return {}
    return {
        hit.pk: hit
        for hit in WeaponHit.objects.with_sides_shown(reader)
        .filter(pk__in=hit_ids)
        .select_related(
            "weapon__incident__contingent__mission",
            "weapon__incident__mission",
            "other_weapon__incident__contingent__mission",
            "other_weapon__incident__mission",
            "registry_entry",
        )
    }


def notifications_of(user: AbstractBaseUser) -> QuerySet[Notification]:
    """`user`'s notifications, newest first: no one reads another's."""
    return Notification.objects.filter(recipient_id=user.pk).order_by("-at", "-id")


@dataclass(frozen=True)
class NotificationShown:
    """A notification as its reader may see it: `text`, and `record_url` and `comment`
    only while the reader may read the record."""

    pk: int
    at: datetime
    unread: bool
    text: str
    comment: str
    record_url: str | None


SENTENCES = {
    NotificationKind.SUBMITTED: gettext_lazy("%(actor)s submitted %(record)s for verification."),
    NotificationKind.RETURNED: gettext_lazy("%(actor)s returned %(record)s to you for correction."),
    NotificationKind.VERIFIED: gettext_lazy("%(actor)s verified %(record)s."),
    NotificationKind.WITHDRAWN: gettext_lazy("%(actor)s withdrew %(record)s."),
    NotificationKind.HIT: gettext_lazy("A possible match of a weapon was found."),
}


def notifications_shown(
    notifications: Sequence[Notification], *, reader: AbstractBaseUser
) -> list[NotificationShown]:
    """What `reader` is shown of its `notifications` (one query for which records it may
    still read, one for those records)."""
    incident_ids = {notification.incident_id for notification in notifications}
    readable = {
        incident.pk: incident
        for incident in Incident.objects.visible_to(reader)
        .filter(pk__in=incident_ids)
        .select_related("contingent__mission")
    }
    actors = {
        user.pk: user.get_username()
        for user in get_user_model().objects.filter(
            pk__in={notification.actor_id for notification in notifications}
        )
    }
    hits = _hits_read_by(reader, notifications)
    shown = []
    for notification in notifications:
        incident = readable.get(notification.incident_id)
        unread = notification.read_at is None
        if notification.kind == NotificationKind.HIT:
            hit = hits.get(notification.hit_id or 0)
            text = hit_wording(hit) if hit is not None else _("A possible match has changed.")
            url = reverse("incidents:hits") if hit is not None else None
            shown.append(NotificationShown(notification.pk, notification.at, unread, text, "", url))
            continue
        if incident is None:
            shown.append(
                NotificationShown(
                    notification.pk, notification.at, unread, _("A record changed."), "", None
                )
            )
            continue
        actor = actors.get(notification.actor_id) if notification.actor_id else None
        text = str(SENTENCES[NotificationKind(notification.kind)]) % {
            "actor": actor or _("Someone"),
            "record": _("the record %(record)s") % {"record": incident},
        }
        shown.append(
            NotificationShown(
                notification.pk,
                notification.at,
                unread,
                text,
                notification.comment,
                reverse("incidents:detail", args=[incident.pk]),
            )
        )
    return shown


def notification_open(*, notification: Notification, reader: AbstractBaseUser) -> str | None:
    """Mark `reader`'s notification read; return the record's address if the reader may
    still read it."""
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    if notification.kind == NotificationKind.HIT:
        return reverse("incidents:hits")  # the page shows each reader what it may see
    if Incident.objects.visible_to(reader).filter(pk=notification.incident_id).exists():
        return reverse("incidents:detail", args=[notification.incident_id])
    return None


def notifications_mark_read(*, reader: AbstractBaseUser) -> int:
    """Mark all of `reader`'s notifications read; return how many were unread."""
    return notifications_of(reader).filter(read_at__isnull=True).update(read_at=timezone.now())

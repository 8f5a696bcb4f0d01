"""A record's whole history (issue 21): every change to the incident and to its weapons,
ammunition, people, trace requests, illicit origins, custody events and photos, newest
first, each with who made it and when, fields and values labelled in the reader's language.

The incident, its items, traces and origins keep history tables (django-simple-history):
each saved version is a row, and a change is the difference between a version and the one
before it. A save that changed nothing the reader may see is not listed. Custody events
are an append-only chain (each event is itself the change, listed at the time it happened)
and photos are added or removed whole: each is listed once, when it was uploaded.

What a reader may not see of the record stays out of its history too: the location's
precise fields for a reader of generalised locations, the people involved and the link to
gender-based violence for a reader without gender data (organisations' access policy,
`incidents.view_gender_data`).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from incidents.models import (
    AmmunitionItem,
    CustodyEvent,
    Incident,
    PersonsInvolved,
    Photo,
    WeaponItem,
)
from incidents.origins import IllicitOrigin
from incidents.trace_requests import TraceRequest

# Fields of the history that tell where the incident happened more precisely than a
# generalised location does.
LOCATION_FIELDS = frozenset({"location", "admin_area", "nearest_place", "h3_cell"})
GENDER_FIELDS = frozenset({"gbv_link", "gbv_type"})
# Kept by the database or by the platform, not the record's content.
NOT_CONTENT = frozenset({"updated_at", "revision", "parts_revision"})


@dataclass
class FieldChange:
    field: str  # the field's label
    old: str
    new: str


@dataclass
class HistoryEntry:
    when: datetime
    who: Any  # the user, or None (a change made outside a request)
    part: str  # "Record", "Weapon 2 (Assault rifles)", …
    type: str  # created, changed, deleted
    fields: list[FieldChange] = field(default_factory=list)


def record_history(
    incident: Incident, *, location_is_exact: bool, gender_data: bool
) -> list[HistoryEntry]:
    """The record's changes, newest first (see the module's doc)."""
    hidden = set(NOT_CONTENT)
    if not location_is_exact:
        hidden |= LOCATION_FIELDS
    if not gender_data:
        hidden |= GENDER_FIELDS
    weapon_versions = _ordered(WeaponItem.history.filter(incident_id=incident.pk))
    weapon_numbers = _numbers(weapon_versions)
    entries = _versions(
        _ordered(incident.history.all()), lambda _version: pgettext("history", "Record"), hidden
    )
    entries += _versions(
        weapon_versions,
        lambda version: (
            _("Weapon %(n)s (%(category)s)")
            % {"n": weapon_numbers[version.id], "category": version.get_category_display()}
        ),
        hidden,
    )
    ammunition_versions = _ordered(AmmunitionItem.history.filter(incident_id=incident.pk))
    ammunition_numbers = _numbers(ammunition_versions)
    entries += _versions(
        ammunition_versions,
        lambda version: _("Ammunition %(n)s") % {"n": ammunition_numbers[version.id]},
        hidden,
    )
    if gender_data:
        entries += _versions(
            _ordered(PersonsInvolved.history.filter(incident_id=incident.pk)),
            lambda version: _("People involved (%(role)s)") % {"role": version.get_role_display()},
            hidden,
        )
    weapon_ids = list(weapon_numbers)
    entries += _versions(
        _ordered(TraceRequest.history.filter(weapon_id__in=weapon_ids)),
        lambda version: (
            _("Trace request %(id)s of weapon %(n)s")
            % {"id": version.id, "n": weapon_numbers.get(version.weapon_id, "?")}
        ),
        hidden,
    )
    entries += _versions(
        _ordered(IllicitOrigin.history.filter(weapon_id__in=weapon_ids)),
        lambda version: (
            _("Illicit origin of weapon %(n)s") % {"n": weapon_numbers.get(version.weapon_id, "?")}
        ),
        hidden,
    )
    entries += [
        HistoryEntry(
            # The chain keeps when the event happened, not when it was typed in.
            when=event.occurred_at,
            who=event.recorded_by,
            part=_("Custody of weapon %(n)s") % {"n": weapon_numbers.get(event.weapon_id, "?")},
            type=_("Recorded"),
            fields=[FieldChange(str(_("event")), "", event.get_kind_display())],
        )
        for event in CustodyEvent.objects.filter(weapon_id__in=weapon_ids).select_related(
            "recorded_by"
        )
    ]
    entries += [
        HistoryEntry(
            when=photo.uploaded_at,
            who=photo.uploaded_by,
            part=_("Photo %(name)s") % {"name": photo.original_name},
            type=_("Added"),
        )
        for photo in Photo.objects.filter(incident_id=incident.pk).select_related("uploaded_by")
    ]
    return sorted(entries, key=lambda entry: entry.when, reverse=True)


def _ordered(versions: models.QuerySet) -> list:
    """The versions, oldest first, with who made each (one query)."""
    return list(versions.select_related("history_user").order_by("history_date", "pk"))


def _numbers(versions: list) -> dict[int, int]:
    """Items numbered as the record lists them (1, 2, … in the order they were added, by
    id), deleted ones included."""
    ids = sorted({version.id for version in versions})
    return {item_id: number for number, item_id in enumerate(ids, start=1)}


def _versions(versions: list, part, hidden: set[str]) -> list[HistoryEntry]:
    """One entry per version of each object in `versions` (oldest first): its creation,
    each change that touched a field the reader may see (with its old and new values), its
    deletion."""
    entries: list[HistoryEntry] = []
    previous_of: dict[int, Any] = {}
    for version in versions:
        previous = previous_of.get(version.id)
        previous_of[version.id] = version
        if version.history_type == "~" and previous is not None:
            changes = list(_changes(previous, version, hidden))
            if not changes:
                continue  # saved, but nothing the reader may see changed
        else:
            changes = []
        entries.append(
            HistoryEntry(
                when=version.history_date,
                who=version.history_user,
                part=str(part(version)),
                type=str(version.get_history_type_display()),
                fields=changes,
            )
        )
    return entries


def _changes(previous, version, hidden: set[str]) -> Iterable[FieldChange]:
    model = version.instance_type
    for change in version.diff_against(previous).changes:
        if change.field in hidden:
            continue
        model_field = model._meta.get_field(change.field)
        yield FieldChange(
            field=str(getattr(model_field, "verbose_name", change.field)),
            old=_shown(model_field, change.old),
            new=_shown(model_field, change.new),
        )


def _shown(model_field, value) -> str:
    """A value as the reader reads it: a choice's label, the related object's name, yes/no,
    a list joined."""
    if value is None or value == "":
        return ""
    if model_field.is_relation and not isinstance(value, list | tuple):
        related = model_field.related_model.objects.filter(pk=value).first()
        return str(related) if related is not None else str(value)
    choices = dict(getattr(model_field, "flatchoices", None) or ())
    if isinstance(value, list | tuple):
        return ", ".join(str(choices.get(item, item)) for item in value)
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    return str(choices.get(value, value))

"""Writes and rules about incidents: create and edit, the workflow, custody, photos.

Every write checks the principal's permission (incidents/rules.py), validates, saves in one
transaction, and leaves a history row (django-simple-history) naming who did it.
"""

import hashlib
import io
from collections.abc import Iterable, Sequence

import h3
import rules
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageFile, UnidentifiedImageError

from geo.core.borders import border_tolerance_m
from incidents.choices import (
    TRACE_NEGATIVE,
    TRACE_OUTCOMES,
    TRACE_POSITIVE,
    OriginMethod,
    PhotoSubject,
    TraceStatus,
    WorkflowState,
)
from incidents.imports.files import upload_display_name
from incidents.models import (
    AmmunitionItem,
    IllicitOrigin,
    Incident,
    PersonsInvolved,
    Photo,
    TraceRequest,
    WeaponItem,
)
from incidents.notifications import (
    notify_returned,
    notify_submitted,
    notify_verified,
    notify_withdrawn,
)
from incidents.registry.hits import hits_check_soon
from incidents.selectors import incident_revision
from incidents.trace_requests import trace_refusal
from organisations.audit import record_write

H3_RESOLUTION = 8

# Derived in PostGIS from the point: its country as geo/core/borders.py decides (the mission's
# host country near a border), the deepest admin area that covers it, and the nearest
# named place (KNN on the gazetteer's GiST index).
ASSIGN_GEOGRAPHY_SQL = """
UPDATE incidents_incident AS incident SET
    country = placed.country,
    near_border = placed.near_border,
    admin_area_id = (
        SELECT area.id FROM geo_adminarea AS area
        WHERE ST_Covers(area.boundary, incident.location)
        ORDER BY area.level DESC, area.id LIMIT 1),
    nearest_place_id = (
        SELECT place.geonameid FROM geo_place AS place
        ORDER BY place.point <-> incident.location LIMIT 1)
FROM (
    SELECT located.id, near.*
    FROM incidents_incident AS located
    JOIN organisations_mission AS mission ON mission.id = located.mission_id
    CROSS JOIN LATERAL geo_country_near(located.location, mission.host_countries, %s) AS near
    WHERE located.id = ANY(%s)
) AS placed
WHERE incident.id = placed.id
"""


def incidents_assign_geography(*, incident_ids: Iterable[int]) -> int:
    """Set country, admin area and nearest named place of the given incidents from their
    locations, in one statement; return how many incidents were updated."""
    with connection.cursor() as cursor:
        cursor.execute(ASSIGN_GEOGRAPHY_SQL, [border_tolerance_m(), list(incident_ids)])
        return cursor.rowcount


def h3_cell_of(*, latitude: float, longitude: float) -> int:
    return int(h3.latlng_to_cell(latitude, longitude, H3_RESOLUTION), 16)


def _require(permission: str, principal, incident: Incident | None = None) -> None:
    if not rules.has_perm(f"incidents.{permission}", principal, incident):
        raise PermissionDenied(
            _("You may not %(action)s this record.") % {"action": permission.split("_")[0]}
        )


class RecordChanged(Exception):
    """The record changed since its editor opened it: nothing was saved. `current` is the
    record as it is now, `revision` its revision (incidents.selectors.incident_revision)."""

    def __init__(self, *, current: Incident, revision: str) -> None:
        super().__init__(f"incident {current.pk} changed: now at revision {revision}")
        self.current = current
        self.revision = revision


@transaction.atomic
def incident_save(
    *,
    by: AbstractBaseUser,
    incident: Incident,
    item_formsets=(),
    opened_revision: str | None = None,
) -> Incident:
    """Create a draft or save an edited one, with its inline items (weapons, ammunition,
    people involved); derive its H3 cell, country, admin area and nearest place.

    `opened_revision`: the record's revision when its editor opened it. If the record has
    changed since (another editor, a workflow step, an import), raises RecordChanged and
    saves nothing: a save never silently overwrites what someone else wrote."""
    creating = incident.pk is None
    if creating:
        _require("add_incident", by)
        if not rules.has_perm("incidents.report_for_contingent", by, incident.contingent):
            raise PermissionDenied(
                _("You do not report for the contingent %(contingent)s.")
                % {"contingent": incident.contingent}
            )
        incident.mission_id = incident.contingent.mission_id
        incident.reported_by = by
        incident.state = WorkflowState.DRAFT
    else:
        # Locked until this save ends: two editors saving at once are checked one after the
        # other, the second against what the first wrote.
        current = Incident.objects.select_for_update().get(pk=incident.pk)
        _require("change_incident", by, current)
        if opened_revision is not None:
            revision = incident_revision(incident.pk)
            if revision != opened_revision:
                raise RecordChanged(current=current, revision=revision)
    if incident.occurred_at and incident.occurred_at > timezone.now():
        raise ValidationError({"occurred_at": _("The date is in the future.")})
    incident.h3_cell = h3_cell_of(latitude=incident.location.y, longitude=incident.location.x)
    incident.full_clean(exclude=["country", "mission", "reported_by"])
    incident._history_user = by
    incident.save()
    for formset in item_formsets:
        formset.instance = incident
        formset.save()
    incidents_assign_geography(incident_ids=[incident.pk])
    incident.refresh_from_db()
    record_write(by, "incident.create" if creating else "incident.update", target=incident)
    # Its weapons were queued by the database as they were written; checked on commit.
    hits_check_soon()
    return incident


ITEM_MODELS = {"weapons": WeaponItem, "ammunition": AmmunitionItem, "persons": PersonsInvolved}


def _error_messages(error: ValidationError, prefix: str = "") -> dict[str, list[str]]:
    """A ValidationError as {field: messages}, fields named `prefix.field` and errors about
    no one field under `prefix` (or `non_field_errors`)."""
    named = error.message_dict if hasattr(error, "error_dict") else {"__all__": error.messages}
    return {
        (prefix if field == "__all__" else f"{prefix}.{field}")
        if prefix
        else ("non_field_errors" if field == "__all__" else field): messages
        for field, messages in named.items()
    }


@transaction.atomic
def incident_create_with_items(
    *,
    by: AbstractBaseUser,
    incident: Incident,
    weapons: Iterable[dict] = (),
    ammunition: Iterable[dict] = (),
    persons: Iterable[dict] = (),
) -> Incident:
    """Create a draft with its weapons, ammunition and people involved in one go (the API's
    create): incident_save's rules (permission, date, derived geography, history), then
    every item checked; all or nothing. Errors name the item: `weapons[1].category`."""
    items: list[tuple[str, models.Model]] = []
    errors: dict[str, list[str]] = {}
    groups: dict[tuple, int] = {}
    for name, rows in (("weapons", weapons), ("ammunition", ammunition), ("persons", persons)):
        for index, fields in enumerate(rows):
            item = ITEM_MODELS[name](**fields)
            label = f"{name}[{index}]"
            try:
                item.full_clean(exclude=["incident"])
            except ValidationError as error:
                errors.update(_error_messages(error, label))
            if name == "persons":
                group = (item.role, item.sex, item.age_group)
                if group in groups:
                    errors.setdefault(label, []).append(
                        _("The same role, sex and age group as persons[%(first)d]: give one count.")
                        % {"first": groups[group]}
                    )
                groups.setdefault(group, index)
            items.append((name, item))
    try:
        incident = incident_save(by=by, incident=incident)
    except ValidationError as error:
        raise ValidationError({**_error_messages(error), **errors}) from error
    if errors:
        raise ValidationError(errors)
    for _name, item in items:
        item.incident = incident
        item._history_user = by
        item.save()
    hits_check_soon()
    return incident


def _transition(incident: Incident, *, by, permission: str, to: str, **changes) -> Incident:
    _require(permission, by, incident)
    incident.state = to
    for field, value in changes.items():
        setattr(incident, field, value)
    incident._history_user = by
    incident.save(update_fields=["state", "updated_at", *changes])
    record_write(by, f"incident.{permission.split('_')[0]}", target=incident)
    return incident


@transaction.atomic
def incident_submit(*, incident: Incident, by: AbstractBaseUser) -> Incident:
    incident = _transition(
        incident, by=by, permission="submit_incident", to=WorkflowState.SUBMITTED
    )
    notify_submitted(incident=incident, by=by)
    return incident


@transaction.atomic
def incident_verify(*, incident: Incident, by: AbstractBaseUser) -> Incident:
    incident = _transition(
        incident, by=by, permission="verify_incident", to=WorkflowState.VERIFIED, return_comment=""
    )
    notify_verified(incident=incident, by=by)
    return incident


@transaction.atomic
def incident_return(*, incident: Incident, by: AbstractBaseUser, comment: str) -> Incident:
    if not comment.strip():
        raise ValidationError({"comment": _("Say what the reporter should correct.")})
    incident = _transition(
        incident,
        by=by,
        permission="return_incident",
        to=WorkflowState.RETURNED,
        return_comment=comment.strip(),
    )
    notify_returned(incident=incident, by=by, comment=incident.return_comment)
    return incident


@transaction.atomic
def incident_withdraw(*, incident: Incident, by: AbstractBaseUser, reason: str) -> Incident:
    """Withdraw a record with a reason. Records are never deleted: a withdrawn one stays in
    the history and is reported to incremental sync."""
    _require("withdraw_incident", by, incident)
    if not reason.strip():
        raise ValidationError({"reason": _("Give the reason for withdrawing the record.")})
    if incident.withdrawn_at:
        raise ValidationError(_("The record is already withdrawn."))
    incident.withdrawn_at = timezone.now()
    incident.withdrawn_reason = reason.strip()
    incident._history_user = by
    incident.save(update_fields=["withdrawn_at", "withdrawn_reason", "updated_at"])
    record_write(by, "incident.withdraw", target=incident)
    notify_withdrawn(incident=incident, by=by, reason=incident.withdrawn_reason)
    return incident


# --- chain of custody: incidents/custody.py (keyed hashes, head log, digests) ---------

# --- tracing ------------------------------------------------------------------------


# The request's own fields (ISACS 05.31, ITI paragraph 17) that trace_request_send takes
# as written, besides the weapon, the addressee, the date sent and the request it follows.
TRACE_REQUEST_DETAILS = (
    "reference",
    "addressee_country",
    "requester_contact_name",
    "requester_contact_organisation",
    "requester_contact_email",
    "requester_contact_phone",
    "addressee_contact_name",
    "addressee_contact_organisation",
    "addressee_contact_email",
    "addressee_contact_phone",
    "illicit_nature",
    "legal_basis",
    "intended_use",
    "confidentiality",
    "urgency",
    "serial_number_sent",
    "component_serials",
    "response_due_on",
)


@transaction.atomic
def trace_request_send(
    *,
    weapon: WeaponItem,
    by: AbstractBaseUser,
    addressee: str,
    sent_on,
    follows: TraceRequest | None = None,
    photos: Iterable[Photo] = (),
    **details,
) -> TraceRequest:
    """Record a tracing request sent about one weapon to a State or manufacturer, with what
    it said (TRACE_REQUEST_DETAILS) and the photos sent; `follows` is the earlier request on
    the same weapon it continues (manufacturer → exporter → importer)."""
    _require("record_trace", by, weapon.incident)
    unknown = set(details) - set(TRACE_REQUEST_DETAILS)
    if unknown:
        raise TypeError(f"trace_request_send: unknown fields {sorted(unknown)}")
    # Locked, so that its quantity cannot change under the check.
    weapon = WeaponItem.objects.select_for_update().get(pk=weapon.pk)
    errors: dict[str, str] = dict(trace_refusal(weapon) or {})
    if sent_on > timezone.localdate():
        errors["sent_on"] = _("The date is in the future.")
    if follows is not None:
        if follows.weapon_id != weapon.pk:
            errors["follows"] = _(
                "A follow-up request concerns the same weapon as the request it follows."
            )
        elif sent_on < follows.sent_on:
            errors["follows"] = _(
                "A follow-up request cannot be sent before the request it follows."
            )
    due = details.get("response_due_on")
    if due is not None and due < sent_on:
        errors["response_due_on"] = _("The answer cannot be due before the request is sent.")
    photos = list(photos)
    if any(photo.incident_id != weapon.incident_id for photo in photos):
        errors["photos_sent"] = _("Only photos of this record can be sent with its traces.")
    if errors:
        raise ValidationError(errors)
    if not details.get("serial_number_sent"):
        details["serial_number_sent"] = weapon.serial_number
    if not details.get("component_serials"):
        details["component_serials"] = weapon.component_serials
    trace = TraceRequest(
        weapon=weapon,
        addressee=addressee,
        sent_on=sent_on,
        follows=follows,
        status=TraceStatus.SENT,
        **details,
    )
    trace.full_clean()
    trace._history_user = by
    trace.save()
    if photos:
        trace.photos_sent.set(photos)
    record_write(by, "trace.send", target=trace)
    return trace


@transaction.atomic
def trace_request_progress(
    *,
    trace: TraceRequest,
    by: AbstractBaseUser,
    acknowledged_on=None,
    reminder_sent_on=None,
    response_due_on=None,
) -> TraceRequest:
    """Record the addressee's acknowledgement of receipt (a sent request becomes
    acknowledged), a reminder sent, or a new deadline; each date given replaces the one on
    record, the others are kept."""
    _require("record_trace", by, trace.weapon.incident)
    errors = {}
    today = timezone.localdate()
    for field, value in (
        ("acknowledged_on", acknowledged_on),
        ("reminder_sent_on", reminder_sent_on),
        ("response_due_on", response_due_on),
    ):
        if value is None:
            continue
        if value < trace.sent_on:
            errors[field] = _("The date is before the request was sent.")
        elif value > today and field != "response_due_on":
            errors[field] = _("The date is in the future.")
        else:
            setattr(trace, field, value)
    if errors:
        raise ValidationError(errors)
    if acknowledged_on is not None and trace.status == TraceStatus.SENT:
        trace.status = TraceStatus.ACKNOWLEDGED
    trace.full_clean()
    trace._history_user = by
    trace.save()
    record_write(by, "trace.progress", target=trace)
    return trace


@transaction.atomic
def trace_request_answer(
    *,
    trace: TraceRequest,
    by: AbstractBaseUser,
    answered_on,
    diversion_established: bool = False,
    status: str | None = None,
    failure_reason: str = "",
    failure_detail: str = "",
    forwarded_to: str = "",
    diversion_country: str = "",
    diversion_point=None,
    last_legal_end_user: str = "",
    transit_countries: list[str] | None = None,
) -> TraceRequest:
    """Record the answer to a tracing request: its outcome (`status`, one of
    TRACE_OUTCOMES; by default "answered" when the point of diversion was established,
    else "closed_untraced"), why it failed (a negative outcome carries a failure reason),
    to whom it was forwarded, and whether and where the weapon was diverted from lawful
    hands and which countries it crossed on the way. This result feeds the flows and the
    SDG 16.4.2 indicator."""
    _require("record_trace", by, trace.weapon.incident)
    if status is None:
        status = TraceStatus.ANSWERED if diversion_established else TraceStatus.CLOSED_UNTRACED
    errors = {}
    if status not in TRACE_OUTCOMES:
        errors["status"] = _("An answer is one of: %(outcomes)s.") % {
            "outcomes": ", ".join(str(TraceStatus(code).label) for code in TRACE_OUTCOMES)
        }
    if answered_on < trace.sent_on:
        errors["answered_on"] = _("The answer cannot come before the request was sent.")
    elif answered_on > timezone.localdate():
        errors["answered_on"] = _("The date is in the future.")
    if diversion_established and status not in TRACE_POSITIVE:
        errors["diversion_established"] = _(
            "Only a full or partial trace establishes the point of diversion."
        )
    if diversion_established and not diversion_country:
        errors["diversion_country"] = _("Say in which country the weapon was diverted.")
    if status in TRACE_NEGATIVE and not failure_reason:
        errors["failure_reason"] = _("Say why the trace failed: a negative answer needs a reason.")
    if status == TraceStatus.FORWARDED and not forwarded_to.strip():
        errors["forwarded_to"] = _("Say to which State or manufacturer it was forwarded.")
    if errors:
        raise ValidationError(errors)
    trace.answered_on = answered_on
    trace.status = status
    trace.failure_reason = failure_reason if status in TRACE_NEGATIVE else ""
    trace.failure_detail = failure_detail.strip() if status in TRACE_NEGATIVE else ""
    trace.forwarded_to = forwarded_to.strip() if status == TraceStatus.FORWARDED else ""
    trace.diversion_established = diversion_established
    trace.diversion_country = diversion_country if diversion_established else ""
    trace.diversion_point = diversion_point if diversion_established else None
    trace.transit_countries = list(transit_countries or []) if diversion_established else []
    trace.last_legal_end_user = last_legal_end_user
    trace.full_clean()
    trace._history_user = by
    trace.save()
    record_write(by, "trace.answer", target=trace)
    return trace


# --- illicit origins -----------------------------------------------------------------


@transaction.atomic
def illicit_origin_record(
    *,
    weapon: WeaponItem,
    by: AbstractBaseUser,
    method: str,
    kind: str,
    established_by: str,
    established_on,
    trace: TraceRequest | None = None,
    diversion_country: str = "",
    diversion_point=None,
    diversion_date=None,
    notes: str = "",
) -> IllicitOrigin:
    """Record how and by whom a weapon's illicit origin was established (incidents/origins.py);
    a later record for the same weapon replaces the earlier one, which stays in the history.

    A trace request of this weapon named is the evidence, and the method is then a trace;
    a trace without one named is one whose request is held elsewhere (a national
    authority's, another mission's), as an import file may state. The weapon must be
    recovered before its diversion is recorded as established, so the dates must be in
    order."""
    _require("record_trace", by, weapon.incident)
    errors = {}
    if trace is not None and method != OriginMethod.TRACE:
        errors["trace"] = _(
            "A trace request is named: the origin was established by way of a trace."
        )
    elif trace is not None and trace.weapon_id != weapon.pk:
        errors["trace"] = _("The trace request concerns another weapon.")
    if established_on > timezone.localdate():
        errors["established_on"] = _("The date is in the future.")
    if diversion_date and diversion_date > weapon.incident.occurred_at.date():
        errors["diversion_date"] = _(
            "The weapon cannot have been diverted after it was recovered (%(date)s)."
        ) % {"date": weapon.incident.occurred_at.date()}
    if errors:
        raise ValidationError(errors)
    origin = IllicitOrigin.objects.filter(weapon=weapon).first() or IllicitOrigin(weapon=weapon)
    for name, value in {
        "method": method,
        "kind": kind,
        "trace": trace,
        "diversion_country": diversion_country,
        "diversion_point": diversion_point,
        "diversion_date": diversion_date,
        "established_by": established_by,
        "established_on": established_on,
        "notes": notes,
    }.items():
        setattr(origin, name, value)
    origin.recorded_by = origin.recorded_by or by
    origin.full_clean()
    origin._history_user = by
    origin.save()
    record_write(by, "origin.record", target=origin)
    return origin


# --- photos -------------------------------------------------------------------------

PHOTO_MAX_BYTES = 15 * 1024 * 1024
PHOTO_MAX_PIXELS = 40_000_000
# Pillow's own guard, for this process: it warns above this count and refuses at twice it
# (instead of its default 179 million). photo_attach refuses above the count itself.
Image.MAX_IMAGE_PIXELS = PHOTO_MAX_PIXELS
PHOTO_FORMATS = {
    "JPEG": ("image/jpeg", "jpg"),
    "PNG": ("image/png", "png"),
    "WEBP": ("image/webp", "webp"),
}


@transaction.atomic
def photo_attach(
    *,
    incident: Incident,
    by: AbstractBaseUser,
    upload,
    weapon: WeaponItem | None = None,
    shows: Sequence[str] = (),
) -> Photo:
    """Check a photo from its content (size, format, pixel count), re-encode it without
    its metadata, and attach it to the incident (and one of its weapons), with what it
    shows (PhotoSubject codes: the marks it is a photo of)."""
    _require("change_incident", by, incident)
    unknown = sorted(set(shows) - set(PhotoSubject.values))
    if unknown:
        raise ValidationError(
            {"shows": _("Not one of the subjects of a photo: %(codes)s.") % {"codes": unknown}}
        )
    if upload.size > PHOTO_MAX_BYTES:
        raise ValidationError({"image": _("The photo is larger than 15 MB.")})
    content = upload.read()
    # A process-wide switch of Pillow's, which WeasyPrint turns on when imported (the
    # reports): on, a truncated file "loads" with its missing part blank, and would be kept.
    ImageFile.LOAD_TRUNCATED_IMAGES = False
    try:
        with Image.open(io.BytesIO(content)) as probe:
            image_format, (width, height) = probe.format, probe.size
            if image_format not in PHOTO_FORMATS:
                raise ValidationError(
                    {
                        "image": _("%(format)s images are not accepted; send JPEG, PNG or WebP.")
                        % {"format": image_format}
                    }
                )
            if width * height > PHOTO_MAX_PIXELS:
                raise ValidationError({"image": _("The photo has more than 40 million pixels.")})
            probe.load()
            # Re-encoding drops EXIF (which may hold the photographer's GPS position) and
            # anything hidden after the image data.
            clean = io.BytesIO()
            probe.convert("RGB" if image_format == "JPEG" else probe.mode).save(
                clean, format=image_format
            )
    except Image.DecompressionBombError as error:
        # Pillow refuses at open above twice MAX_IMAGE_PIXELS, before our own check.
        raise ValidationError({"image": _("The photo has more than 40 million pixels.")}) from error
    except (UnidentifiedImageError, OSError) as error:
        raise ValidationError({"image": _("The file is not an image.")}) from error
    content_type, extension = PHOTO_FORMATS[image_format]
    encoded = clean.getvalue()
    digest = hashlib.sha256(encoded).hexdigest()
    # The record locked, so that the same photo sent twice at once is still kept once.
    Incident.objects.select_for_update().filter(pk=incident.pk).first()
    if Photo.objects.filter(incident=incident, weapon=weapon, sha256=digest).exists():
        raise ValidationError({"image": _("This photo is already attached to this record.")})
    photo = Photo(
        incident=incident,
        weapon=weapon,
        original_name=upload_display_name(upload.name),
        content_type=content_type,
        extension=extension,
        size=len(encoded),
        sha256=digest,
        uploaded_by=by,
        shows=sorted(set(shows)),
    )
    photo.image.save(f"photo.{extension}", ContentFile(encoded), save=False)
    photo.save()
    record_write(by, "photo.attach", target=photo)
    return photo


# The advisory lock that lets one copy of the nearest-place work run at a time.
NEAREST_PLACES_LOCK = 0x6E656172  # "near"


def incidents_assign_missing_nearest_places(*, batch: int = 5_000) -> int | None:
    """Fill in the nearest named place wherever it is missing (after a large import), in
    short batches, each committed (a stopped run resumes where it was); idempotent. Return
    how many incidents were updated, or None when another copy is running: two copies
    would only hold two workers on the same rows."""
    from geo.models import Place

    if not Place.objects.exists():
        return 0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [NEAREST_PLACES_LOCK])
        if not cursor.fetchone()[0]:
            return None
    updated = 0
    try:
        while True:
            with transaction.atomic(), connection.cursor() as cursor:
                # SKIP LOCKED: rows an import or an edit holds are done on the next run.
                cursor.execute(
                    """
                    UPDATE incidents_incident AS incident SET nearest_place_id = (
                        SELECT place.geonameid FROM geo_place AS place
                        ORDER BY place.point <-> incident.location LIMIT 1)
                    WHERE incident.id IN (SELECT id FROM incidents_incident
                                          WHERE nearest_place_id IS NULL
                                          LIMIT %s FOR UPDATE SKIP LOCKED)
                """,
                    [batch],
                )
                updated += cursor.rowcount
                if cursor.rowcount < batch:
                    return updated
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [NEAREST_PLACES_LOCK])

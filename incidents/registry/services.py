"""Writes of the registry: entries with their serials, and decisions on hits. Each checks
who writes, validates (errors name the field: `serials[1].serial`), and writes all or
nothing; the serials' trigger queues the entry for the hit check, which runs once the
transaction commits."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from incidents.component_serials import validate_component_serials
from incidents.models import RegistryEntry, RegistrySerial, WeaponHit
from incidents.registry.choices import HitState, ReportingBodyKind
from incidents.registry.hits import hits_check_soon
from organisations.access import AgencyPrincipal, active_memberships, missions_read_whole
from organisations.audit import record_write
from organisations.choices import APIKeyScope, Role

# Who writes an entry: a member of a mission (a user), or an agency through its API key.
Writer = AbstractBaseUser | AgencyPrincipal

# Fields a writer gives; the rest (state, who, when) the service sets.
ENTRY_FIELDS = (
    "category",
    "make",
    "model",
    "calibre",
    "marks",
    "circumstance",
    "occurred_on",
    "place",
    "country",
    "reporting_body_kind",
    "reporting_body",
    "contact",
    "mission",
    "contingent",
    "releasability",
)


def registry_missions_written_by(user: AbstractBaseUser) -> set[int]:
    """The missions for which `user` records registry entries: as a reporter of one of
    its contingents or as its verifier."""
    missions: set[int] = set()
    for membership in active_memberships(user):
        if membership.role == Role.REPORTER and membership.contingent is not None:
            missions.add(membership.contingent.mission_id)
        elif membership.role == Role.VERIFIER and membership.mission_id is not None:
            missions.add(membership.mission_id)
    return missions


def _check_agency_writer(by: AgencyPrincipal, entry: RegistryEntry) -> None:
    """An agency writes with a key given the `registry:write` scope, and only its own
    entries: those it reported (an entry is the agency's through `agency`)."""
    if by.api_key is None or not by.api_key.has_scope(APIKeyScope.REGISTRY_WRITE):
        raise PermissionDenied(
            _(
                "This API key may not write registry entries: ask the platform's "
                "administrators to give it the scope %(scope)s."
            )
            % {"scope": APIKeyScope.REGISTRY_WRITE.value}
        )
    if entry.agency_id != by.agency.pk:
        raise PermissionDenied(_("An agency updates only the registry entries it reported."))


def _check_writer(by: Writer, entry: RegistryEntry) -> None:
    if isinstance(by, AgencyPrincipal):
        _check_agency_writer(by, entry)
        return
    if getattr(by, "is_superuser", False):
        return
    if entry.mission_id is None or entry.mission_id not in registry_missions_written_by(by):
        raise PermissionDenied(
            _("You record registry entries only for the missions you report or verify for.")
        )


def _checked_serials(serials: list[dict]) -> list[dict]:
    if not serials:
        raise ValidationError({"serials": [_("Give at least one serial number.")]})
    try:
        validate_component_serials(serials)
    except ValidationError as error:
        raise ValidationError({"serials": error.messages}) from error
    return serials


def _write(*, entry: RegistryEntry, by: Writer, serials: list[dict]) -> RegistryEntry:
    if isinstance(by, AgencyPrincipal):
        # The agency reports for itself: the entry is its own, of no mission (the incident
        # policy then leaves it to the agency and to those it is released to by region).
        entry.agency_id = by.agency.pk
        entry.reporting_body_kind = ReportingBodyKind.AGENCY
        entry.reporting_body = by.agency.name
        entry.mission_id = entry.contingent_id = None
    contingent = entry.contingent if entry.contingent_id is not None else None
    if contingent is not None and entry.mission_id is None:
        entry.mission_id = contingent.mission_id
    errors: dict[str, list[str]] = {}
    try:
        entry.full_clean(exclude=["reported_by"])
    except ValidationError as error:
        errors.update(error.message_dict)
    if contingent is not None and entry.mission_id not in (None, contingent.mission_id):
        errors.setdefault("contingent", []).append(_("This contingent is not of that mission."))
    try:
        serials = _checked_serials(serials)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    _check_writer(by, entry)
    entry.save()
    entry.serials.all().delete()
    RegistrySerial.objects.bulk_create(
        RegistrySerial(entry=entry, component=row["component"], serial=row["serial"].strip())
        for row in serials
    )
    hits_check_soon()
    return entry


@transaction.atomic
def registry_entry_create(
    *, by: Writer, entry: RegistryEntry, serials: list[dict]
) -> RegistryEntry:
    """Record a weapon reported lost, stolen or diverted, with its serials
    (`[{"component": "frame", "serial": "AB1234"}, …]`). An agency (`AgencyPrincipal`, its
    key with the `registry:write` scope) records it as its own, reported by it."""
    if isinstance(by, AgencyPrincipal):
        _check_agency_writer(by, RegistryEntry(agency_id=by.agency.pk))
    else:
        entry.reported_by_id = by.pk
    entry = _write(entry=entry, by=by, serials=serials)
    record_write(by, "registry.create", target=entry)
    return entry


@transaction.atomic
def registry_entry_update(
    *, by: Writer, entry: RegistryEntry, serials: list[dict]
) -> RegistryEntry:
    current = RegistryEntry.objects.select_for_update().get(pk=entry.pk)
    _check_writer(by, current)
    entry = _write(entry=entry, by=by, serials=serials)
    record_write(by, "registry.update", target=entry)
    return entry


def hit_deciders_may(by: AbstractBaseUser, hit: WeaponHit) -> bool:
    """Verifiers and analysts of a mission on either side decide a hit."""
    if getattr(by, "is_superuser", False):
        return True
    missions = missions_read_whole(by)
    sides = {hit.weapon.incident.mission_id}
    if hit.other_weapon is not None:
        sides.add(hit.other_weapon.incident.mission_id)
    if hit.registry_entry is not None and hit.registry_entry.mission_id is not None:
        sides.add(hit.registry_entry.mission_id)
    return bool(missions & sides)


@transaction.atomic
def hit_decide(*, hit: WeaponHit, by: AbstractBaseUser, state: str, reason: str = "") -> WeaponHit:
    """Confirm a hit, or dismiss it with a reason."""
    hit = WeaponHit.objects.select_for_update().get(pk=hit.pk)
    if not hit_deciders_may(by, hit):
        raise PermissionDenied(_("You may not decide this hit."))
    if state not in (HitState.CONFIRMED, HitState.DISMISSED):
        raise ValidationError({"state": [_("Confirm or dismiss.")]})
    if state == HitState.DISMISSED and not reason.strip():
        raise ValidationError({"dismissal_reason": [_("Say why the hit is dismissed.")]})
    hit.state = state
    hit.dismissal_reason = reason.strip() if state == HitState.DISMISSED else ""
    hit.decided_by_id = by.pk
    hit.decided_at = timezone.now()
    hit.save(update_fields=["state", "dismissal_reason", "decided_by", "decided_at"])
    record_write(by, f"hit.{state}", target=hit)
    return hit

"""The one access policy: who may see which incidents, and with which precision.

A *principal* is whoever reads: a signed-in user (through their memberships) or an agency
calling with an API key. Every read path filters with `Incident.objects.visible_to(principal)`,
which uses `incident_visibility` below; every action is a django-rules permission
(`incidents/rules.py`) built on the same memberships.

Who sees what:

- administrator (superuser): everything, exact.
- contingent reporter: every record of its own contingent (drafts included), and the
  verified records of its mission; exact.
- verifier: its mission's records once submitted (never another contingent's draft); exact.
- mission analyst, WPS analyst: its mission's verified records; exact.
- regional analyst: verified records released to regional organisations or wider, in the
  member states of its regions; locations generalised.
- agency (API key, or a user with an agency membership): verified records released at or
  above the level its sharing agreements grant, in their missions or regions, while an
  agreement is in force; exact only where an agreement that covers the record says so.

Where exact coordinates are not granted, a location comes out snapped to a
GENERALISED_CELL_DEGREES grid (about 28 km at the equator).
"""

from dataclasses import astuple, dataclass
from datetime import date

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q
from django.utils import timezone

from incidents.choices import WorkflowState
from organisations.choices import Releasability, Role
from organisations.models import Agency, AgencyAPIKey, Membership, SharingAgreement

GENERALISED_CELL_DEGREES = 0.25
MISSION_ROLES = (Role.REPORTER, Role.VERIFIER, Role.MISSION_ANALYST, Role.WPS_ANALYST)


@dataclass(frozen=True)
class AgencyPrincipal:
    """An agency calling the API with one of its keys."""

    agency: Agency
    api_key: AgencyAPIKey | None = None
    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_superuser = False


Principal = AbstractBaseUser | AnonymousUser | AgencyPrincipal

NOTHING = Q(pk__in=[])
# Not Q(): an empty Q cannot be a CASE WHEN condition.
EVERYTHING = Q(pk__isnull=False)
NONE_COVERED = Q(pk__isnull=True)


@dataclass(frozen=True)
class Visibility:
    """Two conditions on incidents: which ones the principal sees, and of those, which
    ones it sees with exact coordinates. Both are Q objects over Incident."""

    visible: Q
    exact: Q


def incident_visibility(principal: Principal, *, today: date | None = None) -> Visibility:
    if not principal.is_authenticated or not principal.is_active:
        return Visibility(NOTHING, NOTHING)
    if isinstance(principal, AgencyPrincipal):
        return _agency_visibility(principal.agency, today=today)
    if principal.is_superuser:
        return Visibility(EVERYTHING, EVERYTHING)

    visible = exact = NOTHING
    agencies = []
    for membership in _active_memberships(principal):
        role_visible, role_exact = NOTHING, NOTHING
        if membership.role == Role.REPORTER:
            role_visible = Q(contingent_id=membership.contingent_id) | Q(
                mission_id=membership.contingent.mission_id, state=WorkflowState.VERIFIED
            )
            role_exact = role_visible
        elif membership.role == Role.VERIFIER:
            role_visible = Q(mission_id=membership.mission_id) & ~Q(state=WorkflowState.DRAFT)
            role_exact = role_visible
        elif membership.role in (Role.MISSION_ANALYST, Role.WPS_ANALYST):
            role_visible, role_exact = astuple(mission_reader_visibility(membership.mission_id))
        elif membership.role == Role.REGIONAL_ANALYST:
            member_states = sorted(
                {code for region in membership.regions.all() for code in region.member_countries}
            )
            role_visible = Q(
                state=WorkflowState.VERIFIED,
                releasability__gte=Releasability.REGIONAL_ORGANISATION,
                country__in=member_states,
            )
        elif membership.role == Role.AGENCY and membership.agency.is_active:
            agencies.append(membership.agency)
        visible |= role_visible
        exact |= role_exact
    for agency in agencies:
        agency_visibility = _agency_visibility(agency, today=today)
        visible |= agency_visibility.visible
        exact |= agency_visibility.exact
    return Visibility(visible, exact & visible)


def mission_reader_visibility(mission_id: int) -> Visibility:
    """What a mission's analysts read: its verified records, with exact coordinates.

    Also the reading of the scheduled analyses run for a mission (no user behind them)."""
    verified = Q(mission_id=mission_id, state=WorkflowState.VERIFIED)
    return Visibility(verified, verified)


def once_verified(principal: Principal | None, *, mission_id: int | None = None) -> Q:
    """The records `principal` would read once verified: `incident_visibility`'s conditions
    without the workflow state (for a scheduled output, `mission_id`'s records).

    Official outputs read verified records only, and say how many records of this set in
    their scope and period they left out because not yet verified: a count, never a record,
    and the same for every reader who reads the scope whole (an administrator and the
    mission's analysts give the same count)."""
    if principal is None:
        return Q(mission_id=mission_id)
    if isinstance(principal, AgencyPrincipal):
        return NOTHING
    if not principal.is_authenticated or not principal.is_active:
        return NOTHING
    if principal.is_superuser:
        return EVERYTHING
    domain = NOTHING
    for membership in _active_memberships(principal):
        if membership.role == Role.REPORTER:
            domain |= Q(mission_id=membership.contingent.mission_id)
        elif membership.role in (Role.VERIFIER, Role.MISSION_ANALYST, Role.WPS_ANALYST):
            domain |= Q(mission_id=membership.mission_id)
        elif membership.role == Role.REGIONAL_ANALYST:
            member_states = sorted(
                {code for region in membership.regions.all() for code in region.member_countries}
            )
            domain |= Q(
                releasability__gte=Releasability.REGIONAL_ORGANISATION,
                country__in=member_states,
            )
    return domain


def missions_read_whole(principal: Principal) -> set[int]:
    """Missions of which the principal reads at least what the mission's analysts read
    (verifiers, mission and WPS analysts): they may read the mission's scheduled analyses."""
    if isinstance(principal, AgencyPrincipal) or not principal.is_authenticated:
        return set()
    return {
        membership.mission_id
        for membership in _active_memberships(principal)
        if membership.role in (Role.VERIFIER, Role.MISSION_ANALYST, Role.WPS_ANALYST)
    }


def _active_memberships(user: AbstractBaseUser) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user)
        .select_related("contingent", "agency")
        .prefetch_related("regions")
    )


def _agency_visibility(agency: Agency, *, today: date | None) -> Visibility:
    if not agency.is_active:
        return Visibility(NOTHING, NOTHING)
    today = today or timezone.localdate()
    in_force = SharingAgreement.objects.filter(
        Q(valid_until__isnull=True) | Q(valid_until__gte=today),
        agency=agency,
        valid_from__lte=today,
    ).prefetch_related("missions", "regions")
    # An agency holds a few agreements: spelled out as plain conditions on the incident's
    # own columns, they cost nothing per row, where a correlated EXISTS over the agreements
    # ran twice for every incident of an export (what it sees, and whether exactly).
    # Without an agreement, a condition that holds for no row but still compiles to SQL
    # (NOTHING makes Django skip the query, and raw-SQL readers would have to expect that).
    visible = exact = NONE_COVERED
    for agreement in in_force:
        covered = _covered_by(agreement)
        visible = covered if visible is NONE_COVERED else visible | covered
        if agreement.exact_coordinates:
            exact = covered if exact is NONE_COVERED else exact | covered
    verified = Q(state=WorkflowState.VERIFIED)
    return Visibility(visible=verified & visible, exact=verified & exact)


def _covered_by(agreement: SharingAgreement) -> Q:
    """The incidents an agreement covers: in one of its missions, or in a member state of
    one of its regions, released at its level or wider."""
    mission_ids = sorted(mission.id for mission in agreement.missions.all())
    countries = sorted(
        {code for region in agreement.regions.all() for code in region.member_countries}
    )
    if not mission_ids and not countries:
        return NONE_COVERED
    place = Q(mission_id__in=mission_ids) | Q(country__in=countries)
    return place & Q(releasability__gte=agreement.lowest_releasability)


def principal_missions(principal: Principal) -> set[int]:
    """Missions in which a user holds a mission role (for permission rules)."""
    if isinstance(principal, AgencyPrincipal) or not principal.is_authenticated:
        return set()
    return {
        membership.contingent.mission_id
        if membership.role == Role.REPORTER
        else membership.mission_id
        for membership in _active_memberships(principal)
        if membership.role in MISSION_ROLES
    }


def principal_roles(principal: Principal) -> set[str]:
    if isinstance(principal, AgencyPrincipal):
        return {Role.AGENCY}
    if not principal.is_authenticated:
        return set()
    return {membership.role for membership in _active_memberships(principal)}


def principal_for_api_key(raw_key: str) -> AgencyPrincipal | None:
    """The agency behind a raw API key, or None if the key is unknown, revoked, expired,
    or its agency deactivated."""
    try:
        api_key = AgencyAPIKey.objects.get_from_key(raw_key)
    except AgencyAPIKey.DoesNotExist:
        return None
    # get_from_key has checked the hash and refused revoked keys; expiry is ours to check.
    if api_key.has_expired or not api_key.agency.is_active:
        return None
    return AgencyPrincipal(agency=api_key.agency, api_key=api_key)

"""The one access policy on the records: which incidents a principal may see, and with
which precision (organisations/access.py says who the principals are; its docstring gives
the policy in words). Every read path filters with `Incident.objects.visible_to(principal)`,
which uses `incident_visibility` below.
"""

from dataclasses import astuple, dataclass
from datetime import date

from django.db.models import Q
from django.utils import timezone

from incidents.choices import WorkflowState
from organisations.access import AgencyPrincipal, Principal, active_memberships
from organisations.choices import Releasability, Role
from organisations.models import Agency, SharingAgreement

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
    for membership in active_memberships(principal):
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
    for membership in active_memberships(principal):
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

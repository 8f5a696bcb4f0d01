"""Who reads: principals (a signed-in user through their memberships, or an agency calling
with an API key), their roles and missions. What each may read of the records is the
incident access policy, `incidents/access.py`, built on these.

The policy as a whole:

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

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser

from organisations.choices import Role
from organisations.models import Agency, AgencyAPIKey, Membership

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


def missions_read_whole(principal: Principal) -> set[int]:
    """Missions of which the principal reads at least what the mission's analysts read
    (verifiers, mission and WPS analysts): they may read the mission's scheduled analyses."""
    if isinstance(principal, AgencyPrincipal) or not principal.is_authenticated:
        return set()
    return {
        membership.mission_id
        for membership in active_memberships(principal)
        if membership.role in (Role.VERIFIER, Role.MISSION_ANALYST, Role.WPS_ANALYST)
    }


def active_memberships(user: AbstractBaseUser) -> list[Membership]:
    return list(
        Membership.objects.filter(user=user)
        .select_related("contingent", "agency")
        .prefetch_related("regions")
    )


def principal_missions(principal: Principal) -> set[int]:
    """Missions in which a user holds a mission role (for permission rules)."""
    if isinstance(principal, AgencyPrincipal) or not principal.is_authenticated:
        return set()
    return {
        membership.contingent.mission_id
        if membership.role == Role.REPORTER
        else membership.mission_id
        for membership in active_memberships(principal)
        if membership.role in MISSION_ROLES
    }


def principal_roles(principal: Principal) -> set[str]:
    if isinstance(principal, AgencyPrincipal):
        return {Role.AGENCY}
    if not principal.is_authenticated:
        return set()
    return {membership.role for membership in active_memberships(principal)}


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

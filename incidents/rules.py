"""Permissions on incidents, as django-rules predicates over the access policy.

Ask with `organisations.access`-aware `rules.has_perm("incidents.<action>", principal, obj)`;
the principal may be a user or an agency with an API key. Reads are also filtered by
`Incident.objects.visible_to(principal)`, so a permission never widens what is visible.
"""

import rules

from incidents.choices import WorkflowState
from organisations.access import AgencyPrincipal, principal_roles
from organisations.choices import Role
from organisations.models import Membership

EDITABLE_STATES = (WorkflowState.DRAFT, WorkflowState.RETURNED)


@rules.predicate
def is_administrator(principal) -> bool:
    return bool(getattr(principal, "is_superuser", False) and principal.is_active)


def has_role(*roles: str):
    @rules.predicate(name=f"has_role:{','.join(roles)}")
    def predicate(principal) -> bool:
        return bool(principal_roles(principal) & set(roles))

    return predicate


has_any_role = has_role(*Role.values)


def _holds(principal, **membership) -> bool:
    if isinstance(principal, AgencyPrincipal) or not principal.is_authenticated:
        return False
    return Membership.objects.filter(user=principal, **membership).exists()


@rules.predicate
def can_read(principal, incident) -> bool:
    from incidents.models import Incident

    return Incident.objects.visible_to(principal).filter(pk=incident.pk).exists()


@rules.predicate
def reports_for_its_contingent(principal, incident) -> bool:
    return _holds(principal, role=Role.REPORTER, contingent_id=incident.contingent_id)


@rules.predicate
def verifies_its_mission(principal, incident) -> bool:
    return _holds(principal, role=Role.VERIFIER, mission_id=incident.mission_id)


@rules.predicate
def is_editable(principal, incident) -> bool:
    return incident.state in EDITABLE_STATES


@rules.predicate
def is_submitted(principal, incident) -> bool:
    return incident.state == WorkflowState.SUBMITTED


rules.add_perm("incidents.list_incidents", is_administrator | has_any_role)
rules.add_perm("incidents.view_incident", is_administrator | can_read)
rules.add_perm("incidents.add_incident", has_role(Role.REPORTER))
rules.add_perm("incidents.change_incident", reports_for_its_contingent & is_editable)
rules.add_perm("incidents.submit_incident", reports_for_its_contingent & is_editable)
rules.add_perm("incidents.verify_incident", verifies_its_mission & is_submitted)
rules.add_perm("incidents.return_incident", verifies_its_mission & is_submitted)
rules.add_perm("incidents.export_incidents", is_administrator | has_any_role)
rules.add_perm(
    "incidents.analyse_incidents",
    is_administrator
    | has_role(Role.VERIFIER, Role.MISSION_ANALYST, Role.REGIONAL_ANALYST, Role.WPS_ANALYST),
)
rules.add_perm("incidents.view_gender_data", is_administrator | has_role(Role.WPS_ANALYST))


@rules.predicate
def reports_for(principal, contingent) -> bool:
    return contingent is not None and _holds(
        principal, role=Role.REPORTER, contingent_id=contingent.pk
    )


rules.add_perm("incidents.report_for_contingent", reports_for)
rules.add_perm(
    "incidents.withdraw_incident",
    is_administrator | reports_for_its_contingent | verifies_its_mission,
)
rules.add_perm("incidents.record_custody", reports_for_its_contingent | verifies_its_mission)
rules.add_perm("incidents.record_trace", reports_for_its_contingent | verifies_its_mission)
# Whether the principal records traces of any incident at all (the API refuses the others
# before reading the body); which incidents, record_trace decides.
rules.add_perm("incidents.record_traces", has_role(Role.REPORTER, Role.VERIFIER))

"""Who may ask for reports: the people who may run analyses (administrators, verifiers,
mission, regional and WPS analysts). Which scope each may ask for is checked by
reports.scope.scope_check_access; what each report shows, by the access policy."""

import rules

from incidents.rules import has_role, is_administrator
from organisations.choices import Role

rules.add_perm(
    "reports.request_report",
    is_administrator
    | has_role(Role.VERIFIER, Role.MISSION_ANALYST, Role.REGIONAL_ANALYST, Role.WPS_ANALYST),
)

"""A small world of missions, contingents, records and the people who read them.

MINUSCA (CAF) has contingents Alpha and Bravo; MONUSCO (COD) has Charlie. Records are named
by contingent, state and releasability level (`alpha_verified_L3`). The personas:

- admin: the platform's administrator
- reporter_alpha / reporter_bravo: reporters of Alpha / Bravo
- verifier: MINUSCA's verifier
- mission_analyst, wps_analyst: MINUSCA's analysts; other_mission_analyst: MONUSCO's
- regional_analyst: assigned to a region whose only member is CAF
- partner_agency: API key; agreement on MINUSCA from "partner agencies" up, no exact points
- host_agency: API key; agreement on a region of COD from "host state" up, exact points
- lapsed_agency: API key; its only agreement ended last year
- nobody: signed in, no membership
"""

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from geo.models import Region
from incidents.choices import Context, IncidentKind, WorkflowState
from incidents.models import Incident
from organisations.choices import AgencyKind, ContingentKind, Releasability, Role
from organisations.models import Agency, Contingent, Membership, Mission, SharingAgreement
from organisations.services import agency_api_key_create

PASSWORD = "a-long-test-password"


@dataclass
class World:
    users: dict = field(default_factory=dict)
    api_keys: dict = field(default_factory=dict)
    agencies: dict = field(default_factory=dict)
    records: dict[str, Incident] = field(default_factory=dict)


def _incident(contingent, state, level, longitude, latitude, country) -> Incident:
    return Incident.objects.create(
        kind=IncidentKind.CHECKPOINT_SEIZURE,
        context=Context.ARMED_CONFLICT,
        occurred_at=datetime(2025, 3, 14, 9, 30, tzinfo=UTC),
        location=Point(longitude, latitude, srid=4326),
        country=country,
        mission=contingent.mission,
        contingent=contingent,
        state=state,
        releasability=level,
    )


def build_world() -> World:
    world = World()
    minusca = Mission.objects.create(name="MINUSCA", acronym="MINUSCA", host_countries=["CAF"])
    monusco = Mission.objects.create(name="MONUSCO", acronym="MONUSCO", host_countries=["COD"])
    alpha = Contingent.objects.create(
        mission=minusca, name="Alpha", contributing_country="RWA", kind=ContingentKind.TROOPS
    )
    bravo = Contingent.objects.create(
        mission=minusca, name="Bravo", contributing_country="BGD", kind=ContingentKind.TROOPS
    )
    charlie = Contingent.objects.create(
        mission=monusco, name="Charlie", contributing_country="IND", kind=ContingentKind.TROOPS
    )
    central_africa = Region.objects.create(
        code="test-caf", name="CAF only", member_countries=["CAF"]
    )
    great_lakes = Region.objects.create(code="test-cod", name="COD only", member_countries=["COD"])

    # Coordinates with many decimals, so a generalised point can never equal the exact one.
    bangui, goma = (18.583713, 4.367141), (29.221837, -1.679113)
    recs = world.records
    for state in (WorkflowState.DRAFT, WorkflowState.SUBMITTED, WorkflowState.RETURNED):
        recs[f"alpha_{state}_L1"] = _incident(
            alpha, state, Releasability.MISSION_ONLY, *bangui, "CAF"
        )
    for level in Releasability:
        recs[f"alpha_verified_L{level.value}"] = _incident(
            alpha, WorkflowState.VERIFIED, level, *bangui, "CAF"
        )
    recs["bravo_draft_L5"] = _incident(
        bravo, WorkflowState.DRAFT, Releasability.PUBLIC_AGGREGATES, *bangui, "CAF"
    )
    recs["bravo_submitted_L5"] = _incident(
        bravo, WorkflowState.SUBMITTED, Releasability.PUBLIC_AGGREGATES, *bangui, "CAF"
    )
    recs["bravo_verified_L4"] = _incident(
        bravo, WorkflowState.VERIFIED, Releasability.PARTNER_AGENCIES, *bangui, "CAF"
    )
    recs["charlie_draft_L5"] = _incident(
        charlie, WorkflowState.DRAFT, Releasability.PUBLIC_AGGREGATES, *goma, "COD"
    )
    recs["charlie_verified_L1"] = _incident(
        charlie, WorkflowState.VERIFIED, Releasability.MISSION_ONLY, *goma, "COD"
    )
    recs["charlie_verified_L5"] = _incident(
        charlie, WorkflowState.VERIFIED, Releasability.PUBLIC_AGGREGATES, *goma, "COD"
    )

    user_model = get_user_model()
    world.users["admin"] = user_model.objects.create_superuser("admin", password=PASSWORD)
    memberships = {
        "reporter_alpha": {"role": Role.REPORTER, "contingent": alpha},
        "reporter_bravo": {"role": Role.REPORTER, "contingent": bravo},
        "verifier": {"role": Role.VERIFIER, "mission": minusca},
        "mission_analyst": {"role": Role.MISSION_ANALYST, "mission": minusca},
        "wps_analyst": {"role": Role.WPS_ANALYST, "mission": minusca},
        "other_mission_analyst": {"role": Role.MISSION_ANALYST, "mission": monusco},
        "regional_analyst": {"role": Role.REGIONAL_ANALYST},
        "nobody": None,
    }
    for name, membership in memberships.items():
        user = user_model.objects.create_user(name, password=PASSWORD)
        world.users[name] = user
        if membership:
            created = Membership.objects.create(user=user, **membership)
            if name == "regional_analyst":
                created.regions.add(central_africa)

    today = date.today()
    agreements = {
        "partner_agency": dict(
            missions=[minusca],
            regions=[],
            exact_coordinates=False,
            lowest_releasability=Releasability.PARTNER_AGENCIES,
            valid_from=today - timedelta(days=30),
            valid_until=None,
        ),
        "host_agency": dict(
            missions=[],
            regions=[great_lakes],
            exact_coordinates=True,
            lowest_releasability=Releasability.HOST_STATE,
            valid_from=today - timedelta(days=30),
            valid_until=today + timedelta(days=30),
        ),
        "lapsed_agency": dict(
            missions=[minusca, monusco],
            regions=[],
            exact_coordinates=True,
            lowest_releasability=Releasability.MISSION_ONLY,
            valid_from=today - timedelta(days=700),
            valid_until=today - timedelta(days=365),
        ),
    }
    for name, terms in agreements.items():
        agency = Agency.objects.create(name=name, kind=AgencyKind.CUSTOMS, country="CMR")
        missions, regions = terms.pop("missions"), terms.pop("regions")
        agreement = SharingAgreement.objects.create(agency=agency, **terms)
        agreement.missions.set(missions)
        agreement.regions.set(regions)
        world.agencies[name] = agency
        world.api_keys[name] = agency_api_key_create(agency=agency, name="test")[1]
    return world


def sign_in(client, world, persona: str) -> dict:
    """Sign `persona` in with Django's test client; return the extra request headers it
    needs (its API key, for an agency). The browser's is tests/browser/pages.py."""
    if persona in world.api_keys:
        return {"HTTP_AUTHORIZATION": f"Api-Key {world.api_keys[persona]}"}
    client.force_login(world.users[persona])
    return {}

"""A realistic demo and benchmark data set: missions, contingents, seizures and weapons.

Seizures fall along roads (checkpoints, patrols) and at border crossings, with a category
mix like that of published seizure studies in the region (AK-pattern rifles and
craft-produced shotguns first). A share of factory-made weapons belongs to serial-number
batches seized in several places, and some weapons were traced to a point of diversion.
The same seed gives the same data set.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.db import transaction

from geo.models import Country
from incidents.choices import (
    AlterationMethod,
    AmmunitionCategory,
    AmmunitionState,
    Context,
    GbvType,
    IncidentKind,
    InformationCredibility,
    LocationPrecision,
    ManufactureMode,
    MarkLocation,
    OriginKind,
    OriginMethod,
    PersonOutcome,
    SeizureJustification,
    SourceType,
    TraceFailureReason,
    TraceStatus,
    TraceUrgency,
    TransportMode,
    WeaponCategory,
    WeaponComponent,
    WorkflowState,
)
from incidents.demo_places import DIVERSION_POINTS, MISSIONS, DemoMission
from incidents.models import (
    AmmunitionItem,
    IllicitOrigin,
    Incident,
    PersonsInvolved,
    TraceRequest,
    WeaponItem,
)
from incidents.services import h3_cell_of, incidents_assign_geography
from organisations.choices import Releasability, Role
from organisations.models import Contingent, Membership, Mission

BATCH_SIZE = 5_000
PERIOD_START = datetime(2019, 1, 1, tzinfo=UTC)
PERIOD_DAYS = (datetime(2026, 10, 31, tzinfo=UTC) - PERIOD_START).days

# (category, make, model, calibre, country of manufacture, share of weapons)
WEAPON_CATALOGUE = [
    (WeaponCategory.ASSAULT_RIFLE, "Norinco", "Type 56", "7.62x39mm", "CHN", 0.17),
    (WeaponCategory.ASSAULT_RIFLE, "Izhmash", "AKM", "7.62x39mm", "RUS", 0.10),
    (WeaponCategory.ASSAULT_RIFLE, "Arsenal", "AKM", "7.62x39mm", "BGR", 0.05),
    (WeaponCategory.ASSAULT_RIFLE, "Cugir", "PM md. 63", "7.62x39mm", "ROU", 0.04),
    (WeaponCategory.ASSAULT_RIFLE, "Zastava", "M70", "7.62x39mm", "SRB", 0.03),
    (WeaponCategory.ASSAULT_RIFLE, "Norinco", "Type 81", "7.62x39mm", "CHN", 0.03),
    (WeaponCategory.RIFLE_CARBINE, "FN Herstal", "FAL", "7.62x51mm", "BEL", 0.04),
    (WeaponCategory.RIFLE_CARBINE, "Heckler & Koch", "G3", "7.62x51mm", "DEU", 0.03),
    (WeaponCategory.RIFLE_CARBINE, "MAS", "MAS-36", "7.5x54mm", "FRA", 0.03),
    (WeaponCategory.REVOLVER_PISTOL, "Izhmash", "PM (Makarov)", "9x18mm", "RUS", 0.04),
    (WeaponCategory.REVOLVER_PISTOL, "Beretta", "92", "9x19mm", "ITA", 0.02),
    (WeaponCategory.REVOLVER_PISTOL, "FN Herstal", "Browning HP", "9x19mm", "BEL", 0.02),
    (WeaponCategory.SUB_MACHINE_GUN, "Zastava", "M84", "7.65mm", "SRB", 0.02),
    (WeaponCategory.LIGHT_MACHINE_GUN, "Degtyaryov", "PKM", "7.62x54mmR", "RUS", 0.04),
    (WeaponCategory.HEAVY_MACHINE_GUN, "Norinco", "Type 85", "12.7x108mm", "CHN", 0.01),
    (WeaponCategory.GRENADE_LAUNCHER, "Norinco", "Type 69", "40mm", "CHN", 0.04),
    (WeaponCategory.ANTI_TANK_LAUNCHER, "Bazalt", "RPG-7", "40mm", "RUS", 0.02),
    (WeaponCategory.MORTAR, "Norinco", "Type 63", "60mm", "CHN", 0.02),
    (WeaponCategory.RECOILLESS_RIFLE, "Norinco", "Type 65", "82mm", "CHN", 0.01),
    (WeaponCategory.CRAFT_PRODUCED, "", "artisanal shotgun", "12 gauge", "", 0.24),
]

KIND_SHARES = {
    IncidentKind.CHECKPOINT_SEIZURE: 0.30,
    IncidentKind.CORDON_AND_SEARCH: 0.18,
    IncidentKind.CACHE_DISCOVERY: 0.10,
    IncidentKind.VOLUNTARY_SURRENDER: 0.14,
    IncidentKind.RECOVERY_AFTER_CLASH: 0.12,
    IncidentKind.ATTACK_ON_PEACEKEEPERS: 0.04,
    IncidentKind.LOSS_OR_THEFT: 0.02,
    IncidentKind.ARMED_VIOLENCE: 0.10,
}
CONTEXT_SHARES = {
    Context.ARMED_CONFLICT: 0.45,
    Context.TERRORISM: 0.03,
    Context.POLITICAL: 0.03,
    Context.INTERCOMMUNAL: 0.12,
    Context.PASTORAL: 0.07,
    Context.RESOURCES: 0.05,
    Context.POACHING: 0.02,
    Context.CRIMINAL: 0.15,
    Context.DOMESTIC: 0.03,
    Context.OTHER: 0.03,
    Context.UNKNOWN: 0.02,
}
SOURCE_TYPE_SHARES = {
    SourceType.PHYSICALLY_INSPECTED: 0.70,
    SourceType.REPORTED_BY_AUTHORITY: 0.12,
    SourceType.REPORTED_BY_WITNESS: 0.10,
    SourceType.DOCUMENT: 0.05,
    SourceType.OPEN_SOURCE: 0.03,
}
CREDIBILITY_SHARES = {
    InformationCredibility.CONFIRMED: 0.55,
    InformationCredibility.PROBABLY_TRUE: 0.25,
    InformationCredibility.POSSIBLY_TRUE: 0.12,
    InformationCredibility.DOUBTFUL: 0.05,
    InformationCredibility.CANNOT_BE_JUDGED: 0.03,
}
OUTCOME_SHARES = {
    PersonOutcome.UNHARMED: 0.6,
    PersonOutcome.INJURED: 0.2,
    PersonOutcome.KILLED: 0.1,
    PersonOutcome.UNKNOWN: 0.1,
}
# Weapons whose illicit origin a competent authority established without a trace, by way
# of each method; craft-produced weapons are illicit manufacture.
SHARE_ORIGIN_WITHOUT_TRACE = 0.05
ORIGIN_SHARES = {
    (OriginMethod.AUTHORITY_FINDING, OriginKind.STATE_STOCKS): 0.5,
    (OriginMethod.INVESTIGATION, OriginKind.ILLICIT_IMPORT): 0.3,
    (OriginMethod.MARKING_EVIDENCE, OriginKind.STATE_STOCKS): 0.2,
}
STATE_SHARES = {
    WorkflowState.VERIFIED: 0.75,
    WorkflowState.SUBMITTED: 0.12,
    WorkflowState.DRAFT: 0.10,
    WorkflowState.RETURNED: 0.03,
}
RELEASABILITY_SHARES = {
    Releasability.MISSION_ONLY: 0.35,
    Releasability.HOST_STATE: 0.20,
    Releasability.REGIONAL_ORGANISATION: 0.20,
    Releasability.PARTNER_AGENCIES: 0.15,
    Releasability.PUBLIC_AGGREGATES: 0.10,
}
SHARE_IN_SERIAL_BATCHES = 0.08
SHARE_TRACED = 0.15

DEMO_USERS = [
    # (username, role, mission acronym, contingent name)
    ("demo-admin", None, None, None),
    ("demo-reporter", Role.REPORTER, "MINUSCA", "RWABATT"),
    ("demo-verifier", Role.VERIFIER, "MINUSCA", None),
    ("demo-analyst", Role.MISSION_ANALYST, "MINUSCA", None),
]


@dataclass
class DemoSummary:
    missions: int
    contingents: int
    incidents: int
    weapons: int
    trace_requests: int


def _pick(rng: np.random.Generator, shares: dict, size: int) -> np.ndarray:
    codes = list(shares)
    weights = np.array(list(shares.values()), dtype=float)
    chosen = rng.choice(len(codes), size=size, p=weights / weights.sum())
    return np.array(codes, dtype=object)[chosen]


def demo_organisations_ensure() -> dict[str, list[Contingent]]:
    """Create the demo missions and contingents if they are missing; return contingents
    by mission acronym."""
    contingents: dict[str, list[Contingent]] = {}
    for demo in MISSIONS:
        mission, _ = Mission.objects.get_or_create(
            acronym=demo.acronym,
            defaults={"name": demo.name, "host_countries": [demo.host_country]},
        )
        contingents[demo.acronym] = [
            Contingent.objects.get_or_create(
                mission=mission,
                name=name,
                defaults={"contributing_country": country, "kind": kind},
            )[0]
            for name, country, kind, _base in demo.contingents
        ]
    return contingents


def demo_logins_ensure(*, password: str) -> list[str]:
    """Create the demo users with `password` if they are missing; return their names."""
    user_model = get_user_model()
    for username, role, acronym, contingent_name in DEMO_USERS:
        user, created = user_model.objects.get_or_create(
            username=username,
            defaults={"is_staff": role is None, "is_superuser": role is None},
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        if role is not None:
            mission = Mission.objects.get(acronym=acronym)
            contingent = (
                Contingent.objects.get(mission=mission, name=contingent_name)
                if contingent_name
                else None
            )
            Membership.objects.get_or_create(
                user=user, role=role, mission=mission, contingent=contingent
            )
    return [username for username, *_ in DEMO_USERS]


def _road_points(rng: np.random.Generator, demo: DemoMission, size: int) -> np.ndarray:
    """Points (lat, lon) along the mission's roads, denser near towns, a share at border
    crossings, each jittered by a few kilometres."""
    segments = [(demo.towns[a], demo.towns[b]) for road in demo.roads for a, b in pairwise(road)]
    starts = np.array([s for s, _ in segments])
    ends = np.array([e for _, e in segments])
    at_border = rng.random(size) < 0.15
    segment_index = rng.integers(0, len(segments), size)
    # A beta(0.5, 0.5) position crowds seizures near both towns of a segment.
    position = rng.beta(0.5, 0.5, size)[:, None]
    points = starts[segment_index] + (ends[segment_index] - starts[segment_index]) * position
    crossings = np.array([demo.towns[name] for name in demo.border_crossings])
    points[at_border] = crossings[rng.integers(0, len(crossings), at_border.sum())]
    jitter_degrees = 0.03  # about 3 km
    return points + rng.normal(0.0, jitter_degrees, points.shape)


def _serial(rng: np.random.Generator) -> str:
    return f"{rng.integers(1, 99):02d}{rng.integers(0, 999_999):06d}"


@transaction.atomic
def demo_dataset_create(*, incidents: int, seed: int = 2026) -> DemoSummary:
    """Add `incidents` demo incidents, with their weapons and trace requests."""
    rng = np.random.default_rng(seed)
    # The trace requests' details and follow-ups from a generator of their own, so that the
    # rest of the demo stays as it was for a seed.
    trace_rng = np.random.default_rng([seed, 19])
    contingents = demo_organisations_ensure()
    weights = np.array([0.5, 0.3, 0.2])  # MINUSCA, MONUSCO, UNMISS
    per_mission = rng.multinomial(incidents, weights / weights.sum())
    catalogue_weights = np.array([row[5] for row in WEAPON_CATALOGUE])
    catalogue_weights /= catalogue_weights.sum()
    # Batches: a base serial per (make, model) from which batch members are numbered.
    batch_bases = {row[1:3]: _serial(rng) for row in WEAPON_CATALOGUE if row[1]}

    # With boundaries loaded, each incident's country is derived from its point (a seizure
    # near a border may fall in the neighbour); without, it is the mission's host country.
    boundaries_loaded = Country.objects.exists()
    created_incidents = created_weapons = created_traces = 0
    for demo, count in zip(MISSIONS, per_mission, strict=True):
        mission_contingents = contingents[demo.acronym]
        points = _road_points(rng, demo, count)
        kinds = _pick(rng, KIND_SHARES, count)
        context_codes = _pick(rng, CONTEXT_SHARES, count)
        states = _pick(rng, STATE_SHARES, count)
        releasabilities = _pick(rng, RELEASABILITY_SHARES, count)
        contingent_index = rng.integers(0, len(mission_contingents), count)
        days = rng.integers(0, PERIOD_DAYS, count)
        seconds = rng.integers(0, 86_400, count)
        precisions = _pick(
            rng,
            {
                LocationPrecision.EXACT: 0.6,
                LocationPrecision.ABOUT_1_KM: 0.3,
                LocationPrecision.ABOUT_10_KM: 0.1,
            },
            count,
        )

        source_types = _pick(rng, SOURCE_TYPE_SHARES, count)
        credibilities = _pick(rng, CREDIBILITY_SHARES, count)
        gbv_types = rng.choice([code for code in GbvType.values if code != "unknown"], count)
        for start in range(0, count, BATCH_SIZE):
            stop = min(start + BATCH_SIZE, count)
            batch = Incident.objects.bulk_create(
                Incident(
                    kind=kinds[i],
                    context=context_codes[i],
                    state=states[i],
                    releasability=int(releasabilities[i]),
                    occurred_at=PERIOD_START
                    + timedelta(days=int(days[i]), seconds=int(seconds[i])),
                    location=Point(float(points[i, 1]), float(points[i, 0]), srid=4326),
                    # As every other path sets it (incident_save, the import).
                    h3_cell=h3_cell_of(latitude=float(points[i, 0]), longitude=float(points[i, 1])),
                    location_precision=precisions[i],
                    country=demo.host_country,
                    mission_id=mission_contingents[contingent_index[i]].mission_id,
                    contingent=mission_contingents[contingent_index[i]],
                    gbv_link=bool(gbv := rng.random() < 0.04),
                    gbv_type=str(gbv_types[i]) if gbv else "",
                    source_type=source_types[i],
                    information_credibility=credibilities[i],
                    **_seizure_route(str(kinds[i]), i, demo.host_country),
                )
                for i in range(start, stop)
            )
            if boundaries_loaded:
                incidents_assign_geography(incident_ids=[incident.id for incident in batch])
            weapons = _demo_weapons(rng, batch, catalogue_weights, batch_bases)
            WeaponItem.objects.bulk_create(weapons, batch_size=BATCH_SIZE)
            traces = _demo_trace_requests(rng, weapons, trace_rng)
            TraceRequest.objects.bulk_create(traces, batch_size=BATCH_SIZE)
            follow_ups = _demo_follow_ups(trace_rng, traces)
            TraceRequest.objects.bulk_create(follow_ups, batch_size=BATCH_SIZE)
            traces += follow_ups
            IllicitOrigin.objects.bulk_create(_demo_origins(rng, weapons), batch_size=BATCH_SIZE)
            PersonsInvolved.objects.bulk_create(_demo_persons(rng, batch), batch_size=BATCH_SIZE)
            AmmunitionItem.objects.bulk_create(_demo_ammunition(rng, batch), batch_size=BATCH_SIZE)
            created_incidents += len(batch)
            created_weapons += len(weapons)
            created_traces += len(traces)

    return DemoSummary(
        missions=len(MISSIONS),
        contingents=sum(len(c) for c in contingents.values()),
        incidents=created_incidents,
        weapons=created_weapons,
        trace_requests=created_traces,
    )


def _demo_weapons(rng, incidents, catalogue_weights, batch_bases) -> list[WeaponItem]:
    weapons = []
    # Most seizures are of one to three weapons; caches and surrenders are larger.
    counts = rng.geometric(0.55, len(incidents))
    for incident, count in zip(incidents, counts, strict=True):
        for row in rng.choice(len(WEAPON_CATALOGUE), size=count, p=catalogue_weights):
            category, make, model, calibre, country, _share = WEAPON_CATALOGUE[row]
            if not make:  # craft-produced: unmarked, made where it was found
                weapons.append(
                    WeaponItem(
                        incident=incident,
                        category=category,
                        manufacture_mode=ManufactureMode.CRAFT,
                        model=model,
                        calibre=calibre,
                        country_of_manufacture=incident.country,
                        quantity=int(rng.integers(1, 4)),
                    )
                )
                continue
            in_batch = rng.random() < SHARE_IN_SERIAL_BATCHES
            serial = (
                str(int(batch_bases[(make, model)]) + int(rng.integers(0, 400))).zfill(8)
                if in_batch
                else _serial(rng)
            )
            weapons.append(
                WeaponItem(
                    incident=incident,
                    category=category,
                    make=make,
                    model=model,
                    calibre=calibre,
                    serial_number=serial,
                    country_of_manufacture=country,
                    year_of_manufacture=int(rng.integers(1965, 2015)),
                    manufacture_mode=ManufactureMode.FACTORY,
                    component_serials=_component_serials(serial),
                    **_altered_marks(rng),
                )
            )
    return weapons


# The legal justification of each kind of incident's recoveries (IAFQ), and the means of
# transport of seizures at checkpoints.
DEMO_JUSTIFICATIONS = {
    IncidentKind.CHECKPOINT_SEIZURE: SeizureJustification.ILLICIT_TRAFFICKING,
    IncidentKind.CORDON_AND_SEARCH: SeizureJustification.ILLICIT_POSSESSION,
    IncidentKind.CACHE_DISCOVERY: SeizureJustification.NOT_SEIZED,
    IncidentKind.VOLUNTARY_SURRENDER: SeizureJustification.NOT_SEIZED,
    IncidentKind.RECOVERY_AFTER_CLASH: SeizureJustification.ARMS_EMBARGO,
}
# Routes documented at checkpoints (a consignment's papers, a driver's statement).
DEMO_ROUTES = [("SDN", ["TCD"]), ("TCD", []), ("CMR", []), ("SSD", ["COD"])]


def _seizure_route(kind: str, index: int, host_country: str) -> dict:
    """One checkpoint seizure in five has a documented route into the host country. Taken
    from the incident's place in the list, not the random stream, so that the other demo
    records stay as they were."""
    values = {"seizure_justification": DEMO_JUSTIFICATIONS.get(kind, SeizureJustification.UNKNOWN)}
    if kind != IncidentKind.CHECKPOINT_SEIZURE:
        return values
    values["transport_mode"] = TransportMode.ROAD if index % 3 else TransportMode.ON_FOOT
    if index % 5 == 0:
        departure, transit = DEMO_ROUTES[index // 5 % len(DEMO_ROUTES)]
        values.update(
            route_departure_country=departure,
            route_transit_countries=transit,
            route_destination_country=host_country,
        )
    return values


def _component_serials(serial: str) -> list[dict[str, str]]:
    """A quarter of the factory weapons have their barrel and bolt serials read as well
    (the frame's is the weapon's); one in 29 of those has a barrel from another weapon.
    Taken from the serial's digits, not the random stream, so that the other demo records
    stay as they were."""
    number = int(serial) if serial.isdigit() else sum(map(ord, serial))
    if number % 4:
        return []
    barrel = str(number + 7).zfill(len(serial)) if number % 29 == 0 else serial
    return [
        {"component": WeaponComponent.BARREL, "serial": barrel},
        {"component": WeaponComponent.BOLT, "serial": serial},
    ]


def _altered_marks(rng) -> dict:
    """About one weapon in eight has its serial number ground off."""
    if rng.random() >= 0.12:
        return {}
    return {
        "markings_altered": True,
        "alteration_location": MarkLocation.SERIAL_NUMBER,
        "alteration_method": AlterationMethod.GROUND,
    }


# (role, sex, age group, share of incidents that involve such people)
PERSON_GROUPS = [
    ("suspect", "male", "adult", 0.55),
    ("suspect", "female", "adult", 0.06),
    ("suspect", "male", "child", 0.04),
    ("victim", "female", "adult", 0.08),
    ("victim", "male", "adult", 0.10),
    ("victim", "female", "child", 0.03),
    ("civilian", "unknown", "unknown", 0.05),
    ("peacekeeper", "male", "adult", 0.03),
]
# (calibre, type, headstamp, kind of ammunition)
AMMUNITION = [
    ("7.62x39mm", "ball", "71", AmmunitionCategory.SMALL_ARMS_CARTRIDGE),
    ("7.62x54mmR", "ball", "188", AmmunitionCategory.SMALL_ARMS_CARTRIDGE),
    ("12 gauge", "shotgun", "", AmmunitionCategory.SHOTGUN_CARTRIDGE),
    ("40mm", "grenade", "", AmmunitionCategory.LAUNCHER_ROUND),
    ("82mm", "mortar_bomb", "", AmmunitionCategory.MORTAR_BOMB),
]


def _demo_persons(rng, incidents) -> list[PersonsInvolved]:
    outcomes = list(OUTCOME_SHARES)
    shares = np.array(list(OUTCOME_SHARES.values()))
    return [
        PersonsInvolved(
            incident=incident,
            role=role,
            sex=sex,
            age_group=age,
            outcome=_arrested_if_suspect(role, outcomes[rng.choice(len(outcomes), p=shares)]),
            count=int(rng.integers(1, 5)),
        )
        for incident in incidents
        for role, sex, age, share in PERSON_GROUPS
        if rng.random() < share
    ]


def _arrested_if_suspect(role: str, outcome: str) -> str:
    """Suspects who came out unharmed were arrested."""
    if role == "suspect" and outcome == PersonOutcome.UNHARMED:
        return PersonOutcome.ARRESTED
    return outcome


def _demo_origins(rng, weapons: list[WeaponItem]) -> list[IllicitOrigin]:
    """Origins established without a trace: craft-produced weapons as illicit manufacture
    (found by the national commission), and a share of the others by each method."""
    ways = list(ORIGIN_SHARES)
    shares = np.array(list(ORIGIN_SHARES.values()))
    origins = []
    for weapon in weapons:
        if weapon.category == WeaponCategory.CRAFT_PRODUCED:
            method, kind = OriginMethod.AUTHORITY_FINDING, OriginKind.ILLICIT_MANUFACTURE
        elif rng.random() < SHARE_ORIGIN_WITHOUT_TRACE:
            method, kind = ways[rng.choice(len(ways), p=shares)]
        else:
            continue
        recovered = weapon.incident.occurred_at.date()
        origins.append(
            IllicitOrigin(
                weapon=weapon,
                method=method,
                kind=kind,
                diversion_country=weapon.incident.country if kind != "illicit_import" else "",
                established_by="Commission nationale de lutte contre les ALPC",
                established_on=min(
                    recovered + timedelta(days=int(rng.integers(30, 200))), date.today()
                ),
            )
        )
    return origins


def _demo_ammunition(rng, incidents) -> list[AmmunitionItem]:
    items = []
    for incident in incidents:
        if rng.random() < 0.4:
            calibre, kind, headstamp, category = AMMUNITION[int(rng.integers(0, len(AMMUNITION)))]
            many = category in (
                AmmunitionCategory.SMALL_ARMS_CARTRIDGE,
                AmmunitionCategory.SHOTGUN_CARTRIDGE,
            )
            items.append(
                AmmunitionItem(
                    incident=incident,
                    calibre=calibre,
                    category=category,
                    state=AmmunitionState.SPENT if rng.random() < 0.1 else AmmunitionState.LIVE,
                    ammunition_type=kind,
                    headstamp_manufacturer=headstamp,
                    headstamp_year=int(rng.integers(1970, 2015)) if headstamp else None,
                    quantity=int(rng.geometric(0.01 if many else 0.3)),
                )
            )
    return items


# What a demo trace request says (ISACS 05.31, ITI paragraph 17).
DEMO_TRACE_REQUEST = {
    "requester_contact_organisation": "Mission Joint Operations Centre, weapons tracing cell",
    "requester_contact_name": "Tracing officer",
    "requester_contact_email": "tracing@mission.example.org",
    "illicit_nature": "Seized from an armed group during a mission operation; held without "
    "authorisation in breach of national law and the arms embargo.",
    "legal_basis": "Security Council arms embargo resolution and the mission's mandate; "
    "International Tracing Instrument, paragraph 17.",
    "intended_use": "Identify the point of diversion to prevent further diversion; reported "
    "to the sanctions panel of experts.",
}
# Answers that did not establish the point of diversion: (outcome, failure reason, share).
DEMO_NEGATIVE_OUTCOMES = [
    (TraceStatus.PARTIALLY_TRACED, "", 0.30),
    (TraceStatus.NO_RECORD, TraceFailureReason.NO_RECORD, 0.25),
    (TraceStatus.REFUSED, TraceFailureReason.REFUSED, 0.12),
    (TraceStatus.CLOSED_UNTRACED, TraceFailureReason.MARKING_ILLEGIBLE, 0.13),
    (TraceStatus.FORWARDED, "", 0.20),
]


def _demo_trace_requests(rng, weapons: list[WeaponItem], detail_rng=None) -> list[TraceRequest]:
    """Trace requests on some serial-numbered weapons (each an item of quantity 1): traced,
    partially traced, negative with a reason, forwarded, acknowledged or still waiting.
    `rng` decides which weapons are traced and when, as it always did; `detail_rng` the rest.
    The follow-ups of partial and forwarded answers come from `_demo_follow_ups`."""
    detail_rng = detail_rng if detail_rng is not None else np.random.default_rng(0)
    traces = []
    diversion_countries = list(DIVERSION_POINTS)
    outcome_weights = np.array([share for *_rest, share in DEMO_NEGATIVE_OUTCOMES])
    outcome_weights /= outcome_weights.sum()
    for weapon in weapons:
        if not weapon.serial_number or weapon.quantity != 1 or rng.random() >= SHARE_TRACED:
            continue
        sent_on = weapon.incident.occurred_at.date() + timedelta(days=int(rng.integers(7, 90)))
        answered = rng.random() < 0.6 and sent_on < date(2026, 9, 1)
        established = answered and rng.random() < 0.55
        diversion_country = str(rng.choice(diversion_countries)) if established else ""
        diversion_point = None
        if established:
            latitude, longitude = DIVERSION_POINTS[diversion_country]
            diversion_point = Point(longitude, latitude, srid=4326)
        answered_on = sent_on + timedelta(days=int(rng.integers(20, 200))) if answered else None
        trace = TraceRequest(
            weapon=weapon,
            addressee=f"National point of contact, {weapon.country_of_manufacture}",
            addressee_country=weapon.country_of_manufacture,
            addressee_contact_organisation=(
                f"National commission on small arms, {weapon.country_of_manufacture}"
            ),
            reference=f"TR-{sent_on:%Y}-{weapon.serial_number}",
            sent_on=sent_on,
            response_due_on=sent_on + timedelta(days=60),
            answered_on=answered_on,
            status=TraceStatus.ANSWERED if established else TraceStatus.SENT,
            urgency=TraceUrgency.URGENT if detail_rng.random() < 0.15 else TraceUrgency.ROUTINE,
            serial_number_sent=weapon.serial_number,
            component_serials=weapon.component_serials,
            diversion_established=established,
            diversion_country=diversion_country,
            diversion_point=diversion_point,
            last_legal_end_user=(f"Armed forces of {diversion_country}" if established else ""),
            **DEMO_TRACE_REQUEST,
        )
        if answered and not established:
            status, reason, _share = DEMO_NEGATIVE_OUTCOMES[
                int(detail_rng.choice(len(DEMO_NEGATIVE_OUTCOMES), p=outcome_weights))
            ]
            trace.status, trace.failure_reason = status, reason
            if status == TraceStatus.PARTIALLY_TRACED:
                importer = str(detail_rng.choice(diversion_countries))
                trace.last_legal_end_user = f"Exported to the Ministry of Defence of {importer}"
            elif status == TraceStatus.FORWARDED:
                trace.forwarded_to = (
                    f"Exporting State's point of contact, {detail_rng.choice(diversion_countries)}"
                )
            elif reason == TraceFailureReason.MARKING_ILLEGIBLE:
                trace.failure_detail = "Serial partly ground off; the digits read are uncertain."
        if not answered:
            trace.acknowledged_on = (
                sent_on + timedelta(days=int(detail_rng.integers(3, 20)))
                if detail_rng.random() < 0.5
                else None
            )
            if trace.acknowledged_on:
                trace.status = TraceStatus.ACKNOWLEDGED
            if detail_rng.random() < 0.4:
                trace.reminder_sent_on = sent_on + timedelta(days=61)
        traces.append(trace)
    return traces


def _demo_follow_ups(rng, traces: list[TraceRequest]) -> list[TraceRequest]:
    """Follow-up requests, saved after the requests they follow: after a partial trace (the
    manufacturer's answer names the importer) or a forwarded one, to the next State of the
    chain, which traces the weapon, has no record, or has acknowledged it."""
    follow_ups = []
    diversion_countries = list(DIVERSION_POINTS)
    for trace in traces:
        if trace.status not in (TraceStatus.PARTIALLY_TRACED, TraceStatus.FORWARDED):
            continue
        if rng.random() >= 0.8:
            continue
        next_state = (
            trace.forwarded_to or f"Importing State's point of contact: {trace.last_legal_end_user}"
        )[:200]
        sent_on = trace.answered_on + timedelta(days=int(rng.integers(3, 30)))
        follow_up = TraceRequest(
            weapon=trace.weapon,
            follows=trace,
            addressee=next_state,
            sent_on=sent_on,
            response_due_on=sent_on + timedelta(days=60),
            serial_number_sent=trace.serial_number_sent,
            component_serials=trace.component_serials,
            status=TraceStatus.ACKNOWLEDGED,
            acknowledged_on=sent_on + timedelta(days=7),
            **DEMO_TRACE_REQUEST,
        )
        outcome = rng.random()
        if outcome < 0.5:
            country = str(rng.choice(diversion_countries))
            latitude, longitude = DIVERSION_POINTS[country]
            follow_up.status = TraceStatus.ANSWERED
            follow_up.answered_on = sent_on + timedelta(days=int(rng.integers(20, 120)))
            follow_up.diversion_established = True
            follow_up.diversion_country = country
            follow_up.diversion_point = Point(longitude, latitude, srid=4326)
            follow_up.last_legal_end_user = f"Armed forces of {country}"
        elif outcome < 0.75:
            follow_up.status = TraceStatus.NO_RECORD
            follow_up.failure_reason = TraceFailureReason.NO_RECORD
            follow_up.answered_on = sent_on + timedelta(days=int(rng.integers(20, 120)))
        follow_ups.append(follow_up)
    return follow_ups

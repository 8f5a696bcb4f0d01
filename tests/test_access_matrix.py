"""The access matrix: every persona by every action by records of own / other contingent,
own / other mission, each state and releasability level; and keys that must not work.

Each test states, per persona, exactly which records it may see or act on, and checks both
sides: what is allowed is there, what is refused is absent (404/403, never a count or a
coordinate of a hidden record).
"""

import csv
import io
import json
from datetime import timedelta

import pytest
import rules
from django.utils import timezone
from openpyxl import load_workbook

from geo.analyses.hexagons import cell_of
from organisations.access import GENERALISED_CELL_DEGREES, AgencyPrincipal
from organisations.models import APIAccess
from organisations.services import agency_api_key_create
from tests.personas import sign_in

ALPHA_VERIFIED = {f"alpha_verified_L{level}" for level in range(1, 6)}
MINUSCA_VERIFIED = ALPHA_VERIFIED | {"bravo_verified_L4"}

VISIBLE = {
    "admin": None,  # everything
    "reporter_alpha": {"alpha_draft_L1", "alpha_submitted_L1", "alpha_returned_L1"}
    | MINUSCA_VERIFIED,
    "reporter_bravo": {"bravo_draft_L5", "bravo_submitted_L5"} | MINUSCA_VERIFIED,
    "verifier": {"alpha_submitted_L1", "alpha_returned_L1", "bravo_submitted_L5"}
    | MINUSCA_VERIFIED,
    "mission_analyst": MINUSCA_VERIFIED,
    "wps_analyst": MINUSCA_VERIFIED,
    "other_mission_analyst": {"charlie_verified_L1", "charlie_verified_L5"},
    "regional_analyst": {
        "alpha_verified_L3",
        "alpha_verified_L4",
        "alpha_verified_L5",
        "bravo_verified_L4",
    },
    "partner_agency": {"alpha_verified_L4", "alpha_verified_L5", "bravo_verified_L4"},
    "host_agency": {"charlie_verified_L5"},
    "lapsed_agency": set(),
}
EXACT_COORDINATES = {
    "admin": True,
    "reporter_alpha": True,
    "reporter_bravo": True,
    "verifier": True,
    "mission_analyst": True,
    "wps_analyst": True,
    "other_mission_analyst": True,
    "regional_analyst": False,
    "partner_agency": False,
    "host_agency": True,
    "lapsed_agency": True,
}
READERS = sorted(VISIBLE)


def expected_names(world, persona: str) -> set[str]:
    return set(world.records) if VISIBLE[persona] is None else VISIBLE[persona]


def names_by_id(world) -> dict[int, str]:
    return {incident.id: name for name, incident in world.records.items()}


def assert_coordinates(world, persona: str, shown: dict[str, tuple[float, float]]) -> None:
    for name, (longitude, latitude) in shown.items():
        stored = world.records[name].location
        if EXACT_COORDINATES[persona]:
            assert (longitude, latitude) == (round(stored.x, 6), round(stored.y, 6)), name
        else:
            assert (longitude, latitude) != (round(stored.x, 6), round(stored.y, 6)), name
            for value in (longitude, latitude):
                assert (value / GENERALISED_CELL_DEGREES).is_integer(), (name, value)


@pytest.mark.parametrize("persona", READERS)
def test_list_shows_exactly_the_records_the_persona_may_see(client, world, persona):
    headers = sign_in(client, world, persona)

    # Small pages, followed to the end: the cursor pages together hold exactly these.
    rows, url = [], "/api/v1/incidents?limit=3"
    while url:
        response = client.get(url, **headers)
        assert response.status_code == 200
        body = response.json()
        assert "count" not in body, "cursor pages carry no count that could leak"
        rows += body["results"]
        url = body["next"]
    ids = names_by_id(world)
    shown = {ids[row["id"]]: tuple(row["location"]["coordinates"]) for row in rows}
    assert set(shown) == expected_names(world, persona)
    assert len(rows) == len(expected_names(world, persona)), "the count must not leak"
    assert_coordinates(world, persona, shown)
    assert all(row["location_is_exact"] is EXACT_COORDINATES[persona] for row in rows)


@pytest.mark.parametrize("persona", READERS)
def test_detail_is_404_for_every_record_the_persona_may_not_see(client, world, persona):
    headers = sign_in(client, world, persona)
    expected = expected_names(world, persona)

    for name, incident in world.records.items():
        response = client.get(f"/api/v1/incidents/{incident.id}", **headers)
        if name in expected:
            assert response.status_code == 200, name
            assert_coordinates(
                world, persona, {name: tuple(response.json()["location"]["coordinates"])}
            )
        else:
            assert response.status_code == 404, name
            assert str(incident.location.x)[:6] not in response.content.decode()


@pytest.mark.parametrize("persona", READERS)
def test_csv_export_holds_exactly_the_visible_records_with_their_shown_coordinates(
    client, world, persona
):
    headers = sign_in(client, world, persona)

    response = client.get("/api/v1/incidents/export.csv", **headers)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    rows = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))
    ids = names_by_id(world)
    shown = {ids[int(row["id"])]: (float(row["longitude"]), float(row["latitude"])) for row in rows}
    assert set(shown) == expected_names(world, persona)
    assert_coordinates(world, persona, shown)


def test_a_signed_in_user_without_membership_is_refused_every_output(client, world):
    sign_in(client, world, "nobody")

    assert client.get("/api/v1/incidents").status_code == 403
    assert client.get("/api/v1/incidents/export.csv").status_code == 403
    for incident in world.records.values():
        assert client.get(f"/api/v1/incidents/{incident.id}").status_code == 404


def _unusable_keys(world) -> dict[str, str]:
    partner = world.agencies["partner_agency"]
    revoked_key, revoked = agency_api_key_create(agency=partner, name="revoked")
    revoked_key.revoked = True
    revoked_key.save()
    _expired_key, expired = agency_api_key_create(
        agency=partner, name="expired", expires_at=timezone.now() - timedelta(minutes=1)
    )
    host = world.agencies["host_agency"]
    host.is_active = False
    host.save()
    return {
        "revoked": revoked,
        "expired": expired,
        "deactivated agency": world.api_keys["host_agency"],
        "made up": "abcdefgh.notarealkeyatallnotarealkeyatall",
    }


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/incidents",
        *(f"/api/v1/incidents/export.{ext}" for ext in ("csv", "xlsx", "geojson")),
    ],
)
def test_revoked_expired_and_unknown_keys_and_anonymous_callers_get_nothing(client, world, path):
    for reason, key in _unusable_keys(world).items():
        response = client.get(path, HTTP_AUTHORIZATION=f"Api-Key {key}")
        assert response.status_code == 401, reason
        assert b"MINUSCA" not in response.content
    anonymous = client.get(path)
    assert anonymous.status_code in (401, 403)
    detail = client.get(f"/api/v1/incidents/{world.records['alpha_verified_L5'].id}")
    assert detail.status_code in (401, 403)


def test_an_api_key_in_the_query_string_is_ignored(client, world):
    response = client.get(f"/api/v1/incidents?api_key={world.api_keys['partner_agency']}")
    assert response.status_code in (401, 403)


# --- actions that change records or start work: the rules -------------------------------

RECORD_ACTIONS = {
    # action: {persona: records it may act on}; every other persona may act on none.
    "change_incident": {
        "reporter_alpha": {"alpha_draft_L1", "alpha_returned_L1"},
        "reporter_bravo": {"bravo_draft_L5"},
    },
    "submit_incident": {
        "reporter_alpha": {"alpha_draft_L1", "alpha_returned_L1"},
        "reporter_bravo": {"bravo_draft_L5"},
    },
    "verify_incident": {"verifier": {"alpha_submitted_L1", "bravo_submitted_L5"}},
    "return_incident": {"verifier": {"alpha_submitted_L1", "bravo_submitted_L5"}},
}
GLOBAL_ACTIONS = {
    "add_incident": {"reporter_alpha", "reporter_bravo"},
    "analyse_incidents": {
        "admin",
        "verifier",
        "mission_analyst",
        "wps_analyst",
        "other_mission_analyst",
        "regional_analyst",
    },
    "export_incidents": set(READERS),
    "list_incidents": set(READERS),
    "view_gender_data": {"admin", "wps_analyst"},
}
ALL_PERSONAS = [*READERS, "nobody"]


def principal(world, persona: str):
    if persona in world.agencies:
        return AgencyPrincipal(agency=world.agencies[persona])
    return world.users[persona]


@pytest.mark.parametrize("action", sorted(RECORD_ACTIONS))
def test_record_actions_are_allowed_only_on_the_right_records(world, action):
    allowed = {
        persona: {
            name
            for name, incident in world.records.items()
            if rules.has_perm(f"incidents.{action}", principal(world, persona), incident)
        }
        for persona in ALL_PERSONAS
    }
    expected = {persona: RECORD_ACTIONS[action].get(persona, set()) for persona in ALL_PERSONAS}
    assert allowed == expected


@pytest.mark.parametrize("action", sorted(GLOBAL_ACTIONS))
def test_global_actions_are_allowed_only_to_the_right_roles(world, action):
    allowed = {
        persona
        for persona in ALL_PERSONAS
        if rules.has_perm(f"incidents.{action}", principal(world, persona))
    }
    assert allowed == GLOBAL_ACTIONS[action]


def test_view_permission_agrees_with_the_visible_records(world):
    for persona in READERS:
        permitted = {
            name
            for name, incident in world.records.items()
            if rules.has_perm("incidents.view_incident", principal(world, persona), incident)
        }
        assert permitted == expected_names(world, persona), persona


# --- keys and the access log -----------------------------------------------------------


def test_api_keys_are_stored_hashed_and_every_pull_is_logged(client, world):
    raw_key = world.api_keys["partner_agency"]
    agency = world.agencies["partner_agency"]
    stored = agency.api_keys.get()
    assert raw_key.split(".")[1] not in stored.hashed_key
    assert stored.prefix == raw_key.split(".")[0]

    client.get("/api/v1/incidents?limit=2", HTTP_AUTHORIZATION=f"Api-Key {raw_key}")

    access = APIAccess.objects.get()
    assert (access.agency, access.api_key, access.path, access.query, access.records) == (
        agency,
        stored,
        "/api/v1/incidents",
        "limit=2",
        2,
    )


def _shown_in_export(response, export_format: str) -> dict[int, tuple[float, float]]:
    content = b"".join(response.streaming_content) if response.streaming else b"".join(response)
    if export_format == "geojson":
        features = json.loads(content)["features"]
        return {feature["id"]: tuple(feature["geometry"]["coordinates"]) for feature in features}
    rows = load_workbook(io.BytesIO(content), read_only=True).active.iter_rows(values_only=True)
    header = next(rows)
    # Coordinates are text with six decimals, as written (incidents/exports.py).
    return {
        row[header.index("id")]: (
            float(row[header.index("longitude")]),
            float(row[header.index("latitude")]),
        )
        for row in rows
    }


@pytest.mark.parametrize("export_format", ["xlsx", "geojson"])
@pytest.mark.parametrize("persona", READERS)
def test_xlsx_and_geojson_exports_hold_exactly_the_visible_records(
    client, world, persona, export_format
):
    headers = sign_in(client, world, persona)

    response = client.get(f"/api/v1/incidents/export.{export_format}", **headers)

    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    ids = names_by_id(world)
    shown = {ids[pk]: point for pk, point in _shown_in_export(response, export_format).items()}
    assert set(shown) == expected_names(world, persona)
    assert_coordinates(world, persona, shown)


@pytest.mark.parametrize("persona", READERS)
def test_analyses_read_exactly_the_records_the_persona_may_see(client, world, persona):
    from geo.analyses.services import analysis_run_execute
    from geo.models import AnalysisCell, AnalysisRun

    headers = sign_in(client, world, persona)
    body = {"kind": "hotspots", "parameters": {"resolution": 5, "rings": 3}}
    response = client.post("/api/v1/analyses", body, content_type="application/json", **headers)

    if persona not in GLOBAL_ACTIONS["analyse_incidents"]:
        assert response.status_code == 403
        assert not AnalysisRun.objects.exists()
        return
    assert response.status_code == 202
    run = AnalysisRun.objects.get(pk=response.json()["id"])
    assert run.incidents_read == len(expected_names(world, persona))
    analysis_run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()
    assert run.state == "done", run.error
    assert run.result["summary"]["total"] == len(expected_names(world, persona))
    # A reader of generalised locations gets hexagons around the generalised points only.
    if not EXACT_COORDINATES[persona]:
        stored = world.records["alpha_verified_L3"].location
        exact_cell = format(cell_of(stored.y, stored.x, 5), "x")
        counted = AnalysisCell.objects.filter(run=run, incidents__gt=0)
        assert exact_cell not in {format(cell.cell, "x") for cell in counted}


# --- the registry of lost and stolen weapons, and its hits (issue 23) ------------------------

VERIFIED_RECORDS = sorted(
    {f"alpha_verified_L{level}" for level in range(1, 6)}
    | {"bravo_verified_L4", "charlie_verified_L1", "charlie_verified_L5"}
)


@pytest.fixture
def registry_mirrors(world):
    """A registry entry for each verified record, with its contingent, mission, country and
    releasability (entries are recorded verified), serial `RM<record id>`; and a seized
    weapon in each verified record whose serial is every other record's entry's, so that
    every pair of sides is a hit."""
    from datetime import date

    from incidents.models import RegistryEntry, RegistrySerial, WeaponItem
    from incidents.registry.hits import hits_check

    world.mirrors = {}
    for name in VERIFIED_RECORDS:
        record = world.records[name]
        entry = RegistryEntry.objects.create(
            category="shotgun",
            circumstance="theft",
            occurred_on=date(2025, 1, 1),
            country=record.country,
            reporting_body_kind="contingent",
            reporting_body=f"body of {name}",
            contact=f"contact of {name}",
            mission=record.mission,
            contingent=record.contingent,
            releasability=record.releasability,
        )
        RegistrySerial.objects.create(entry=entry, component="frame", serial=f"RM{record.pk:06d}")
        world.mirrors[name] = entry
    for seizing in VERIFIED_RECORDS:
        for lost in VERIFIED_RECORDS:
            if lost != seizing:
                WeaponItem.objects.create(
                    incident=world.records[seizing],
                    category="shotgun",
                    serial_number=f"RM{world.records[lost].pk:06d}",
                )
    hits_check()
    return world


@pytest.mark.parametrize("persona", READERS)
def test_registry_entries_follow_the_records_access_policy(registry_mirrors, persona):
    from incidents.models import RegistryEntry

    world = registry_mirrors
    reader = (
        AgencyPrincipal(agency=world.agencies[persona])
        if persona in world.agencies
        else world.users[persona]
    )
    visible = set(RegistryEntry.objects.visible_to(reader).values_list("pk", flat=True))
    expected = {
        world.mirrors[name].pk
        for name in VERIFIED_RECORDS
        if name in expected_names(world, persona)
    }
    assert visible == expected


@pytest.mark.parametrize("persona", READERS)
def test_serial_search_shows_only_what_the_key_may_see(client, registry_mirrors, persona):
    world = registry_mirrors
    headers = sign_in(client, world, persona)
    allowed = expected_names(world, persona)
    for name in VERIFIED_RECORDS:
        serial = f"RM{world.records[name].pk:06d}"
        response = client.get("/api/v1/weapons/search", {"serial": serial}, **headers)
        assert response.status_code == 200
        # Other records' serials may match too (RM000001 and RM000007: 1 and 7 are confusable).
        registry = [
            m
            for m in response.json()["matches"]
            if (m["source"], m["reason"]) == ("registry", "exact")
        ]
        (match,) = registry
        assert match["visible"] is (name in allowed), (persona, name)
        assert (match["id"] == world.mirrors[name].pk) is (name in allowed)
        seizures = [m for m in response.json()["matches"] if m["source"] == "seizure"]
        names = names_by_id(world)
        for seizure in seizures:
            if seizure["visible"]:
                from incidents.models import WeaponItem

                weapon = WeaponItem.objects.get(pk=seizure["id"])
                assert names[weapon.incident_id] in allowed
            else:
                assert seizure["id"] is None and seizure["serial"] == ""


@pytest.mark.parametrize(
    "persona", sorted(set(READERS) - {"partner_agency", "host_agency", "lapsed_agency"})
)
def test_the_hits_page_shows_each_side_only_to_its_readers(client, registry_mirrors, persona):
    world = registry_mirrors
    sign_in(client, world, persona)
    page = client.get("/incidents/hits/").content.decode()
    allowed = expected_names(world, persona)
    assert "data-hit=" in page or not allowed & set(VERIFIED_RECORDS)
    # A side the reader may not read never shows: not the entry, not the seizure's record.
    for name in VERIFIED_RECORDS:
        if name not in allowed:
            assert f"registry entry {world.mirrors[name].pk} (" not in page, (persona, name)
            assert f"/incidents/{world.records[name].pk}/" not in page, (persona, name)

"""The map's registry hits layer (/map/hits.geojson): the seizures holding a registry hit
still standing (new or confirmed), as the reader may see them — its visibility, the location
it may see, the incident filters and the box — with the number of hits and nothing of the
registry entries.

The layout, on the personas' world (tests/personas.py): one MINUSCA registry entry, readable
by MINUSCA only, and a MONUSCO one;
- alpha_verified_L3 (Bangui): two weapons, one hit new, one confirmed;
- bravo_verified_L4 (Bangui): one hit, dismissed;
- charlie_verified_L5 (Goma): one hit new, on the MONUSCO entry.
"""

from datetime import date

import pytest

from geo.map import layers
from incidents.choices import WeaponCategory
from incidents.models import RegistryEntry, WeaponHit, WeaponItem
from incidents.registry.choices import (
    Circumstance,
    HitReason,
    HitState,
    MakeAgreement,
    ReportingBodyKind,
)
from organisations.choices import Releasability

URL = "/map/hits.geojson"
WORLD_BOX = "-180,-90,180,90"
BANGUI = (18.583713, 4.367141)
GOMA = (29.221837, -1.679113)


def _entry(mission) -> RegistryEntry:
    return RegistryEntry.objects.create(
        category=WeaponCategory.ASSAULT_RIFLE,
        circumstance=Circumstance.THEFT,
        occurred_on=date(2024, 6, 1),
        place="a base",
        country="CAF",
        reporting_body_kind=ReportingBodyKind.MISSION,
        reporting_body=f"{mission.acronym} JMAC",
        contact="jmac@example.org",
        mission=mission,
        releasability=Releasability.MISSION_ONLY,
    )


def _hit(incident, entry, state: str) -> WeaponHit:
    weapon = WeaponItem.objects.create(
        incident=incident, category=WeaponCategory.ASSAULT_RIFLE, serial_number="AB123456"
    )
    return WeaponHit.objects.create(
        weapon=weapon,
        registry_entry=entry,
        weapon_serial="AB123456",
        matched_serial="AB123456",
        score=1.0,
        reason=HitReason.EXACT,
        make_agreement=MakeAgreement.SAME,
        state=state,
    )


@pytest.fixture
def registry_hits(world):
    records = world.records
    minusca = _entry(records["alpha_verified_L3"].mission)
    monusco = _entry(records["charlie_verified_L5"].mission)
    _hit(records["alpha_verified_L3"], minusca, HitState.NEW)
    _hit(records["alpha_verified_L3"], minusca, HitState.CONFIRMED)
    _hit(records["bravo_verified_L4"], minusca, HitState.DISMISSED)
    _hit(records["charlie_verified_L5"], monusco, HitState.NEW)
    return world


def hits_layer(client, user, **params) -> dict:
    client.force_login(user)
    response = client.get(URL, {"bbox": WORLD_BOX, "zoom": "12", **params})
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    return response.json()


def _seizures(collection: dict) -> dict[int, dict]:
    return {feature["id"]: feature for feature in collection["features"]}


def test_a_mission_analyst_sees_its_missions_seizures_with_standing_hits(client, registry_hits):
    world = registry_hits
    collection = hits_layer(client, world.users["mission_analyst"])
    seizures = _seizures(collection)
    alpha = world.records["alpha_verified_L3"]
    # Bravo's only hit is dismissed; Charlie's seizure is MONUSCO's.
    assert set(seizures) == {alpha.pk}
    assert seizures[alpha.pk]["properties"] == {"hits": 2, "exact": True}
    assert seizures[alpha.pk]["geometry"]["coordinates"] == list(BANGUI)
    assert collection["empty"] is None


def test_a_reader_who_may_not_see_a_seizure_gets_nothing_of_it(client, registry_hits):
    world = registry_hits
    other = hits_layer(client, world.users["other_mission_analyst"])
    assert set(_seizures(other)) == {world.records["charlie_verified_L5"].pk}
    nobody = hits_layer(client, world.users["nobody"])
    assert nobody["features"] == [] and nobody["empty"] == layers.NO_HITS_IN_VIEW
    # Nothing of a registry entry reaches the page: only the count of hits.
    for feature in other["features"]:
        assert set(feature["properties"]) == {"hits", "exact"}
    client.logout()
    assert client.get(URL, {"bbox": WORLD_BOX, "zoom": "4"}).status_code == 302


def test_a_reader_of_generalised_locations_gets_generalised_coordinates(client, registry_hits):
    world = registry_hits
    analyst = world.users["regional_analyst"]
    collection = hits_layer(client, analyst)
    seizures = _seizures(collection)
    alpha = world.records["alpha_verified_L3"]
    assert alpha.pk in seizures
    for feature in collection["features"]:
        longitude, latitude = feature["geometry"]["coordinates"]
        assert (longitude * 4, latitude * 4) == (round(longitude * 4), round(latitude * 4))
        assert feature["properties"]["exact"] is False
    assert seizures[alpha.pk]["geometry"]["coordinates"] == [18.5, 4.25]
    # A small box around the exact point finds nothing: the box tests the location shown.
    assert hits_layer(client, analyst, bbox="18.55,4.35,18.6,4.4")["features"] == []


def test_the_incident_filters_and_the_box_narrow_the_layer(client, registry_hits):
    world = registry_hits
    admin = world.users["admin"]
    everything = _seizures(hits_layer(client, admin))
    charlie = world.records["charlie_verified_L5"].pk
    assert set(everything) == {world.records["alpha_verified_L3"].pk, charlie}
    assert set(_seizures(hits_layer(client, admin, mission="MONUSCO"))) == {charlie}
    assert set(_seizures(hits_layer(client, admin, country="COD"))) == {charlie}
    goma_box = f"{GOMA[0] - 0.5},{GOMA[1] - 0.5},{GOMA[0] + 0.5},{GOMA[1] + 0.5}"
    assert set(_seizures(hits_layer(client, admin, bbox=goma_box))) == {charlie}
    narrowed = hits_layer(client, admin, occurred_after="2030-01-01T00:00:00Z")
    assert narrowed["features"] == [] and narrowed["empty"] == layers.NO_HITS_IN_VIEW


def test_dismissed_hits_are_left_out(client, registry_hits):
    world = registry_hits
    WeaponHit.objects.filter(state=HitState.NEW).update(state=HitState.DISMISSED)
    seizures = _seizures(hits_layer(client, world.users["admin"]))
    assert set(seizures) == {world.records["alpha_verified_L3"].pk}
    assert seizures[world.records["alpha_verified_L3"].pk]["properties"]["hits"] == 1


def test_an_empty_registry_says_so(client, world):
    collection = hits_layer(client, world.users["admin"])
    assert collection["features"] == [] and collection["empty"] == layers.NO_REGISTRY


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"zoom": "12"}, "bbox"),
        ({"zoom": "12", "bbox": "10,0,5,1"}, "bbox"),
        ({"bbox": WORLD_BOX}, "zoom"),
        ({"bbox": WORLD_BOX, "zoom": "21"}, "zoom"),
        ({"bbox": WORLD_BOX, "zoom": "12", "kind": "parade"}, "kind"),
        ({"bbox": WORLD_BOX, "zoom": "12", "occurred_after": "yesterday"}, "occurred_after"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(client, registry_hits, params, field):
    client.force_login(registry_hits.users["admin"])
    response = client.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_hits_page_lists_one_seizures_hits(client, registry_hits):
    world = registry_hits
    client.force_login(world.users["admin"])
    alpha = world.records["alpha_verified_L3"]
    page = client.get("/incidents/hits/", {"incident": alpha.pk, "state": ""})
    assert page.status_code == 200
    assert len(page.context["rows"]) == 2


def test_beyond_the_cap_the_layer_counts_per_cell(client, registry_hits, monkeypatch):
    monkeypatch.setattr(layers, "MAX_POINTS", 1)
    collection = hits_layer(client, registry_hits.users["admin"], zoom="6")
    assert collection["mode"] == "cells"
    assert collection["total"] == 2

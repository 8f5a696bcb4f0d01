"""The API's record items (weapons, ammunition, trace requests), an incident's detail with
its items, and the reference lists (missions, boundaries, regions)."""

import importlib

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon

from geo.models import Country
from organisations.models import APIAccess, Mission

pytestmark = pytest.mark.usefixtures("weapons_traces_and_people")


def get(client, world, persona, path, query=""):
    if persona in world.api_keys:
        return client.get(
            f"{path}?{query}", HTTP_AUTHORIZATION=f"Api-Key {world.api_keys[persona]}"
        )
    client.force_login(world.users[persona])
    return client.get(f"{path}?{query}")


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


# --- weapons, ammunition, trace requests ------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "seen"),
    [
        ("admin", {"alpha_verified_L5", "alpha_draft_L1", "charlie_verified_L5"}),
        ("mission_analyst", {"alpha_verified_L5"}),
        ("reporter_alpha", {"alpha_verified_L5", "alpha_draft_L1"}),
        ("other_mission_analyst", {"charlie_verified_L5"}),
        ("partner_agency", {"alpha_verified_L5"}),
        ("lapsed_agency", set()),
        ("nobody", set()),
    ],
)
def test_weapons_are_those_of_the_incidents_the_caller_sees(client, world, persona, seen):
    response = get(client, world, persona, "/api/v1/weapons")
    if persona == "nobody":
        assert response.status_code == 403
        return
    assert {row["id"] for row in results(response)} == {world.weapons[name].id for name in seen}
    ammunition = results(get(client, world, persona, "/api/v1/ammunition"))
    assert {row["incident"] for row in ammunition} == {world.records[name].id for name in seen}


def test_a_weapon_carries_its_flow_columns_and_traces(client, world):
    traced = world.weapons["alpha_verified_L5"]
    row = get(client, world, "mission_analyst", f"/api/v1/weapons/{traced.id}").json()
    assert row["serial_number"] == traced.serial_number
    assert row["seized_in"] == "CAF"
    assert (row["origin_country"], row["origin_source"], row["origin_kind"]) == (
        "BGR",
        "trace",
        "not_recorded",
    )
    assert row["trace_requests"] == [world.trace.id]
    untraced = world.weapons["charlie_verified_L5"]
    row = get(client, world, "admin", f"/api/v1/weapons/{untraced.id}").json()
    # Made in Russia, no origin established: where it was made is not an origin.
    assert (row["country_of_manufacture"], row["origin_country"], row["origin_source"]) == (
        "RUS",
        "",
        "",
    )


def test_a_weapon_of_an_incident_out_of_reach_is_a_404(client, world):
    hidden = world.weapons["charlie_verified_L5"]
    assert get(client, world, "mission_analyst", f"/api/v1/weapons/{hidden.id}").status_code == 404


def test_weapon_filters(client, world):
    def weapon_ids(query):
        return {row["id"] for row in results(get(client, world, "admin", "/api/v1/weapons", query))}

    everything = {weapon.id for weapon in world.weapons.values()}
    assert weapon_ids("seized_in=COD") == {world.weapons["charlie_verified_L5"].id}
    assert weapon_ids("origin_country=bgr") == {world.weapons["alpha_verified_L5"].id}
    assert weapon_ids("category=assault_rifle&make=kalashnikov") == everything
    assert weapon_ids("category=mortar") == set()
    hidden_serial = world.weapons["alpha_draft_L1"].serial_number
    assert weapon_ids(f"serial_number={hidden_serial.lower()}") == {
        world.weapons["alpha_draft_L1"].id
    }


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("category=bazooka", "category"),
        ("seized_in=Central", "seized_in"),
        ("origin_country=C4F", "origin_country"),
        ("seized_after=yesterday", "seized_after"),
        ("markings_altered=maybe", "markings_altered"),
        ("incident=one", "incident"),
        ("limit=0", "limit"),
    ],
)
def test_a_bad_weapon_filter_is_a_400_naming_it(client, world, query, field):
    response = get(client, world, "admin", "/api/v1/weapons", query)
    assert response.status_code == 400
    assert field in response.json()


def test_a_forged_weapon_cursor_names_no_page(client, world):
    response = get(client, world, "admin", "/api/v1/weapons", "cursor=forged")
    assert response.status_code == 404


def test_empty_item_filters_are_not_set(client, world):
    everything = get(client, world, "admin", "/api/v1/weapons")
    blanks = "category=&condition=&limit=&seized_in="
    empty = get(client, world, "admin", "/api/v1/weapons", blanks)
    assert empty.status_code == 200
    assert empty.json()["results"] == everything.json()["results"]


def test_trace_requests_follow_their_weapons(client, world):
    rows = results(get(client, world, "partner_agency", "/api/v1/trace-requests"))
    assert [row["id"] for row in rows] == [world.trace.id]
    # The agency sees locations generalised: the point of diversion too, on the same grid.
    assert rows[0]["diversion_point"] == {"type": "Point", "coordinates": [23.25, 42.75]}
    exact = results(get(client, world, "admin", "/api/v1/trace-requests"))
    assert exact[0]["diversion_point"] == {"type": "Point", "coordinates": [23.3219, 42.6977]}
    assert results(get(client, world, "other_mission_analyst", "/api/v1/trace-requests")) == []
    established = get(client, world, "admin", "/api/v1/trace-requests", "diversion_established=yes")
    assert established.status_code == 400
    assert list(established.json()) == ["diversion_established"]


def test_item_pulls_are_logged_with_their_counts(client, world):
    get(client, world, "partner_agency", "/api/v1/weapons")
    access = APIAccess.objects.get(path="/api/v1/weapons")
    assert (access.agency, access.records) == (world.agencies["partner_agency"], 1)


def test_cursor_pages_of_weapons_never_skip_or_repeat(client, world):
    seen, query = [], "limit=1"
    client.force_login(world.users["admin"])
    url = f"/api/v1/weapons?{query}"
    while url:
        page = client.get(url).json()
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == sorted(weapon.id for weapon in world.weapons.values())


# --- an incident's detail ---------------------------------------------------------------


def test_an_incidents_detail_has_its_items(client, world):
    incident = world.records["alpha_verified_L5"]
    detail = get(client, world, "wps_analyst", f"/api/v1/incidents/{incident.id}").json()
    assert [weapon["id"] for weapon in detail["weapons"]] == [world.weapons["alpha_verified_L5"].id]
    assert detail["weapons"][0]["trace_requests"] == [world.trace.id]
    assert [ammunition["calibre"] for ammunition in detail["ammunition"]] == ["7.62x39mm"]
    assert detail["persons"] == [
        {
            "id": incident.persons.get().id,
            "role": "suspect",
            "sex": "female",
            "age_group": "adult",
            "outcome": "unknown",
            "count": 2,
        }
    ]
    assert detail["gbv_link"] is False
    assert detail["weapons"][0]["illicit_origin"] is None
    listed = results(get(client, world, "wps_analyst", "/api/v1/incidents"))
    assert "weapons" not in listed[0]  # the list stays lean


@pytest.mark.parametrize("persona", ["mission_analyst", "partner_agency"])
def test_gender_data_are_null_for_readers_not_allowed_them(client, world, persona):
    incident = world.records["alpha_verified_L5"]
    detail = get(client, world, persona, f"/api/v1/incidents/{incident.id}").json()
    assert detail["persons"] is None
    assert detail["gbv_link"] is None
    assert len(detail["weapons"]) == 1


# --- reference lists --------------------------------------------------------------------


def test_missions_list_their_contingents_and_the_detail_its_area(client, world):
    rows = results(get(client, world, "partner_agency", "/api/v1/missions"))
    assert [row["acronym"] for row in rows] == ["MINUSCA", "MONUSCO"]
    assert [contingent["name"] for contingent in rows[0]["contingents"]] == ["Alpha", "Bravo"]
    assert "area_of_operations" not in rows[0]
    area = MultiPolygon(Polygon.from_bbox((14.4, 2.2, 27.5, 11.0)), srid=4326)
    Mission.objects.filter(acronym="MINUSCA").update(area_of_operations=area)
    detail = get(client, world, "partner_agency", "/api/v1/missions/MINUSCA").json()
    assert detail["area_of_operations"]["type"] == "MultiPolygon"
    assert detail["area_of_operations"]["coordinates"][0][0][0] == [14.4, 2.2]
    assert (
        get(client, world, "admin", "/api/v1/missions/MONUSCO").json()["area_of_operations"] is None
    )
    assert get(client, world, "admin", "/api/v1/missions/UNKNOWN").status_code == 404


def test_boundaries_and_regions(client, world):
    Country.objects.create(
        iso3="CAF",
        name="Central African Republic",
        boundary=MultiPolygon(Polygon.from_bbox((14.4, 2.2, 27.5, 11.0)), srid=4326),
        source="test",
    )
    rows = results(get(client, world, "host_agency", "/api/v1/boundaries"))
    assert rows == [{"iso3": "CAF", "name": "Central African Republic", "source": "test"}]
    detail = get(client, world, "host_agency", "/api/v1/boundaries/CAF").json()
    assert detail["boundary"]["type"] == "MultiPolygon"
    assert get(client, world, "host_agency", "/api/v1/boundaries/XXX").status_code == 404
    regions = results(get(client, world, "host_agency", "/api/v1/regions"))
    listed = {row["code"]: row["member_countries"] for row in regions}
    assert {code: listed[code] for code in ("test-caf", "test-cod")} == {
        "test-caf": ["CAF"],
        "test-cod": ["COD"],
    }
    # The rest: the instruments geo migration 0019 records as regions, said to be so.
    instruments = importlib.import_module("geo.migrations.0019_regional_instruments")
    assert set(listed) - {"test-caf", "test-cod"} <= {
        code for code, *_rest in instruments.INSTRUMENTS
    }
    kinds = {row["code"]: row["kind"] for row in regions}
    assert kinds["test-caf"] == "organisation"
    assert {kinds[code] for code in set(listed) - {"test-caf", "test-cod"}} <= {"instrument"}
    assert get(client, world, "host_agency", "/api/v1/regions/test-cod").json()["name"] == (
        "COD only"
    )


def test_reference_lists_need_credentials(client, world):
    for path in ("/api/v1/missions", "/api/v1/boundaries", "/api/v1/regions", "/api/v1/weapons"):
        assert client.get(path).status_code in (401, 403)


def test_the_admin_cannot_delete_a_record_that_sync_would_miss(client, world):
    incident = world.records["alpha_verified_L5"]
    client.force_login(world.users["admin"])
    admin_client = client
    page = admin_client.get(f"/admin/incidents/incident/{incident.id}/delete/")
    assert page.status_code == 403
    admin_client.post(
        "/admin/incidents/incident/",
        {"action": "delete_selected", "_selected_action": [incident.id], "post": "yes"},
    )
    assert type(incident).objects.filter(pk=incident.pk).exists()


def test_a_page_of_incidents_costs_the_same_queries_whatever_its_length(
    client, world, django_assert_max_num_queries
):
    # Each row names its contingent with its mission: read in the page's own query, not one
    # query per row (a hundred extra queries on a full page). One of the queries saves the
    # session, which each request does to move its idle end on (SESSION_SAVE_EVERY_REQUEST).
    client.force_login(world.users["admin"])
    with django_assert_max_num_queries(13):
        response = client.get("/api/v1/incidents?limit=100")
    assert len(response.json()["results"]) == len(world.records)

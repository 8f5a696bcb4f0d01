"""The shared incident filters over the API (bbox, polygon, updated_since, region, ranges),
cursor pages, request rates; and what Schemathesis found, each pinned by a test."""

import json
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from geo.models import AnalysisRun, Region
from incidents.models import Incident

# Bangui is at (18.583713, 4.367141); Goma at (29.221837, -1.679113).
AROUND_BANGUI = "18.5,4.3,18.7,4.4"
TINY_BOX_ON_BANGUI = "18.5837,4.3671,18.5838,4.3672"


def get(client, world, persona, query="", path="/api/v1/incidents"):
    if persona in world.api_keys:
        return client.get(
            f"{path}?{query}", HTTP_AUTHORIZATION=f"Api-Key {world.api_keys[persona]}"
        )
    client.force_login(world.users[persona])
    return client.get(f"{path}?{query}")


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


def names(world, *wanted) -> set[int]:
    return {world.records[name].id for name in wanted}


# --- bbox and polygon -------------------------------------------------------------------


def test_bbox_keeps_the_incidents_inside_it(client, world):
    around_goma = "29.0,-1.8,29.4,-1.5"
    assert ids(get(client, world, "admin", f"bbox={around_goma}")) == names(
        world, "charlie_draft_L5", "charlie_verified_L1", "charlie_verified_L5"
    )
    assert len(ids(get(client, world, "admin", f"bbox={AROUND_BANGUI}&limit=100"))) == 11


@pytest.mark.parametrize(
    "bbox", ["1,2,3", "a,b,c,d", "10,0,5,1", "0,10,1,5", "0,0,200,1", "nan,0,1,1", "1,2,3,4,5"]
)
def test_a_malformed_bbox_is_a_400_naming_the_field(client, world, bbox):
    response = get(client, world, "mission_analyst", f"bbox={bbox}")
    assert response.status_code == 400
    assert list(response.json()) == ["bbox"]


def test_polygon_takes_wkt_and_geojson(client, world):
    wkt = "POLYGON((29 -2, 29.5 -2, 29.5 -1.5, 29 -1.5, 29 -2))"
    geojson = json.dumps(
        {
            "type": "Polygon",
            "coordinates": [[[29, -2], [29.5, -2], [29.5, -1.5], [29, -1.5], [29, -2]]],
        }
    )
    goma = names(world, "charlie_draft_L5", "charlie_verified_L1", "charlie_verified_L5")
    assert ids(get(client, world, "admin", f"polygon={wkt}")) == goma
    client.logout()
    assert ids(get(client, world, "admin", urlencode({"polygon": geojson}))) == goma


@pytest.mark.parametrize(
    "polygon",
    [
        "POLYGON((0 0, 1 0))",
        "POINT(1 1)",
        "not a shape",
        '{"type": "Polygon"',
        "POLYGON((0 0, 2 2, 2 0, 0 2, 0 0))",  # self-intersecting
        "POLYGON((0 0, 300 0, 300 1, 0 0))",
    ],
)
def test_an_invalid_polygon_is_a_400_naming_the_field(client, world, polygon):
    response = get(client, world, "mission_analyst", f"polygon={polygon}")
    assert response.status_code == 400
    assert list(response.json()) == ["polygon"]


def test_a_generalised_reader_cannot_find_exact_positions_with_tiny_boxes(client, world):
    # The regional analyst sees Bangui's records snapped to a 0.25° grid (18.5, 4.25).
    assert ids(get(client, world, "regional_analyst", f"bbox={AROUND_BANGUI}")) == set()
    assert ids(get(client, world, "regional_analyst", f"bbox={TINY_BOX_ON_BANGUI}")) == set()
    tiny = "POLYGON((18.5837 4.3671, 18.5838 4.3671, 18.5838 4.3672, 18.5837 4.3671))"
    assert ids(get(client, world, "regional_analyst", f"polygon={tiny}")) == set()
    # The box around the point it is shown at finds them.
    shown = ids(get(client, world, "regional_analyst", "bbox=18.49,4.24,18.51,4.26"))
    assert shown == names(
        world, "alpha_verified_L3", "alpha_verified_L4", "alpha_verified_L5", "bravo_verified_L4"
    )
    # An exact reader finds them with the tiny box.
    assert ids(get(client, world, "mission_analyst", f"bbox={TINY_BOX_ON_BANGUI}"))


def test_the_html_list_takes_the_same_spatial_filters(client, world):
    client.force_login(world.users["regional_analyst"])
    response = client.get(f"/incidents/?bbox={TINY_BOX_ON_BANGUI}")
    assert response.status_code == 200
    assert response.context["page"].paginator.count == 0


# --- updated_since, region, date ranges --------------------------------------------------


def test_updated_since_returns_what_changed(client, world):
    Incident.objects.update(updated_at=timezone.now() - timedelta(days=10))
    changed = world.records["alpha_verified_L5"]
    changed.narrative = "updated"
    changed.save()
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(get(client, world, "admin", f"updated_since={since.replace('+', '%2B')}")) == {
        changed.id
    }


def test_region_keeps_the_incidents_in_its_member_states(client, world):
    Region.objects.create(code="eccas-test", name="ECCAS", member_countries=["COD", "TCD"])
    assert ids(get(client, world, "admin", "region=eccas-test")) == names(
        world, "charlie_draft_L5", "charlie_verified_L1", "charlie_verified_L5"
    )
    assert ids(get(client, world, "admin", "region=no-such-region")) == set()


def test_a_reversed_date_range_is_a_400_naming_both_fields(client, world):
    response = get(
        client,
        world,
        "mission_analyst",
        "occurred_after=2025-03-01T00:00:00Z&occurred_before=2025-01-01T00:00:00Z",
    )
    assert response.status_code == 400
    assert set(response.json()) == {"occurred_after", "occurred_before"}


# --- found by Schemathesis ---------------------------------------------------------------


def test_a_time_zone_offset_postgresql_refuses_is_read_in_utc_not_a_500(client, world):
    # +16:31 is a valid ISO 8601 offset to Python, out of range to PostgreSQL.
    query = "occurred_after=0826-03-03T12:20:05%2B16:31"
    for path in ("/api/v1/incidents", "/api/v1/incidents/export.csv"):
        assert get(client, world, "admin", query, path).status_code == 200
    assert (
        get(client, world, "admin", "occurred_after=0001-01-01T00:00:00%2B05:00").status_code == 400
    )


def test_an_unknown_contingent_or_mission_selects_nothing_rather_than_failing(client, world):
    assert ids(get(client, world, "admin", "contingent=0")) == set()
    assert ids(get(client, world, "admin", "mission=NOSUCH")) == set()
    assert get(client, world, "admin", "contingent=abc").status_code == 400


def test_withdrawn_takes_true_or_false_only(client, world):
    assert get(client, world, "admin", "withdrawn=false").status_code == 200
    response = get(client, world, "admin", "withdrawn=-1.79e308")
    assert response.status_code == 400 and list(response.json()) == ["withdrawn"]


@pytest.mark.parametrize("query", ["limit=0", "limit=true", "limit=-5", "limit=100000"])
def test_bad_paging_parameters_are_a_400_naming_them(client, world, query):
    assert get(client, world, "admin", query).status_code == 400
    response = get(
        client, world, "admin", query.replace("limit=true", "offset=x"), "/api/v1/analyses"
    )
    assert response.status_code == 400


def test_an_address_under_the_api_that_is_no_endpoint_is_a_json_404(client, world):
    for path in ("/api/v1/incidents/0.5", "/api/v1/analyses/g%0A/cells.geojson", "/api/v1/x"):
        response = get(client, world, "admin", path=path)
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"


def test_an_unreadable_analysis_request_is_a_400_with_a_detail(client, world):
    client.force_login(world.users["mission_analyst"])
    response = client.post("/api/v1/analyses", "\x00", content_type="application/json")
    assert response.status_code == 400 and "detail" in response.json()


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "hotspots", "parameters": None},
        {"kind": "hotspots", "filter": {".": None}},
        {"kind": "hotspots", "filter": {"kind": [{}]}},
    ],
)
def test_an_analysis_request_with_a_malformed_filter_is_refused(client, world, body):
    client.force_login(world.users["mission_analyst"])
    response = client.post("/api/v1/analyses", body, content_type="application/json")
    assert response.status_code == 400
    assert not AnalysisRun.objects.exists()


def test_a_queued_run_shows_no_mission_and_no_duration_as_null(client, world):
    client.force_login(world.users["mission_analyst"])
    response = client.post(
        "/api/v1/analyses", {"kind": "hotspots"}, content_type="application/json"
    )
    assert response.status_code == 202
    assert response.json()["mission"] is None and response.json()["duration_seconds"] is None
    schema = client.get("/api/v1/schema?format=json").json()["components"]["schemas"]
    assert schema["AnalysisRun"]["properties"]["mission"]["nullable"] is True


# --- cursor pages and request rates ------------------------------------------------------


def test_cursor_pages_never_skip_or_repeat_while_records_change(client, world):
    seen, url = [], "/api/v1/incidents?limit=4"
    client.force_login(world.users["admin"])
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        # Editing records between pages moves nothing: the order is by id.
        for incident in Incident.objects.all():
            incident.save()
        url = body["next"]
    assert seen == sorted(seen) == sorted(incident.id for incident in world.records.values())


@pytest.mark.parametrize("cursor", ["bz1hYmM%3D", "cD0xJnI9eA%3D%3D"])
def test_a_tampered_cursor_names_no_page_404(client, world, cursor):
    response = get(client, world, "admin", f"cursor={cursor}")
    assert response.status_code == 404
    assert response.json() == {"detail": "Invalid cursor"}


def _over_the_rate(client, world, persona, settings, scope):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"agency": "2/minute", "user": "2/minute", scope: "2/minute"},
    }
    answers = [get(client, world, persona) for _ in range(3)]
    return answers


@pytest.mark.parametrize("persona", ["partner_agency", "mission_analyst"])
def test_over_the_rate_a_caller_gets_429_with_retry_after(client, world, settings, persona):
    answers = _over_the_rate(client, world, persona, settings, "agency")

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    throttled = answers[-1]
    assert 0 < int(throttled["Retry-After"]) <= 60
    assert "detail" in throttled.json()
    # Another key (another budget) is still served.
    other = "host_agency" if persona == "partner_agency" else "verifier"
    assert get(client, world, other).status_code == 200


# --- free text ----------------------------------------------------------------------------


def test_free_text_finds_narrative_actors_reference_and_any_weapons_serial_in_any_case(
    client, world
):
    from incidents.models import WeaponItem

    narrated, acted, referenced, armed, other = (
        world.records[name]
        for name in (
            "alpha_verified_L1",
            "alpha_verified_L3",
            "alpha_verified_L5",
            "bravo_verified_L4",
            "alpha_submitted_L1",
        )
    )
    Incident.objects.filter(pk=narrated.pk).update(narrative="Cache of Norinco rifles found")
    Incident.objects.filter(pk=acted.pk).update(actors="NORINCO dealers")
    Incident.objects.filter(pk=referenced.pk).update(external_reference="NOR-1")
    # Two weapons of one record with the serial: the record comes once.
    for _ in range(2):
        WeaponItem.objects.create(incident=armed, category="assault_rifle", serial_number="NoR-1")
    WeaponItem.objects.create(incident=other, category="assault_rifle", serial_number="NOR-12")

    found = get(client, world, "admin", "q=norinco")
    assert ids(found) == {narrated.pk, acted.pk}
    exact = get(client, world, "admin", "q=nor-1")
    assert ids(exact) == {referenced.pk, armed.pk}
    assert len(exact.json()["results"]) == 2
    # A reader still sees only what the policy grants: MONUSCO's analyst finds none of them.
    assert ids(get(client, world, "other_mission_analyst", "q=nor-1")) == set()

"""The map's data endpoints: counts per cell equal the records each reader may see, filters
and boxes narrow them, generalised readers never get exact coordinates, the counts the
database keeps follow every write, and bad parameters are refused naming the field."""

from datetime import UTC, datetime

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import connection

from geo.map import layers
from incidents.access import incident_visibility
from incidents.choices import Context, IncidentKind, WeaponCategory, WorkflowState
from incidents.derived.map_cells import (
    GRAIN_FULL,
    GRAIN_KIND_CONTEXT,
    GRAIN_MONTH,
    GRAIN_NONE,
    KEPT_UP_TO,
    MIN_LEVEL,
    IncidentMapCell,
)
from incidents.derived.merging import map_changes_merge
from incidents.models import Incident, WeaponItem
from organisations.choices import Releasability
from organisations.models import Mission
from tests.kept_counts import kept_equals_counted

WORLD_BOX = "-180,-90,180,90"
URL = "/map/incidents.geojson"


def layer(client, user, **params) -> dict:
    client.force_login(user)
    query = {"bbox": WORLD_BOX, "zoom": "4", **params}
    response = client.get(URL, query)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    return response.json()


def readable(user, **filters) -> int:
    return Incident.objects.visible_to(user).filter(withdrawn_at__isnull=True, **filters).count()


@pytest.mark.parametrize(
    "persona",
    ["admin", "reporter_alpha", "verifier", "mission_analyst", "regional_analyst"],
)
def test_cell_counts_add_up_to_the_records_the_reader_may_see(client, world, persona):
    user = world.users[persona]
    collection = layer(client, user)
    assert collection["mode"] == "cells"
    counts = [feature["properties"]["count"] for feature in collection["features"]]
    assert collection["total"] == sum(counts) == readable(user) > 0


def test_filters_change_the_counts_as_the_list_counts_them(client, world):
    admin = world.users["admin"]
    everything = layer(client, admin)["total"]
    world.records["charlie_verified_L5"].kind = IncidentKind.CACHE_DISCOVERY
    world.records["charlie_verified_L5"].save()

    caches = layer(client, admin, kind="cache_discovery")
    assert caches["total"] == 1 < everything
    public = layer(client, admin, releasability=str(Releasability.PUBLIC_AGGREGATES.value))
    assert public["total"] == readable(admin, releasability=Releasability.PUBLIC_AGGREGATES)
    monusco = layer(client, admin, mission="MONUSCO", state="verified")
    assert monusco["total"] == readable(admin, mission__acronym="MONUSCO", state="verified")
    assert layer(client, admin, region="test-cod")["total"] == readable(admin, country="COD")
    assert layer(client, admin, country="CAF", context="criminal")["total"] == 0


def test_a_time_window_on_month_boundaries_and_on_any_day_counts_alike(client, world):
    admin = world.users["admin"]
    # The records occurred on 14 March 2025: months are read from the kept counts, a
    # window of days from the incidents themselves; both give the database's count.
    months = layer(
        client,
        admin,
        occurred_after="2025-03-01T00:00:00Z",
        occurred_before="2025-03-31T23:59:59Z",
    )
    days = layer(
        client,
        admin,
        occurred_after="2025-03-14T00:00:00Z",
        occurred_before="2025-03-14T23:59:59Z",
    )
    assert months["total"] == days["total"] == readable(admin)
    assert layer(client, admin, occurred_after="2025-04-01T00:00:00Z")["total"] == 0


def test_a_category_counts_an_incident_once_however_many_weapons_match(client, world):
    admin = world.users["admin"]
    incident = world.records["charlie_verified_L5"]
    for serial in ("A1", "A2"):
        WeaponItem.objects.create(
            incident=incident, category=WeaponCategory.ASSAULT_RIFLE, serial_number=serial
        )
    assert layer(client, admin, category="assault_rifle")["total"] == 1
    assert layer(client, admin, category="assault_rifle", zoom="12")["total"] == 1


def test_the_box_limits_the_counts_to_the_view(client, world):
    admin = world.users["admin"]
    around_goma = layer(client, admin, bbox="28,-3,30,0", zoom="7")
    assert around_goma["total"] == readable(admin, country="COD") > 0
    assert layer(client, admin, bbox="0,40,10,50", zoom="7")["total"] == 0


def test_at_high_zoom_the_view_shows_the_incidents_themselves(client, world):
    admin = world.users["admin"]
    points = layer(client, admin, bbox="18,4,19,5", zoom="12")
    assert points["mode"] == "points"
    assert points["total"] == readable(admin, country="CAF")
    ids = {feature["id"] for feature in points["features"]}
    assert world.records["alpha_draft_L1"].pk in ids
    assert {tuple(feature["geometry"]["coordinates"]) for feature in points["features"]} == {
        (18.583713, 4.367141)
    }


def _coordinates(collection: dict) -> set[tuple[float, float]]:
    return {tuple(feature["geometry"]["coordinates"]) for feature in collection["features"]}


def test_a_regional_analyst_never_gets_exact_coordinates(client, world):
    analyst = world.users["regional_analyst"]
    for zoom in ("3", "6", "9", "12"):
        collection = layer(client, analyst, zoom=zoom)
        assert collection["total"] == readable(analyst) > 0
        for longitude, latitude in _coordinates(collection):
            # The generalised location: on the 0.25° grid, not Bangui's exact point.
            assert (longitude * 4, latitude * 4) == (round(longitude * 4), round(latitude * 4))
        if collection["mode"] == "points":
            assert not any(f["properties"]["exact"] for f in collection["features"])
    # A small box around the exact point finds nothing: the box tests the location shown.
    assert layer(client, analyst, bbox="18.55,4.35,18.6,4.4", zoom="12")["total"] == 0


def test_a_reader_sees_nothing_outside_its_access(client, world):
    monusco_analyst = world.users["other_mission_analyst"]
    collection = layer(client, monusco_analyst)
    assert collection["total"] == readable(monusco_analyst) == 2  # MONUSCO's verified
    assert all(lng > 28 for lng, _lat in _coordinates(collection))
    assert layer(client, monusco_analyst, mission="MINUSCA")["total"] == 0
    assert layer(client, world.users["nobody"])["total"] == 0
    assert client.get("/map/").status_code == 403
    client.logout()
    assert client.get(URL, {"bbox": WORLD_BOX, "zoom": "4"}).status_code == 302


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"zoom": "4"}, "bbox"),
        ({"zoom": "4", "bbox": "1,2,3"}, "bbox"),
        ({"zoom": "4", "bbox": "10,0,5,1"}, "bbox"),
        ({"zoom": "4", "bbox": "0,0,200,1"}, "bbox"),
        ({"bbox": WORLD_BOX}, "zoom"),
        ({"bbox": WORLD_BOX, "zoom": "21"}, "zoom"),
        ({"bbox": WORLD_BOX, "zoom": "x"}, "zoom"),
        ({"bbox": WORLD_BOX, "zoom": "4", "polygon": "POLYGON((1 1, 2 2))"}, "polygon"),
        ({"bbox": WORLD_BOX, "zoom": "4", "polygon": '{"type": "Polygon"'}, "polygon"),
        ({"bbox": WORLD_BOX, "zoom": "4", "occurred_after": "yesterday"}, "occurred_after"),
        (
            {
                "bbox": WORLD_BOX,
                "zoom": "4",
                "occurred_after": "2025-05-01T00:00:00Z",
                "occurred_before": "2025-01-01T00:00:00Z",
            },
            "occurred_before",
        ),
        ({"bbox": WORLD_BOX, "zoom": "4", "kind": "parade"}, "kind"),
    ],
)
def test_bad_parameters_are_refused_naming_the_field(client, world, params, field):
    client.force_login(world.users["admin"])
    response = client.get(URL, params)
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_a_drawn_polygon_keeps_the_incidents_inside_it(client, world):
    admin = world.users["admin"]
    around_bangui = "POLYGON((18 4, 19 4, 19 5, 18 5, 18 4))"
    assert layer(client, admin, polygon=around_bangui)["total"] == readable(admin, country="CAF")


def _kept_totals() -> dict[tuple, int]:
    map_changes_merge()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT level, generalised, grain, sum(incidents) FROM geo_incidentmapcell"
            " WHERE grain < 4 GROUP BY 1, 2, 3"  # the category grains: tests/test_map_categories.py
        )
        return {tuple(key): total for *key, total in cursor.fetchall()}


def test_the_kept_counts_follow_every_write(client, world):
    total = Incident.objects.filter(withdrawn_at__isnull=True).count()
    assert set(_kept_totals().values()) == {total}
    # Each grain is kept from MIN_LEVEL up to its finest level, as the reads expect.
    levels = {}
    for level, _, grain in _kept_totals():
        levels.setdefault(grain, set()).add(level)
    assert levels == {
        grain: set(range(MIN_LEVEL, KEPT_UP_TO[grain] + 1))
        for grain in (GRAIN_NONE, GRAIN_MONTH, GRAIN_KIND_CONTEXT, GRAIN_FULL)
    }

    moved = world.records["alpha_verified_L3"]
    moved.location = Point(16.0, 7.1, srid=4326)
    moved.save()
    withdrawn = world.records["bravo_verified_L4"]
    withdrawn.withdrawn_at = datetime(2026, 1, 1, tzinfo=UTC)
    withdrawn.save()
    world.records["charlie_draft_L5"].delete()
    Incident.objects.filter(pk=world.records["alpha_verified_L1"].pk).update(
        context=Context.CRIMINAL, state=WorkflowState.VERIFIED
    )
    assert set(_kept_totals().values()) == {total - 2}
    # Every grain: no filter, months, kinds and contexts, both.
    grains = [
        (GRAIN_NONE, {}),
        (GRAIN_MONTH, {"occurred_after": "2025-03-01T00:00:00Z"}),
        (GRAIN_KIND_CONTEXT, {"context": "criminal"}),
        (
            GRAIN_FULL,
            {"kind": "checkpoint_seizure", "occurred_before": "2025-03-31T23:59:59.999999Z"},
        ),
    ]
    for persona in ("admin", "mission_analyst", "regional_analyst", "reporter_bravo"):
        for zoom in (1, 4, 7, 10):
            for grain, filters in grains:
                kept_equals_counted(world.users[persona], zoom, grain, **filters)
    assert not IncidentMapCell.objects.filter(incidents__lt=0).exists()


@pytest.mark.parametrize(
    ("after", "before"),
    [
        # The records occurred on 14 March 2025.
        ("2025-02-10T08:00:00Z", "2025-04-20T17:00:00Z"),  # March kept, the edges empty
        ("2025-03-10T00:00:00Z", "2025-05-05T00:00:00Z"),  # the records in the first edge
        ("2025-01-01T00:00:00Z", "2025-03-20T00:00:00Z"),  # ... in the last edge
        ("2025-03-14T09:30:00Z", None),  # from the records' very moment, open-ended
        ("2025-03-14T11:30:00+02:00", None),  # ... the same moment in another time zone
        ("2025-03-14T11:30:01+02:00", None),  # ... a second after it
        (None, "2025-03-14T09:29:59Z"),  # until just before it
    ],
)
def test_a_window_of_days_reads_its_whole_months_kept_and_counts_its_edges(world, after, before):
    window = {
        name: value
        for name, value in (("occurred_after", after), ("occurred_before", before))
        if value
    }
    for persona in ("admin", "regional_analyst"):
        for zoom in (1, 4, 10):
            kept_equals_counted(world.users[persona], zoom, GRAIN_MONTH, **window)


def test_a_window_ending_at_a_months_last_second_leaves_out_its_fractions(world):
    late = world.records["alpha_verified_L3"]
    Incident.objects.filter(pk=late.pk).update(
        occurred_at=datetime(2025, 3, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    )
    for before in ("2025-03-31T23:59:59Z", "2025-03-31T23:59:59.999999Z"):
        for zoom in (1, 4, 10):
            kept_equals_counted(world.users["admin"], zoom, GRAIN_MONTH, occurred_before=before)


@pytest.mark.parametrize(
    ("after", "before"),
    [
        # The records occurred on 14 March 2025, 09:30 UTC.
        ("2025-03-10T00:00:00Z", "2025-03-20T00:00:00Z"),
        ("2025-03-14T09:30:00Z", "2025-03-14T09:30:00Z"),
        ("2025-02-20T00:00:00Z", "2025-03-14T09:29:59Z"),  # over two months, none whole
        ("2025-03-15T00:00:00Z", "2025-04-10T00:00:00Z"),
    ],
)
def test_a_window_within_a_month_is_counted_from_the_incidents(world, after, before):
    for persona in ("admin", "regional_analyst"):
        for zoom in (1, 4, 10):
            # No whole month: counted from the incidents, none from the kept counts.
            kept_equals_counted(
                world.users[persona], zoom, GRAIN_NONE, occurred_after=after, occurred_before=before
            )
    visibility = incident_visibility(world.users["admin"])
    filters = {
        "occurred_after": datetime(2025, 3, 10, tzinfo=UTC),
        "occurred_before": datetime(2025, 3, 20, tzinfo=UTC),
    }
    box = Polygon.from_bbox((-180, -90, 180, 90))
    # Without the incidents to count the days from: not answered.
    assert layers.kept_cells_query(filters, visibility, zoom=4, bbox=box) is None


def test_popup_facts_follow_the_access_policy(client, world):
    record = world.records["alpha_verified_L3"]
    client.force_login(world.users["regional_analyst"])
    facts = client.get(f"/map/incidents/{record.pk}.json").json()
    assert facts["location_is_exact"] is False
    assert (facts["longitude"], facts["latitude"]) == (18.5, 4.25)
    assert facts["url"] == f"/incidents/{record.pk}/"
    hidden = world.records["alpha_draft_L1"]
    assert client.get(f"/map/incidents/{hidden.pk}.json").status_code == 404
    client.force_login(world.users["mission_analyst"])
    facts = client.get(f"/map/incidents/{record.pk}.json").json()
    assert (facts["longitude"], facts["latitude"]) == (18.583713, 4.367141)


def test_mission_areas_are_those_the_reader_may_see(client, world):
    square = MultiPolygon(Polygon.from_bbox((15, 3, 20, 8)), srid=4326)
    Mission.objects.update(area_of_operations=square)
    client.force_login(world.users["mission_analyst"])
    missions = client.get("/map/missions.geojson", {"zoom": "6"}).json()
    assert [f["properties"]["acronym"] for f in missions["features"]] == ["MINUSCA"]
    client.force_login(world.users["admin"])
    missions = client.get("/map/missions.geojson", {"zoom": "6"}).json()
    assert {f["properties"]["acronym"] for f in missions["features"]} == {"MINUSCA", "MONUSCO"}
    assert client.get("/map/missions.geojson", {"zoom": "99"}).status_code == 400


def test_the_map_page_carries_no_inline_script(client, world):
    client.force_login(world.users["mission_analyst"])
    page = client.get("/map/", {"kind": "cache_discovery"}).content.decode()
    assert 'id="map-settings"' in page and "js/map/main.js" in page
    # Only the JSON settings block and external scripts.
    assert page.count("<script") == page.count("<script src=") + page.count(
        '<script type="module" src='
    ) + page.count('<script id="map-settings" type="application/json">')
    assert " onclick=" not in page and " onchange=" not in page

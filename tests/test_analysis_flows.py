"""Flows, origin → seizure: a hand-counted set of seizures in known countries, its rows by
country, region and period, flow lines, transit countries and what each reader sees."""

import gc
import importlib
from datetime import UTC, date, datetime

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import connection

from geo.analyses.errors import AnalysisError
from geo.analyses.flows import FlowParameters, analyse
from geo.analyses.source import no_progress
from geo.models import Country, Region
from incidents.choices import Context, IncidentKind, TraceStatus, WorkflowState
from incidents.models import Incident, TraceRequest, WeaponItem
from organisations.choices import Releasability
from tests.personas import build_world

BOXES = {
    "CAF": (15, 3, 25, 10),
    "COD": (15, -10, 30, 2),
    "SDN": (25, 10, 35, 20),
    "CHN": (100, 25, 110, 35),
}  # UGA has no boundary loaded: its flows cannot be drawn.


def seizure(contingent, country, when, location=(18.583713, 4.367141)) -> Incident:
    return Incident.objects.create(
        kind=IncidentKind.CHECKPOINT_SEIZURE,
        context=Context.ARMED_CONFLICT,
        occurred_at=when,
        location=Point(*location, srid=4326),
        country=country,
        mission=contingent.mission,
        contingent=contingent,
        state=WorkflowState.VERIFIED,
        releasability=Releasability.REGIONAL_ORGANISATION,
    )


def item(incident, category="assault_rifle", made_in="", quantity=1) -> WeaponItem:
    return WeaponItem.objects.create(
        incident=incident, category=category, country_of_manufacture=made_in, quantity=quantity
    )


def trace(weapon, *, established=True, country="", point=None, transit=(), answered=None):
    return TraceRequest.objects.create(
        weapon=weapon,
        addressee="a State",
        sent_on=date(2025, 1, 1),
        answered_on=answered,
        status=TraceStatus.ANSWERED if established else TraceStatus.CLOSED_UNTRACED,
        diversion_established=established,
        diversion_country=country,
        diversion_point=Point(*point, srid=4326) if point else None,
        transit_countries=list(transit),
    )


@pytest.fixture
def world(db):
    return flows_layout()


def flows_layout():
    """The personas' world with four hand-counted seizures (A to D) and their weapons."""
    world = build_world()
    for iso3, box in BOXES.items():
        Country.objects.create(
            iso3=iso3,
            name=iso3,
            boundary=MultiPolygon(Polygon.from_bbox(box), srid=4326),
            source="test",
        )
    Region.objects.create(code="eccas-t", name="ECCAS", member_countries=["CAF", "COD", "TCD"])
    Region.objects.create(
        code="au-t", name="AU", member_countries=["CAF", "COD", "SDN", "UGA", "TCD", "LBY"]
    )
    alpha = world.records["alpha_draft_L1"].contingent
    charlie = world.records["charlie_draft_L5"].contingent

    # A: Bangui, February 2024.
    a = seizure(alpha, "CAF", datetime(2024, 2, 10, 8, 0, tzinfo=UTC))
    a1 = item(a, made_in="RUS")
    trace(a1, country="SDN", point=(32.61, 15.49), transit=["TCD"], answered=date(2025, 2, 1))
    item(a, made_in="CHN", quantity=3)
    item(a, category="revolver_pistol", quantity=2)  # no origin at all
    # B: Bangui, November 2024 (the last hour of the 5th, UTC).
    b = seizure(alpha, "CAF", datetime(2024, 11, 5, 23, 30, tzinfo=UTC))
    b1 = item(b, made_in="RUS")
    # An older established trace (to LBY), one without an answer date (the oldest), the
    # latest established one (to SDN), and a newer trace that established nothing: only
    # the SDN answer counts.
    trace(b1, country="LBY", point=(20.0, 30.0), transit=["NER"], answered=date(2025, 1, 5))
    trace(b1, country="ETH", transit=["SSD"])
    trace(
        b1,
        country="SDN",
        point=(33.37, 16.58),
        transit=["TCD", "CMR"],
        answered=date(2025, 3, 1),
    )
    trace(b1, established=False, answered=date(2025, 4, 1))
    item(b, made_in="CAF")  # domestic
    # C: Goma (MONUSCO), January 2025.
    c = seizure(charlie, "COD", datetime(2025, 1, 15, tzinfo=UTC), (29.221837, -1.679113))
    item(c, category="smg", made_in="CHN", quantity=4)
    c2 = item(c, made_in="RUS")
    trace(c2, country="UGA", answered=date(2025, 5, 1))  # traced, no point, no boundary
    # D: no country derived.
    d = seizure(alpha, "", datetime(2025, 3, 1, tzinfo=UTC))
    item(d, made_in="CHN")
    world.records.update(a=a, b=b, c=c, d=d)
    return world


def flows(world, persona="admin", **parameters) -> dict:
    incidents = Incident.objects.visible_to(world.users[persona])
    return analyse(incidents, FlowParameters(**parameters), no_progress)


def row_tuples(result) -> set:
    assert result["columns"] == [
        "origin",
        "origin_source",
        "destination",
        "category",
        "period",
        "items",
        "records",
    ]
    return {tuple(row) for row in result["rows"]}


def pairs(rows) -> dict:
    return {(r["origin"], r["destination"]): (r["items"], r["records"]) for r in rows}


def test_rows_by_origin_destination_category_and_year_count_quantities_and_records(world):
    result = flows(world)

    assert row_tuples(result) == {
        ("CHN", "manufacture", "CAF", "assault_rifle", "2024-01-01", 3, 1),
        ("unknown", "unknown", "CAF", "revolver_pistol", "2024-01-01", 2, 1),
        ("SDN", "traced", "CAF", "assault_rifle", "2024-01-01", 2, 2),
        ("CAF", "manufacture", "CAF", "assault_rifle", "2024-01-01", 1, 1),
        ("CHN", "manufacture", "COD", "smg", "2025-01-01", 4, 1),
        ("UGA", "traced", "COD", "assault_rifle", "2025-01-01", 1, 1),
        ("CHN", "manufacture", "unknown", "assault_rifle", "2025-01-01", 1, 1),
    }
    assert result["totals"] == {
        "items": 14,
        "records": 8,
        "domestic_items": 1,
        "items_by_origin_source": {"traced": 3, "manufacture": 9, "unknown": 2},
    }
    # The most items first.
    items = [row[5] for row in result["rows"]]
    assert items == sorted(items, reverse=True) and items[0] == 4


@pytest.mark.parametrize(
    ("period", "sdn_periods"),
    [
        ("month", {("2024-02-01", 1, 1), ("2024-11-01", 1, 1)}),
        ("quarter", {("2024-01-01", 1, 1), ("2024-10-01", 1, 1)}),
        ("year", {("2024-01-01", 2, 2)}),
        ("all", {(None, 2, 2)}),
    ],
)
def test_periods_bucket_by_the_start_of_the_incidents_period_in_utc(world, period, sdn_periods):
    result = flows(world, period=period)

    assert {
        (period, items, records)
        for origin, *_, period, items, records in row_tuples(result)
        if origin == "SDN"
    } == sdn_periods
    assert sum(row[5] for row in result["rows"]) == 14


def test_the_country_matrix_sums_categories_and_periods(world):
    matrix = flows(world, period="month")["matrix"]

    assert pairs(matrix) == {
        ("CHN", "CAF"): (3, 1),
        ("unknown", "CAF"): (2, 1),
        ("SDN", "CAF"): (2, 2),
        ("CAF", "CAF"): (1, 1),
        ("CHN", "COD"): (4, 1),
        ("UGA", "COD"): (1, 1),
        ("CHN", "unknown"): (1, 1),
    }
    assert {(r["origin"], r["destination"]): r["traced_items"] for r in matrix}[("SDN", "CAF")] == 2
    assert matrix[0]["items"] == 4  # largest flow first


def test_regions_default_to_every_region_smallest_first(world):
    regions = flows(world)["regions"]

    assert regions["order"] == ["test-caf", "test-cod", "eccas-t", "au-t"]
    assert regions["countries"] == {
        "CAF": "test-caf",
        "COD": "test-cod",
        "SDN": "au-t",
        "UGA": "au-t",
        "CHN": "other",
        "unknown": "unknown",
    }
    assert pairs(regions["matrix"]) == {
        ("other", "test-caf"): (3, 1),
        ("unknown", "test-caf"): (2, 1),
        ("au-t", "test-caf"): (2, 2),
        ("test-caf", "test-caf"): (1, 1),
        ("other", "test-cod"): (4, 1),
        ("au-t", "test-cod"): (1, 1),
        ("other", "unknown"): (1, 1),
    }


def test_listed_regions_take_a_country_in_the_order_given(world):
    result = flows(world, region_codes=["au-t", "eccas-t"])

    assert result["regions"]["order"] == ["au-t", "eccas-t"]
    assert set(result["regions"]["countries"].values()) == {"au-t", "other", "unknown"}
    assert pairs(result["regions"]["matrix"]) == {
        ("other", "au-t"): (7, 2),
        ("unknown", "au-t"): (2, 1),
        ("au-t", "au-t"): (4, 4),
        ("other", "unknown"): (1, 1),
    }
    assert result["parameters"]["region_codes"] == ["au-t", "eccas-t"]


def test_lines_join_known_countries_across_borders_only(world):
    result = flows(world)
    lines = {(line["origin"], line["destination"]): line for line in result["lines"]}

    # CAF→CAF is domestic, unknown→CAF and CHN→unknown have an unknown end, UGA has no
    # boundary.
    assert set(lines) == {("CHN", "CAF"), ("SDN", "CAF"), ("CHN", "COD")}
    assert [(r["origin"], r["destination"], r["items"]) for r in result["not_drawn"]] == [
        ("UGA", "COD", 1)
    ]
    for (origin, destination), line in lines.items():
        assert line["geometry"]["type"] == "LineString"
        start, end = line["geometry"]["coordinates"]
        west, south, east, north = BOXES[destination]
        assert west < end[0] < east and south < end[1] < north
        if origin == "CHN":
            west, south, east, north = BOXES["CHN"]
            assert west < start[0] < east and south < start[1] < north
            assert line["starts_at"] == "boundary"
    # SDN's traced items start at the mean of their points of diversion.
    assert lines[("SDN", "CAF")]["starts_at"] == "diversion_points"
    assert lines[("SDN", "CAF")]["geometry"]["coordinates"][0] == pytest.approx([32.99, 16.035])
    assert lines[("CHN", "COD")]["items"] == 4


def test_transit_countries_come_from_the_latest_established_trace(world):
    transit = flows(world)["transit"]

    assert transit == [
        {"origin": "SDN", "destination": "CAF", "countries": {"CMR": 1, "TCD": 2}},
    ]


def test_mission_analysts_get_flows_only_of_their_missions_records(world):
    minusca = flows(world, persona="mission_analyst")
    monusco = flows(world, persona="other_mission_analyst")

    assert pairs(minusca["matrix"]) == {
        ("CHN", "CAF"): (3, 1),
        ("unknown", "CAF"): (2, 1),
        ("SDN", "CAF"): (2, 2),
        ("CAF", "CAF"): (1, 1),
        ("CHN", "unknown"): (1, 1),
    }
    assert pairs(monusco["matrix"]) == {("CHN", "COD"): (4, 1), ("UGA", "COD"): (1, 1)}
    assert monusco["transit"] == []
    assert monusco["totals"]["items"] == 5


def test_a_reader_of_generalised_locations_gets_generalised_points_of_diversion(world):
    result = flows(world, persona="regional_analyst")

    # Only the CAF seizures released to regional organisations: A and B.
    assert {row[2] for row in result["rows"]} == {"CAF"}
    assert result["totals"]["items"] == 8
    (sdn,) = [line for line in result["lines"] if line["origin"] == "SDN"]
    # (32.61, 15.49) and (33.37, 16.58) snapped to the 0.25° grid first.
    assert sdn["geometry"]["coordinates"][0] == pytest.approx([32.875, 16.0])


def test_a_reader_who_sees_no_weapon_gets_an_error_not_empty_flows(world):
    with pytest.raises(AnalysisError, match="No weapon items"):
        flows(world, persona="nobody")
    # The cycle collector, paused while rows are made, runs again.
    assert gc.isenabled()
    # MONUSCO's analyst sees its verified records: C, and two without weapons.
    assert flows(world, persona="other_mission_analyst")["totals"]["records"] == 2
    Incident.objects.filter(pk=world.records["c"].pk).update(state=WorkflowState.DRAFT)
    with pytest.raises(AnalysisError, match="No weapon items"):
        flows(world, persona="other_mission_analyst")


def test_bad_parameters_are_refused_naming_the_parameter(world):
    with pytest.raises(AnalysisError, match=r"region_codes: .* nowhere"):
        flows(world, region_codes=["au-t", "nowhere"])
    with pytest.raises(ValueError, match="period"):
        FlowParameters(period="week")


def test_a_trace_answer_records_transit_countries_and_names_the_field_of_a_bad_code(client, world):
    weapon = world.records["a"].weapons.get(country_of_manufacture="CHN")
    answered = trace(weapon, established=False)
    url = f"/incidents/{weapon.incident_id}/traces/{answered.pk}/answer"
    client.force_login(world.users["verifier"])

    refused = client.post(
        url,
        {
            "answered_on": "2025-06-01",
            "diversion_established": "on",
            "diversion_country": "SDN",
            "transit_countries": "TCD, XYZ",
        },
        follow=True,
    )
    assert "transit countries: XYZ is not an ISO 3166-1 alpha-3" in refused.content.decode()
    answered.refresh_from_db()
    assert (answered.diversion_established, answered.transit_countries) == (False, [])

    client.post(
        url,
        {
            "answered_on": "2025-06-01",
            "diversion_established": "on",
            "diversion_country": "SDN",
            "transit_countries": " tcd,cmr , TCD",
        },
    )
    answered.refresh_from_db()
    assert (answered.diversion_country, answered.transit_countries) == ("SDN", ["TCD", "CMR"])


# --- the items' precomputed flow columns, kept by the database's triggers ---------------

FLOW_COLUMNS = importlib.import_module("incidents.migrations.0008_weapon_flow_columns")
ORIGIN_ROUTE = importlib.import_module("incidents.migrations.0012_weapon_origin_route")


def columns(weapon) -> tuple:
    """What the database holds for `weapon` (never an instance's stale copy)."""
    return WeaponItem.objects.filter(pk=weapon.pk).values_list(
        "seized_in", "seized_at", "origin_country", "origin_source", "origin_trace"
    )[0]


def assert_columns_match_a_computation_from_scratch():
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT item.id FROM ({FLOW_COLUMNS.DERIVED_SQL}) AS derived
            JOIN incidents_weaponitem AS item USING (id)
            WHERE (derived.seized_in, derived.seized_at, derived.origin_country,
                   derived.origin_source, derived.origin_trace_id)
                IS DISTINCT FROM (item.seized_in, item.seized_at, item.origin_country,
                                  item.origin_source, item.origin_trace_id)
            """
        )
        assert cursor.fetchall() == []
        cursor.execute(
            f"""
            SELECT item.id FROM ({ORIGIN_ROUTE.ROUTE_SQL}) AS derived
            JOIN incidents_weaponitem AS item USING (id)
            WHERE (derived.origin_point, derived.origin_transit)
                IS DISTINCT FROM (item.origin_point, item.origin_transit)
            """
        )
        assert cursor.fetchall() == []
        cursor.execute("SELECT count(*) FROM incidents_weaponitem")
        assert cursor.fetchone()[0] > 0


def test_each_item_holds_its_seizure_and_origin_as_its_records_say(world):
    a, b, c, d = (world.records[key] for key in "abcd")
    a1 = a.weapons.get(country_of_manufacture="RUS")
    b1 = b.weapons.get(country_of_manufacture="RUS")
    sdn = b1.trace_requests.get(diversion_country="SDN")

    assert columns(a1) == ("CAF", a.occurred_at, "SDN", "traced", a1.trace_requests.get().pk)
    assert columns(b1) == ("CAF", b.occurred_at, "SDN", "traced", sdn.pk)
    assert columns(a.weapons.get(country_of_manufacture="CHN")) == (
        "CAF",
        a.occurred_at,
        "CHN",
        "manufacture",
        None,
    )
    assert columns(a.weapons.get(country_of_manufacture="")) == (
        "CAF",
        a.occurred_at,
        "",
        "unknown",
        None,
    )
    assert columns(d.weapons.get()) == ("", d.occurred_at, "CHN", "manufacture", None)
    assert columns(c.weapons.get(category="smg"))[:2] == ("COD", c.occurred_at)
    assert_columns_match_a_computation_from_scratch()


def test_items_follow_their_incidents_country_and_date(world):
    a = world.records["a"]
    a.country = "COD"
    a.occurred_at = datetime(2023, 12, 31, 23, 0, tzinfo=UTC)
    a.save()

    assert {columns(weapon)[:2] for weapon in a.weapons.all()} == {("COD", a.occurred_at)}
    # The flows count them at once where and when they now were seized.
    assert ("CHN", "manufacture", "COD", "assault_rifle", "2023-01-01", 3, 1) in row_tuples(
        flows(world)
    )
    # A queryset update, and raw SQL, as much as a form.
    Incident.objects.filter(pk=a.pk).update(country="")
    assert {columns(weapon)[0] for weapon in a.weapons.all()} == {""}
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_incident SET country = 'SDN', occurred_at = %s WHERE id = %s",
            [datetime(2025, 7, 1, tzinfo=UTC), a.pk],
        )
    assert {columns(weapon)[:2] for weapon in a.weapons.all()} == {
        ("SDN", datetime(2025, 7, 1, tzinfo=UTC))
    }
    assert_columns_match_a_computation_from_scratch()


def test_an_items_origin_follows_its_traces_answered_changed_and_deleted(world):
    weapon = world.records["a"].weapons.get(country_of_manufacture="CHN")
    assert columns(weapon)[2:] == ("CHN", "manufacture", None)

    # Sent, not answered yet: still its country of manufacture.
    sent = trace(weapon, established=False)
    assert columns(weapon)[2:] == ("CHN", "manufacture", None)
    # Answered with a country of diversion: traced there.
    sent.diversion_established = True
    sent.diversion_country = "LBY"
    sent.answered_on = date(2025, 6, 1)
    sent.status = TraceStatus.ANSWERED
    sent.save()
    assert columns(weapon)[2:] == ("LBY", "traced", sent.pk)
    # An answer dated later takes over; one without a date counts as the oldest.
    later = trace(weapon, country="SDN", answered=date(2025, 7, 1))
    trace(weapon, country="ETH")
    assert columns(weapon)[2:] == ("SDN", "traced", later.pk)
    # The later answer corrected: it established nothing after all.
    TraceRequest.objects.filter(pk=later.pk).update(diversion_established=False)
    assert columns(weapon)[2:] == ("LBY", "traced", sent.pk)
    # Traces deleted through the ORM, then by raw SQL: back to the country of manufacture.
    sent.delete()
    undated = weapon.trace_requests.get(diversion_country="ETH")
    assert columns(weapon)[2:] == ("ETH", "traced", undated.pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_tracerequest WHERE weapon_id = %s", [weapon.pk])
        # No item is left pointing to a deleted trace.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert columns(weapon)[2:] == ("CHN", "manufacture", None)
    assert_columns_match_a_computation_from_scratch()


def route(weapon) -> tuple:
    """The route the database copied onto `weapon` from its origin trace."""
    point, transit = WeaponItem.objects.filter(pk=weapon.pk).values_list(
        "origin_point", "origin_transit"
    )[0]
    return (point.coords if point else None), transit


def test_an_items_route_follows_its_origin_trace_when_the_answer_is_corrected(world):
    a1 = world.records["a"].weapons.get(country_of_manufacture="RUS")
    answer = a1.trace_requests.get()
    assert route(a1) == ((32.61, 15.49), ["TCD"])

    # The point of diversion moved and the transit countries corrected, by a queryset update.
    TraceRequest.objects.filter(pk=answer.pk).update(
        diversion_point=Point(30.0, 12.0, srid=4326), transit_countries=["CMR", "TCD"]
    )
    assert route(a1) == ((30.0, 12.0), ["CMR", "TCD"])
    transit = {(r["origin"], r["destination"]): r["countries"] for r in flows(world)["transit"]}
    assert transit[("SDN", "CAF")] == {"CMR": 2, "TCD": 2}
    # The route cleared: no point and no transit country left on the item (null, not empty).
    TraceRequest.objects.filter(pk=answer.pk).update(diversion_point=None, transit_countries=[])
    assert route(a1) == (None, None)
    # The answer withdrawn: the item is no longer traced and carries no route.
    answer.diversion_established = False
    answer.save()
    assert columns(a1)[3] == "manufacture" and route(a1) == (None, None)
    assert_columns_match_a_computation_from_scratch()


def test_a_newer_answer_without_a_route_takes_the_route_away(world):
    b1 = world.records["b"].weapons.get(country_of_manufacture="RUS")
    assert route(b1) == ((33.37, 16.58), ["TCD", "CMR"])

    newer = trace(b1, country="SDN", answered=date(2025, 8, 1))
    assert columns(b1)[2:] == ("SDN", "traced", newer.pk)
    assert route(b1) == (None, None)
    # SDN's line now starts from a1's point alone, and b1 crossed no country on record.
    lines = {(line["origin"], line["destination"]): line for line in flows(world)["lines"]}
    assert lines[("SDN", "CAF")]["geometry"]["coordinates"][0] == pytest.approx([32.61, 15.49])
    assert flows(world)["transit"] == [
        {"origin": "SDN", "destination": "CAF", "countries": {"TCD": 1}},
    ]
    assert_columns_match_a_computation_from_scratch()


def test_a_trace_filed_against_the_wrong_weapon_moves_its_route_with_it(world):
    a = world.records["a"]
    a1 = a.weapons.get(country_of_manufacture="RUS")
    chinese = a.weapons.get(country_of_manufacture="CHN")
    answer = a1.trace_requests.get()

    TraceRequest.objects.filter(pk=answer.pk).update(weapon=chinese)
    assert columns(a1)[2:] == ("RUS", "manufacture", None) and route(a1) == (None, None)
    assert columns(chinese)[2:] == ("SDN", "traced", answer.pk)
    assert route(chinese) == ((32.61, 15.49), ["TCD"])
    # Three items of that record now crossed Chad.
    transit = {(r["origin"], r["destination"]): r["countries"] for r in flows(world)["transit"]}
    assert transit[("SDN", "CAF")] == {"CMR": 1, "TCD": 4}
    assert_columns_match_a_computation_from_scratch()


def test_an_items_origin_follows_its_country_of_manufacture_unless_traced(world):
    a = world.records["a"]
    unknown = a.weapons.get(country_of_manufacture="")
    unknown.country_of_manufacture = "BEL"
    unknown.save()
    assert columns(unknown)[2:] == ("BEL", "manufacture", None)
    WeaponItem.objects.filter(pk=unknown.pk).update(country_of_manufacture="")
    assert columns(unknown)[2:] == ("", "unknown", None)

    traced = a.weapons.get(country_of_manufacture="RUS")
    traced.country_of_manufacture = "BGR"
    traced.save()
    assert columns(traced)[2:4] == ("SDN", "traced")
    # Whatever is written to the derived columns themselves, they stay derived.
    WeaponItem.objects.filter(pk=traced.pk).update(origin_country="XXX", seized_in="YYY")
    assert columns(traced)[:4] == ("CAF", a.occurred_at, "SDN", "traced")
    assert_columns_match_a_computation_from_scratch()


def test_items_and_traces_inserted_in_bulk_by_raw_sql_get_their_columns(world):
    c = world.records["c"]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO incidents_weaponitem (
                incident_id, category, make, model, calibre, serial_number, markings_altered,
                country_of_manufacture, quantity, factory_markings, import_markings,
                other_markings, condition, disposition)
            SELECT %s, 'assault_rifle', '', '', '', 'BULK-' || n, false,
                   CASE WHEN n %% 2 = 0 THEN 'CHN' ELSE '' END, 1, '', '', '', 'unknown', 'held'
            FROM generate_series(1, 50) AS n
            """,
            [c.pk],
        )
        cursor.execute(
            """
            INSERT INTO incidents_tracerequest (
                weapon_id, addressee, sent_on, answered_on, status, diversion_established,
                diversion_country, last_legal_end_user, transit_countries)
            SELECT id, 'a State', date '2025-01-01', date '2025-02-01', 'answered', true,
                   'SSD', '', '{}'
            FROM incidents_weaponitem WHERE serial_number IN ('BULK-1', 'BULK-2')
            """
        )
    bulk = WeaponItem.objects.filter(serial_number__startswith="BULK-")

    assert {columns(weapon)[:2] for weapon in bulk} == {("COD", c.occurred_at)}
    assert sorted(
        (w.serial_number, *columns(w)[2:4])
        for w in bulk.filter(serial_number__in=["BULK-1", "BULK-2", "BULK-3", "BULK-4"])
    ) == [
        ("BULK-1", "SSD", "traced"),
        ("BULK-2", "SSD", "traced"),
        ("BULK-3", "", "unknown"),
        ("BULK-4", "CHN", "manufacture"),
    ]
    result = flows(world, persona="other_mission_analyst")
    assert pairs(result["matrix"])[("SSD", "COD")] == (2, 2)
    assert result["totals"]["records"] == 52
    assert_columns_match_a_computation_from_scratch()

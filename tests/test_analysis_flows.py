"""Flows as three facts: where made, illicit origins established, routes. A hand-counted set
of seizures in known countries (traced origins, origins established otherwise, craft items,
chained traces, a documented route), its rows by country, region and period, the lines drawn
and not drawn, and what each reader sees."""

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
from incidents.choices import (
    Context,
    IncidentKind,
    ManufactureMode,
    OriginKind,
    OriginMethod,
    Recovery,
    TraceStatus,
    WorkflowState,
)
from incidents.models import Incident, TraceRequest, WeaponItem
from incidents.origins import IllicitOrigin
from organisations.choices import Releasability
from tests.personas import build_world

BOXES = {
    "CAF": (15, 3, 25, 10),
    "COD": (15, -10, 30, 2),
    "SDN": (25, 10, 35, 20),
    "CHN": (100, 25, 110, 35),
    "TCD": (14, 10, 24, 23),
}  # UGA and CMR have no boundary loaded: what goes through them cannot be drawn.


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


def item(incident, category="assault_rifle", made_in="", quantity=1, **fields) -> WeaponItem:
    return WeaponItem.objects.create(
        incident=incident,
        category=category,
        country_of_manufacture=made_in,
        quantity=quantity,
        **fields,
    )


def established(weapon, method, kind, country="", point=None, trace=None) -> IllicitOrigin:
    return IllicitOrigin.objects.create(
        weapon=weapon,
        method=method,
        kind=kind,
        diversion_country=country,
        diversion_point=Point(*point, srid=4326) if point else None,
        trace=trace,
        established_by="a competent authority",
        established_on=date(2025, 9, 1),
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
    # E: Bangui, June 2025, with a documented route from Sudan through Chad. Two craft
    # shotguns a competent authority found illicitly made in CAF, and a Belgian rifle an
    # investigation found diverted from Chad's State stocks: origins without a trace.
    e = seizure(alpha, "CAF", datetime(2025, 6, 20, tzinfo=UTC))
    e.route_departure_country, e.route_transit_countries = "SDN", ["TCD"]
    e.save()
    craft = item(e, category="shotgun", quantity=2, manufacture_mode=ManufactureMode.CRAFT)
    established(craft, OriginMethod.AUTHORITY_FINDING, OriginKind.ILLICIT_MANUFACTURE, "CAF")
    belgian = item(e, made_in="BEL")
    established(belgian, OriginMethod.INVESTIGATION, OriginKind.STATE_STOCKS, "TCD")
    # And a machine gun only observed in the sellers' hands: it came under nobody's control,
    # so it counts nowhere, though an origin was recorded for it.
    seen = item(e, category="lmg", made_in="FRA", quantity=5, recovery=Recovery.OBSERVED)
    established(seen, OriginMethod.AUTHORITY_FINDING, OriginKind.STATE_STOCKS, "SDN")
    world.records.update(a=a, b=b, c=c, d=d, e=e)
    return world


def flows(flows_world, persona="admin", **parameters) -> dict:
    incidents = Incident.objects.visible_to(flows_world.users[persona])
    return analyse(incidents, FlowParameters(**parameters), no_progress)


def made_rows(result) -> set:
    assert result["made"]["columns"] == [
        "made_in",
        "destination",
        "category",
        "period",
        "items",
        "records",
    ]
    return {tuple(row) for row in result["made"]["rows"]}


def origin_rows(result) -> set:
    assert result["origins"]["columns"] == [
        "origin",
        "kind",
        "method",
        "destination",
        "category",
        "period",
        "items",
        "records",
    ]
    return {tuple(row) for row in result["origins"]["rows"]}


def pairs(rows, start="origin") -> dict:
    return {(r[start], r["destination"]): (r["items"], r["records"]) for r in rows}


def drawn(result, shows) -> dict:
    return {
        (line["origin"], *line.get("transit", []), line["destination"]): line
        for line in result["lines"]
        if line["shows"] == shows
    }


def test_where_made_counts_every_item_by_its_country_of_manufacture(flows_world):
    result = flows(flows_world)

    assert made_rows(result) == {
        ("RUS", "CAF", "assault_rifle", "2024-01-01", 2, 2),
        ("CHN", "CAF", "assault_rifle", "2024-01-01", 3, 1),
        ("unknown", "CAF", "revolver_pistol", "2024-01-01", 2, 1),
        ("CAF", "CAF", "assault_rifle", "2024-01-01", 1, 1),
        ("CHN", "COD", "smg", "2025-01-01", 4, 1),
        ("RUS", "COD", "assault_rifle", "2025-01-01", 1, 1),
        ("CHN", "unknown", "assault_rifle", "2025-01-01", 1, 1),
        ("unknown", "CAF", "shotgun", "2025-01-01", 2, 1),
        ("BEL", "CAF", "assault_rifle", "2025-01-01", 1, 1),
    }
    # The most items first.
    items = [row[4] for row in result["made"]["rows"]]
    assert items == sorted(items, reverse=True) and items[0] == 4
    assert pairs(result["made"]["matrix"], "made_in")[("CHN", "CAF")] == (3, 1)
    # Manufacture is no movement: nothing is drawn from where a weapon was made.
    assert ("CHN", "CAF") not in drawn(result, "origin")
    assert {line["shows"] for line in result["lines"]} == {"origin", "route"}


def test_illicit_origins_established_by_trace_or_otherwise_by_kind_and_method(flows_world):
    result = flows(flows_world)

    assert origin_rows(result) == {
        # a1's single answer and b1's latest established one (not LBY, ETH, nor the newer
        # answer that established nothing).
        ("SDN", "not_recorded", "trace", "CAF", "assault_rifle", "2024-01-01", 2, 2),
        ("UGA", "not_recorded", "trace", "COD", "assault_rifle", "2025-01-01", 1, 1),
        ("CAF", "illicit_manufacture", "authority", "CAF", "shotgun", "2025-01-01", 2, 1),
        ("TCD", "state_stocks", "investigation", "CAF", "assault_rifle", "2025-01-01", 1, 1),
    }
    matrix = {(r["origin"], r["destination"]): r for r in result["origins"]["matrix"]}
    assert matrix[("CAF", "CAF")]["items_by_kind"] == {"illicit_manufacture": 2}
    assert matrix[("SDN", "CAF")]["items_by_kind"] == {"not_recorded": 2}
    assert result["totals"] == {
        "items": 17,
        "records": 10,
        "made_known_items": 13,
        "established_items": 6,
        "established_records": 5,
        "established_domestic_items": 2,
        "established_by_method": {"authority": 2, "investigation": 1, "trace": 3},
        "established_by_kind": {"illicit_manufacture": 2, "not_recorded": 3, "state_stocks": 1},
        "documented_routes": 1,
        "traced_routes_items": 2,
    }


@pytest.mark.parametrize(
    ("period", "sdn_periods"),
    [
        ("month", {("2024-02-01", 1, 1), ("2024-11-01", 1, 1)}),
        ("quarter", {("2024-01-01", 1, 1), ("2024-10-01", 1, 1)}),
        ("year", {("2024-01-01", 2, 2)}),
        ("all", {(None, 2, 2)}),
    ],
)
def test_periods_bucket_by_the_start_of_the_incidents_period_in_utc(
    flows_world, period, sdn_periods
):
    result = flows(flows_world, period=period)

    assert {
        (period, items, records)
        for origin, *_, period, items, records in origin_rows(result)
        if origin == "SDN"
    } == sdn_periods
    assert {
        (period, items, records)
        for made_in, destination, category, period, items, records in made_rows(result)
        if (made_in, destination, category) == ("RUS", "CAF", "assault_rifle")
    } == sdn_periods
    assert sum(row[4] for row in result["made"]["rows"]) == 17


def test_regions_default_to_every_region_smallest_first(flows_world):
    regions = flows(flows_world)["origins"]["regions"]

    assert regions["order"] == ["test-caf", "test-cod", "eccas-t", "au-t"]
    assert regions["countries"] == {
        "CAF": "test-caf",
        "COD": "test-cod",
        "SDN": "au-t",
        "UGA": "au-t",
        "TCD": "eccas-t",
    }
    assert pairs(regions["matrix"]) == {
        ("au-t", "test-caf"): (2, 2),
        ("au-t", "test-cod"): (1, 1),
        ("test-caf", "test-caf"): (2, 1),
        ("eccas-t", "test-caf"): (1, 1),
    }


def test_listed_regions_take_a_country_in_the_order_given(flows_world):
    result = flows(flows_world, region_codes=["au-t", "eccas-t"])

    regions = result["origins"]["regions"]
    assert regions["order"] == ["au-t", "eccas-t"]
    assert set(regions["countries"].values()) == {"au-t"}
    assert pairs(regions["matrix"]) == {("au-t", "au-t"): (6, 5)}
    assert result["parameters"]["region_codes"] == ["au-t", "eccas-t"]


def test_origin_lines_join_known_countries_across_borders_only(flows_world):
    result = flows(flows_world)
    lines = drawn(result, "origin")

    # CAF→CAF is domestic, UGA has no boundary.
    assert set(lines) == {("SDN", "CAF"), ("TCD", "CAF")}
    assert [
        (r["origin"], r["destination"], r["items"])
        for r in result["not_drawn"]
        if r["shows"] == "origin"
    ] == [("UGA", "COD", 1)]
    for (_origin, destination), line in lines.items():
        assert line["geometry"]["type"] == "LineString"
        start, end = line["geometry"]["coordinates"]
        west, south, east, north = BOXES[destination]
        assert west < end[0] < east and south < end[1] < north
    # Chad's origin has no point of diversion: its line starts inside its boundary.
    west, south, east, north = BOXES["TCD"]
    start = lines[("TCD", "CAF")]["geometry"]["coordinates"][0]
    assert west < start[0] < east and south < start[1] < north
    assert lines[("TCD", "CAF")]["starts_at"] == "boundary"
    # SDN's traced items start at the mean of their points of diversion.
    assert lines[("SDN", "CAF")]["starts_at"] == "diversion_points"
    assert lines[("SDN", "CAF")]["geometry"]["coordinates"][0] == pytest.approx([32.99, 16.035])


def test_routes_documented_on_incidents_and_answered_by_traces(flows_world):
    result = flows(flows_world)

    assert {
        (r["source"], r["departure"], tuple(r["transit"]), r["destination"]): (
            r["items"],
            r["incidents"],
        )
        for r in result["routes"]
    } == {
        ("documented", "SDN", ("TCD",), "CAF"): (3, 1),
        ("trace", "SDN", ("TCD",), "CAF"): (1, 1),
        ("trace", "SDN", ("TCD", "CMR"), "CAF"): (1, 1),
    }
    routes = drawn(result, "route")
    # The documented route and a1's trace go through Chad, drawn stop by stop; b1's crosses
    # Cameroon, which has no boundary loaded.
    assert set(routes) == {("SDN", "TCD", "CAF")}
    assert {line["source"] for line in result["lines"] if line["shows"] == "route"} == {
        "documented",
        "trace",
    }
    for line in result["lines"]:
        if line["shows"] == "route":
            stops = line["geometry"]["coordinates"]
            assert len(stops) == 3
            for stop, country in zip(stops, ("SDN", "TCD", "CAF"), strict=True):
                west, south, east, north = BOXES[country]
                assert west < stop[0] < east and south < stop[1] < north
    (cmr,) = [r for r in result["not_drawn"] if r["shows"] == "route"]
    assert (cmr["transit"], cmr["reason"]) == (["TCD", "CMR"], "no boundary loaded")


def test_a_route_with_an_unknown_departure_is_listed_and_not_drawn(flows_world):
    e = flows_world.records["e"]
    e.route_departure_country = ""
    e.save()

    result = flows(flows_world)
    (documented,) = [r for r in result["routes"] if r["source"] == "documented"]
    assert (documented["departure"], documented["transit"]) == ("unknown", ["TCD"])
    assert [r["reason"] for r in result["not_drawn"] if r.get("source") == "documented"] == [
        "an end of the route is unknown"
    ]


def test_mission_analysts_get_flows_only_of_their_missions_records(flows_world):
    minusca = flows(flows_world, persona="mission_analyst")
    monusco = flows(flows_world, persona="other_mission_analyst")

    assert pairs(minusca["origins"]["matrix"]) == {
        ("SDN", "CAF"): (2, 2),
        ("CAF", "CAF"): (2, 1),
        ("TCD", "CAF"): (1, 1),
    }
    assert pairs(monusco["origins"]["matrix"]) == {("UGA", "COD"): (1, 1)}
    assert pairs(monusco["made"]["matrix"], "made_in") == {
        ("CHN", "COD"): (4, 1),
        ("RUS", "COD"): (1, 1),
    }
    assert monusco["routes"] == []
    assert monusco["totals"]["items"] == 5


def test_a_reader_of_generalised_locations_gets_generalised_points_of_diversion(flows_world):
    result = flows(flows_world, persona="regional_analyst")

    # Only the CAF seizures released to regional organisations: A, B and E.
    assert {row[1] for row in result["made"]["rows"]} == {"CAF"}
    assert result["totals"]["items"] == 11
    sdn = drawn(result, "origin")[("SDN", "CAF")]
    # (32.61, 15.49) and (33.37, 16.58) snapped to the 0.25° grid first.
    assert sdn["geometry"]["coordinates"][0] == pytest.approx([32.875, 16.0])


def test_a_reader_who_sees_no_weapon_gets_an_error_not_empty_flows(flows_world):
    with pytest.raises(AnalysisError, match="No weapon items"):
        flows(flows_world, persona="nobody")
    # The cycle collector, paused while rows are made, runs again.
    assert gc.isenabled()
    # MONUSCO's analyst sees its verified records: C, and two without weapons.
    assert flows(flows_world, persona="other_mission_analyst")["totals"]["records"] == 2
    Incident.objects.filter(pk=flows_world.records["c"].pk).update(state=WorkflowState.DRAFT)
    with pytest.raises(AnalysisError, match="No weapon items"):
        flows(flows_world, persona="other_mission_analyst")


def test_bad_parameters_are_refused_naming_the_parameter(flows_world):
    with pytest.raises(AnalysisError, match=r"region_codes: .* nowhere"):
        flows(flows_world, region_codes=["au-t", "nowhere"])
    with pytest.raises(ValueError, match="period"):
        FlowParameters(period="week")


def test_a_trace_answer_records_transit_countries_and_names_the_field_of_a_bad_code(
    client, flows_world
):
    weapon = flows_world.records["a"].weapons.get(country_of_manufacture="CHN")
    answered = trace(weapon, established=False)
    url = f"/incidents/{weapon.incident_id}/traces/{answered.pk}/answer"
    client.force_login(flows_world.users["verifier"])

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
ESTABLISHED = importlib.import_module("incidents.migrations.0031_established_origins")


def columns(weapon) -> tuple:
    """What the database holds for `weapon` (never an instance's stale copy)."""
    return WeaponItem.objects.filter(pk=weapon.pk).values_list(
        "seized_in", "seized_at", "origin_country", "origin_source", "origin_trace"
    )[0]


def assert_columns_match_a_computation_from_scratch():
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT item.id FROM ({FLOW_COLUMNS.DERIVED_SQL}) AS seized
            JOIN ({ESTABLISHED.ORIGIN_SQL}) AS origin USING (id)
            JOIN incidents_weaponitem AS item USING (id)
            WHERE (seized.seized_in, seized.seized_at, origin.origin_country,
                   origin.origin_source, origin.origin_kind, origin.origin_trace_id,
                   origin.origin_point, origin.origin_transit)
                IS DISTINCT FROM (item.seized_in, item.seized_at, item.origin_country,
                                  item.origin_source, item.origin_kind, item.origin_trace_id,
                                  item.origin_point, item.origin_transit)
            """
        )
        assert cursor.fetchall() == []
        cursor.execute("SELECT count(*) FROM incidents_weaponitem")
        assert cursor.fetchone()[0] > 0


def test_each_item_holds_its_seizure_and_origin_as_its_records_say(flows_world):
    a, b, c, d = (flows_world.records[key] for key in "abcd")
    a1 = a.weapons.get(country_of_manufacture="RUS")
    b1 = b.weapons.get(country_of_manufacture="RUS")
    sdn = b1.trace_requests.get(diversion_country="SDN")

    assert columns(a1) == ("CAF", a.occurred_at, "SDN", "trace", a1.trace_requests.get().pk)
    assert columns(b1) == ("CAF", b.occurred_at, "SDN", "trace", sdn.pk)
    # Made in China, no origin established: no origin at all.
    assert columns(a.weapons.get(country_of_manufacture="CHN")) == (
        "CAF",
        a.occurred_at,
        "",
        "",
        None,
    )
    assert columns(d.weapons.get()) == ("", d.occurred_at, "", "", None)
    assert columns(c.weapons.get(category="smg"))[:2] == ("COD", c.occurred_at)
    assert_columns_match_a_computation_from_scratch()


def test_items_follow_their_incidents_country_and_date(flows_world):
    a = flows_world.records["a"]
    a.country = "COD"
    a.occurred_at = datetime(2023, 12, 31, 23, 0, tzinfo=UTC)
    a.save()

    assert {columns(weapon)[:2] for weapon in a.weapons.all()} == {("COD", a.occurred_at)}
    # The flows count them at once where and when they now were seized.
    assert ("CHN", "COD", "assault_rifle", "2023-01-01", 3, 1) in made_rows(flows(flows_world))
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


def test_an_items_origin_follows_its_traces_answered_changed_and_deleted(flows_world):
    weapon = flows_world.records["a"].weapons.get(country_of_manufacture="CHN")
    assert columns(weapon)[2:] == ("", "", None)

    # Sent, not answered yet: no origin yet.
    sent = trace(weapon, established=False)
    assert columns(weapon)[2:] == ("", "", None)
    # Answered with a country of diversion: traced there.
    sent.diversion_established = True
    sent.diversion_country = "LBY"
    sent.answered_on = date(2025, 6, 1)
    sent.status = TraceStatus.ANSWERED
    sent.save()
    assert columns(weapon)[2:] == ("LBY", "trace", sent.pk)
    # An answer dated later takes over; one without a date counts as the oldest.
    later = trace(weapon, country="SDN", answered=date(2025, 7, 1))
    trace(weapon, country="ETH")
    assert columns(weapon)[2:] == ("SDN", "trace", later.pk)
    # The later answer corrected: it established nothing after all.
    TraceRequest.objects.filter(pk=later.pk).update(diversion_established=False)
    assert columns(weapon)[2:] == ("LBY", "trace", sent.pk)
    # Traces deleted through the ORM, then by raw SQL: no origin established any more.
    sent.delete()
    undated = weapon.trace_requests.get(diversion_country="ETH")
    assert columns(weapon)[2:] == ("ETH", "trace", undated.pk)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_tracerequest WHERE weapon_id = %s", [weapon.pk])
        # No item is left pointing to a deleted trace.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    assert columns(weapon)[2:] == ("", "", None)
    assert_columns_match_a_computation_from_scratch()


def route(weapon) -> tuple:
    """The route the database copied onto `weapon` from its origin trace."""
    point, transit = WeaponItem.objects.filter(pk=weapon.pk).values_list(
        "origin_point", "origin_transit"
    )[0]
    return (point.coords if point else None), transit


def traced_routes(flows_world) -> dict:
    """Items by traced route (departure, transit countries..., destination)."""
    return {
        (r["departure"], *r["transit"], r["destination"]): r["items"]
        for r in flows(flows_world)["routes"]
        if r["source"] == "trace"
    }


def test_an_items_route_follows_its_origin_trace_when_the_answer_is_corrected(flows_world):
    a1 = flows_world.records["a"].weapons.get(country_of_manufacture="RUS")
    answer = a1.trace_requests.get()
    assert route(a1) == ((32.61, 15.49), ["TCD"])

    # The point of diversion moved and the transit countries corrected, by a queryset update.
    TraceRequest.objects.filter(pk=answer.pk).update(
        diversion_point=Point(30.0, 12.0, srid=4326), transit_countries=["CMR", "TCD"]
    )
    assert route(a1) == ((30.0, 12.0), ["CMR", "TCD"])
    assert traced_routes(flows_world) == {
        ("SDN", "CMR", "TCD", "CAF"): 1,
        ("SDN", "TCD", "CMR", "CAF"): 1,
    }
    # The route cleared: no point and no transit country left on the item (null, not empty).
    TraceRequest.objects.filter(pk=answer.pk).update(diversion_point=None, transit_countries=[])
    assert route(a1) == (None, None)
    # The answer withdrawn: the item is no longer traced and carries no route.
    answer.diversion_established = False
    answer.save()
    assert columns(a1)[3] == "" and route(a1) == (None, None)
    assert_columns_match_a_computation_from_scratch()


def test_a_newer_answer_without_a_route_takes_the_route_away(flows_world):
    b1 = flows_world.records["b"].weapons.get(country_of_manufacture="RUS")
    assert route(b1) == ((33.37, 16.58), ["TCD", "CMR"])

    newer = trace(b1, country="SDN", answered=date(2025, 8, 1))
    assert columns(b1)[2:] == ("SDN", "trace", newer.pk)
    assert route(b1) == (None, None)
    # SDN's line now starts from a1's point alone, and b1 crossed no country on record.
    lines = drawn(flows(flows_world), "origin")
    assert lines[("SDN", "CAF")]["geometry"]["coordinates"][0] == pytest.approx([32.61, 15.49])
    assert traced_routes(flows_world) == {("SDN", "TCD", "CAF"): 1}
    assert_columns_match_a_computation_from_scratch()


def test_a_trace_filed_against_the_wrong_weapon_moves_its_route_with_it(flows_world):
    a = flows_world.records["a"]
    a1 = a.weapons.get(country_of_manufacture="RUS")
    chinese = a.weapons.get(country_of_manufacture="CHN")
    answer = a1.trace_requests.get()

    TraceRequest.objects.filter(pk=answer.pk).update(weapon=chinese)
    assert columns(a1)[2:] == ("", "", None) and route(a1) == (None, None)
    assert columns(chinese)[2:] == ("SDN", "trace", answer.pk)
    assert route(chinese) == ((32.61, 15.49), ["TCD"])
    # Three items of that record now crossed Chad.
    assert traced_routes(flows_world) == {("SDN", "TCD", "CAF"): 3, ("SDN", "TCD", "CMR", "CAF"): 1}
    assert_columns_match_a_computation_from_scratch()


def test_an_items_origin_record_wins_over_its_traces_and_follows_every_change(flows_world):
    a = flows_world.records["a"]
    a1 = a.weapons.get(country_of_manufacture="RUS")
    answer = a1.trace_requests.get()
    assert columns(a1)[2:] == ("SDN", "trace", answer.pk)

    # A competent authority's finding recorded: its country and kind, no trace, no route.
    finding = established(
        a1, OriginMethod.AUTHORITY_FINDING, OriginKind.CIVILIAN_HOLDINGS, "LBY", (20.0, 30.0)
    )
    assert columns(a1)[2:] == ("LBY", "authority", None)
    assert route(a1) == ((20.0, 30.0), None)
    # The record names the trace that established it, without a country of its own: the
    # trace's country, point and route.
    finding.method, finding.trace, finding.diversion_country = OriginMethod.TRACE, answer, ""
    finding.diversion_point = None
    finding.save()
    assert columns(a1)[2:] == ("SDN", "trace", answer.pk)
    assert route(a1) == ((32.61, 15.49), ["TCD"])
    assert WeaponItem.objects.get(pk=a1.pk).origin_kind == OriginKind.CIVILIAN_HOLDINGS
    # Changed by a queryset update, then removed by raw SQL: the trace's answer again.
    IllicitOrigin.objects.filter(pk=finding.pk).update(kind=OriginKind.ILLICIT_IMPORT)
    assert WeaponItem.objects.get(pk=a1.pk).origin_kind == OriginKind.ILLICIT_IMPORT
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_illicitorigin WHERE id = %s", [finding.pk])
    assert columns(a1)[2:] == ("SDN", "trace", answer.pk)
    assert WeaponItem.objects.get(pk=a1.pk).origin_kind == "not_recorded"
    assert_columns_match_a_computation_from_scratch()


def test_a_country_of_manufacture_moves_where_made_and_never_the_origin(flows_world):
    a = flows_world.records["a"]
    unknown = a.weapons.get(country_of_manufacture="")
    unknown.country_of_manufacture = "BEL"
    unknown.save()
    assert columns(unknown)[2:] == ("", "", None)
    assert ("BEL", "CAF", "revolver_pistol", "2024-01-01", 2, 1) in made_rows(flows(flows_world))

    traced = a.weapons.get(country_of_manufacture="RUS")
    traced.country_of_manufacture = "BGR"
    traced.save()
    assert columns(traced)[2:4] == ("SDN", "trace")
    # Whatever is written to the derived columns themselves, they stay derived.
    WeaponItem.objects.filter(pk=traced.pk).update(
        origin_country="XXX", origin_kind="made_up", seized_in="YYY"
    )
    assert columns(traced)[:4] == ("CAF", a.occurred_at, "SDN", "trace")
    assert_columns_match_a_computation_from_scratch()


def test_items_and_traces_inserted_in_bulk_by_raw_sql_get_their_columns(flows_world):
    c = flows_world.records["c"]
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
        ("BULK-1", "SSD", "trace"),
        ("BULK-2", "SSD", "trace"),
        ("BULK-3", "", ""),
        ("BULK-4", "", ""),
    ]
    result = flows(flows_world, persona="other_mission_analyst")
    assert pairs(result["origins"]["matrix"])[("SSD", "COD")] == (2, 2)
    assert pairs(result["made"]["matrix"], "made_in")[("CHN", "COD")] == (29, 26)
    assert result["totals"]["records"] == 52
    assert_columns_match_a_computation_from_scratch()

"""Places near borders (geo/core/borders.py): a border test set made here, as a mission meets it.

Three made-up countries around a river boundary: the host country CAF west of a river at
18.6° E (between 2° and 6° N), the DR Congo east of it, Chad north of 6° N, and the sea
south of 2° N. Points on both banks, near the land border and off the coast take the
mission's host country and are flagged; points beyond the tolerance keep the country that
covers them; a stated country that contradicts the point beyond the tolerance is refused.
The same answers come from the form's and the API's path (incidents_assign_geography) and
from the bulk import."""

from datetime import UTC, datetime

import pytest
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.db import connection

from geo.core.borders import COUNTRY_EDGES, border_tolerance_m, country_near
from geo.models import Country
from incidents.choices import Context, IncidentKind
from incidents.models import Incident
from incidents.services import incidents_assign_geography
from tests.test_import import csv_file, run_import

KM = 1 / 111.32  # degrees of latitude in a kilometre (near the equator, close enough here)
RIVER = 18.6
COUNTRIES = {
    "CAF": (14.0, 2.0, RIVER, 6.0),
    "COD": (RIVER, 2.0, 22.0, 6.0),
    "TCD": (14.0, 6.0, 22.0, 11.0),
}

# (name, longitude, latitude, country for MINUSCA (host CAF), flagged near a border)
BORDER_SET = [
    ("560 m across the river, in the DR Congo", RIVER + 0.56 * KM, 4.36, "CAF", True),
    ("560 m on the host's bank", RIVER - 0.56 * KM, 4.36, "CAF", True),
    ("4.5 km across the river", RIVER + 4.5 * KM, 4.0, "CAF", True),
    ("20 km across the river", RIVER + 20 * KM, 4.0, "COD", False),
    ("2 km into Chad, near the land border", 16.0, 6.0 + 2 * KM, "CAF", True),
    ("30 km into Chad", 16.0, 6.0 + 30 * KM, "TCD", False),
    ("1 km off the host's coast", 16.0, 2.0 - 1 * KM, "CAF", True),
    ("1 km off the DR Congo's coast", 20.0, 2.0 - 1 * KM, "COD", True),
    ("100 km out at sea", 16.0, 2.0 - 100 * KM, "", False),
    ("deep inside the host", 16.0, 4.0, "CAF", False),
]


@pytest.fixture(autouse=True)
def boxed_countries(world):
    for iso3, box in COUNTRIES.items():
        Country.objects.create(
            iso3=iso3,
            name=iso3,
            boundary=MultiPolygon(Polygon.from_bbox(box), srid=4326),
            source="test",
        )
    with connection.cursor() as cursor:
        # As countries_load derives them: the parts for point tests, the edges for cells.
        cursor.execute(
            "INSERT INTO geo_countrypart (country_id, part)"
            " SELECT iso3, ST_Subdivide(boundary, 64) FROM geo_country"
        )
        cursor.execute(COUNTRY_EDGES)


@pytest.mark.parametrize(("name", "longitude", "latitude", "country", "flagged"), BORDER_SET)
def test_the_form_and_the_api_place_points_near_borders_in_the_host_country(
    world, name, longitude, latitude, country, flagged
):
    contingent = world.users["reporter_alpha"].memberships.get().contingent  # MINUSCA: CAF
    incident = Incident.objects.create(
        kind=IncidentKind.CACHE_DISCOVERY,
        context=Context.CRIMINAL,
        occurred_at=datetime(2025, 6, 1, tzinfo=UTC),
        location=Point(longitude, latitude, srid=4326),
        mission=contingent.mission,
        contingent=contingent,
    )
    incidents_assign_geography(incident_ids=[incident.pk])
    incident.refresh_from_db()
    assert (incident.country, incident.near_border) == (country, flagged), name


@pytest.mark.parametrize(("name", "longitude", "latitude", "country", "flagged"), BORDER_SET)
def test_the_import_places_points_near_borders_as_the_form_does(
    world, name, longitude, latitude, country, flagged
):
    # Confirmed: points outside the host country are doubted (tested below), not the subject.
    header = ["external_reference", "occurred_at", "latitude", "longitude", "kind", "context"]
    header.append("location_confirmed")
    row = ["B-1", "2025-06-01", f"{latitude:.6f}", f"{longitude:.6f}"]
    row += ["cache_discovery", "criminal", "yes"]
    report = run_import(world, csv_file([row], header))
    assert report.ok, report.as_dict()
    incident = Incident.objects.get(external_reference="B-1")
    assert (incident.country, incident.near_border) == (country, flagged), name


def test_another_missions_host_country_wins_on_its_own_bank_side(world):
    # MONUSCA's host is the DR Congo: the same point on the CAF bank is the DR Congo's.
    assert country_near(longitude=RIVER - 0.56 * KM, latitude=4.36, host_countries=["COD"])[:2] == (
        "COD",
        True,
    )
    # A mission hosted by neither keeps the boundary's answer, flagged.
    assert country_near(longitude=RIVER - 0.56 * KM, latitude=4.36, host_countries=["SSD"])[:2] == (
        "CAF",
        True,
    )


@pytest.mark.parametrize(
    ("longitude", "latitude", "stated", "accepted"),
    [
        (RIVER + 0.56 * KM, 4.36, "COD", True),  # the author knows the bank: taken as stated
        (RIVER + 0.56 * KM, 4.36, "CAF", True),
        (RIVER + 20 * KM, 4.0, "CAF", False),  # 20 km into the DR Congo
        (16.0, 4.0, "COD", False),  # deep inside CAF
        (16.0, 4.0, "CAF", True),
    ],
)
def test_a_stated_country_is_checked_against_the_point(
    world, longitude, latitude, stated, accepted
):
    header = ["external_reference", "occurred_at", "latitude", "longitude", "country", "kind"]
    header.append("context")
    row = ["S-1", "2025-06-01", f"{latitude:.6f}", f"{longitude:.6f}", stated]
    row += ["cache_discovery", "criminal"]
    report = run_import(world, csv_file([row], header))
    if accepted:
        assert report.ok, report.as_dict()
        assert Incident.objects.get(external_reference="S-1").country == stated
    else:
        assert not report.ok
        [problem] = report.problems
        assert (problem.row, problem.column) == (2, "country")
        assert f"{stated} is more than 5 km from the point, which lies in" in problem.message
        assert not Incident.objects.filter(external_reference="S-1").exists()


# (name, longitude, latitude, why the import doubts it)
IMPLAUSIBLE = [
    ("0, 0", 0.0, 0.0, "the point is 0, 0"),
    ("latitude and longitude swapped", 4.4, 18.55, "are they swapped?"),
    ("in Paris", 2.35, 48.85, "in no country, outside the mission's host countries (CAF)"),
    ("20 km into the DR Congo", RIVER + 20 * KM, 4.0, "in COD, outside the mission's host"),
]
CLEAN = ["D-0", "2025-06-01", "4.000000", "16.000000", "cache_discovery", "criminal"]


@pytest.mark.parametrize(("name", "longitude", "latitude", "why"), IMPLAUSIBLE)
def test_an_implausible_point_is_refused_by_row_until_a_person_confirms_it(
    world, name, longitude, latitude, why
):
    header = ["external_reference", "occurred_at", "latitude", "longitude", "kind", "context"]
    row = ["D-1", "2025-06-01", f"{latitude:.6f}", f"{longitude:.6f}", "cache_discovery"]
    row.append("criminal")
    refused = run_import(world, csv_file([CLEAN, row], header))
    assert not refused.ok and not Incident.objects.filter(external_reference="D-1").exists()
    [problem] = refused.problems
    assert (problem.row, problem.column) == (3, "latitude"), name
    assert why in problem.message and "location_confirmed" in problem.message, problem.message

    confirmed = run_import(
        world, csv_file([[*CLEAN, "no"], [*row, "yes"]], [*header, "location_confirmed"])
    )
    assert confirmed.ok, confirmed.as_dict()
    assert Incident.objects.filter(external_reference="D-1").exists()


def test_a_point_outside_the_missions_area_of_operations_is_doubted(world):
    mission = world.users["reporter_alpha"].memberships.get().contingent.mission
    mission.area_of_operations = MultiPolygon(Polygon.from_bbox((15, 3, 17, 5)), srid=4326)
    mission.save()
    header = ["external_reference", "occurred_at", "latitude", "longitude", "kind", "context"]
    inside = ["A-1", "2025-06-01", "4.000000", "16.000000", "cache_discovery", "criminal"]
    outside = ["A-2", "2025-06-01", "4.000000", "18.000000", "cache_discovery", "criminal"]
    report = run_import(world, csv_file([inside, outside], header))
    [problem] = report.problems
    assert problem.row == 3
    assert "outside the mission's area of operations" in problem.message


@pytest.mark.parametrize(
    ("coordinates", "why"),
    [
        ("0, 0", "the point is 0, 0"),
        ("18.55, 4.4", "are they swapped?"),  # Bangui typed longitude first: Niger
        ("48.85, 2.35", "outside the mission's host countries (CAF)"),
    ],
)
def test_the_form_doubts_an_implausible_point_until_the_reporter_confirms_it(
    client, world, coordinates, why
):
    from tests.test_records_pages import entry_data

    client.force_login(world.users["reporter_alpha"])
    narrative = f"Doubted at {coordinates}."
    doubted = client.post(
        "/incidents/new", entry_data(world, coordinates=coordinates, narrative=narrative)
    )
    assert doubted.status_code == 200  # the form again, with the reason
    assert why in doubted.content.decode().replace("&#x27;", "'")
    assert not Incident.objects.filter(narrative=narrative).exists()

    confirmed = client.post(
        "/incidents/new",
        entry_data(world, coordinates=coordinates, narrative=narrative, location_confirmed="on"),
    )
    assert confirmed.status_code == 302
    assert Incident.objects.filter(narrative=narrative).exists()


def test_the_form_takes_a_plausible_point_without_a_confirmation(client, world):
    from tests.test_records_pages import entry_data

    client.force_login(world.users["reporter_alpha"])
    response = client.post("/incidents/new", entry_data(world, coordinates="4.0, 16.0"))
    assert response.status_code == 302


def test_the_api_doubts_an_implausible_point_until_the_caller_confirms_it(client, world):
    from incidents.models import Incident as Record
    from tests.test_api_writes import body, post

    swapped = body(world, coordinates="18.55, 4.4", narrative="Swapped by the client.")
    refused = post(client, world, "reporter_alpha", swapped, key="doubt-1")
    assert refused.status_code == 400
    assert "are they swapped?" in refused.json()["location_confirmed"][0]
    assert not Record.objects.filter(narrative="Swapped by the client.").exists()

    confirmed = post(
        client, world, "reporter_alpha", {**swapped, "location_confirmed": True}, key="doubt-2"
    )
    assert confirmed.status_code == 201, confirmed.content
    assert Record.objects.filter(narrative="Swapped by the client.").exists()


# geo_country_near as geo 0015 first wrote it: distances to whole parts cast to geography.
# The reference that the pieces of boundary (geo 0022) must answer exactly as.
WHOLE_PARTS_REFERENCE = """
CREATE FUNCTION pg_temp.country_near_by_whole_parts(
    point geometry, hosts text[], tolerance_m float8
) RETURNS TABLE (country text, near_border boolean, candidates text[])
LANGUAGE sql STABLE AS $$
    WITH near AS (
        SELECT part.country_id AS country, ST_Covers(part.part, point) AS covers,
               ST_Distance(part.part::geography, point::geography) AS metres
        FROM geo_countrypart AS part
        WHERE part.part && ST_Expand(point,
                  tolerance_m / 111320.0 / greatest(cos(radians(ST_Y(point))), 0.01),
                  tolerance_m / 110574.0)
          AND ST_DWithin(part.part::geography, point::geography, tolerance_m)
    ), candidate AS (
        SELECT country, bool_or(covers) AS covers, min(metres) AS metres
        FROM near GROUP BY country
    )
    SELECT COALESCE(
               (SELECT c.country FROM candidate AS c WHERE c.country = ANY(hosts)
                ORDER BY c.covers DESC, c.metres, c.country LIMIT 1),
               (SELECT c.country FROM candidate AS c WHERE c.covers
                ORDER BY c.country LIMIT 1),
               (SELECT c.country FROM candidate AS c ORDER BY c.metres, c.country LIMIT 1),
               ''),
           (SELECT count(*) > 1 OR (count(*) = 1 AND NOT bool_or(covers)) FROM candidate),
           ARRAY(SELECT c.country FROM candidate AS c ORDER BY c.country)
$$
"""
# Squares of 41 × 41 points 440 m apart, centred where the answers change: where three
# countries meet, on the coast, the middle of a long straight border (where a straight line
# on the map and the shortest line on the globe lie furthest apart), and a jagged border.
GRID_CENTRES = [(RIVER, 6.0), (RIVER, 2.0), (16.3, 6.0), (22.0, 4.0), (22.0, 2.0)]
GRID = """
SELECT centre.x + i * 0.004 AS longitude, centre.y + j * 0.004 AS latitude,
       ST_SetSRID(ST_MakePoint(centre.x + i * 0.004, centre.y + j * 0.004), 4326) AS point
FROM unnest(%(xs)s::float8[], %(ys)s::float8[]) AS centre(x, y),
     generate_series(-20, 20) AS i, generate_series(-20, 20) AS j
"""


@pytest.fixture
def jagged_border(boxed_countries):
    """South Sudan east of the DR Congo along a saw-toothed line of 200 teeth that runs
    into the DR Congo and out of it (land in both, and in neither), cut into many parts
    and pieces; and the reference function."""
    teeth = [(22.0 + (0.03 if n % 2 else -0.01), 2.0 + n * 0.02) for n in range(201)]
    Country.objects.create(
        iso3="SSD",
        name="SSD",
        boundary=MultiPolygon(Polygon([*teeth, (26.0, 6.0), (26.0, 2.0), teeth[0]]), srid=4326),
        source="test",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "DELETE FROM geo_countrypart; INSERT INTO geo_countrypart (country_id, part)"
            " SELECT iso3, ST_Subdivide(boundary, 64) FROM geo_country"
        )
        cursor.execute(COUNTRY_EDGES)
        cursor.execute(WHOLE_PARTS_REFERENCE)
        cursor.execute("SELECT count(*) FROM geo_countryedge WHERE country_id = 'SSD'")
        assert cursor.fetchone()[0] > 20  # the jagged line is many pieces


CONFIRMED_CACHE = ["cache_discovery", "criminal", "yes"]


def grid_parameters(**more):
    xs, ys = zip(*GRID_CENTRES, strict=True)
    return {"xs": list(xs), "ys": list(ys), "tolerance": border_tolerance_m(), **more}


# Every country a host: wherever there are several candidates, distances decide.
@pytest.mark.parametrize(
    "hosts",
    [["CAF"], ["COD"], ["SSD"], ["COD", "SSD"], ["TCD", "CAF"], [], ["CAF", "COD", "SSD", "TCD"]],
)
def test_country_near_places_a_grid_over_borders_exactly_as_whole_parts_did(jagged_border, hosts):
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT grid.longitude, grid.latitude, placed.*, reference.*
            FROM ({GRID}) AS grid,
                 geo_country_near(grid.point, %(hosts)s, %(tolerance)s) AS placed,
                 pg_temp.country_near_by_whole_parts(grid.point, %(hosts)s, %(tolerance)s)
                     AS reference
            """,
            grid_parameters(hosts=hosts),
        )
        answers = cursor.fetchall()
    assert len(answers) == len(GRID_CENTRES) * 41 * 41
    differ = [row for row in answers if row[2:5] != row[5:8]]
    assert differ == [], differ[:5]
    # The grid holds every kind of answer: flagged and not, several candidates, none.
    outcomes = {(bool(row[2]), row[3], len(row[4])) for row in answers}
    assert {(True, False, 1), (True, True, 2), (True, True, 1), (False, False, 0)} <= outcomes
    assert any(len(row[4]) == 3 for row in answers)


def test_the_import_places_a_grid_over_borders_exactly_as_whole_parts_did(world, jagged_border):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT longitude, latitude FROM ({GRID}) AS grid", grid_parameters())
        points = cursor.fetchall()
    header = ["external_reference", "occurred_at", "latitude", "longitude", "kind", "context"]
    header.append("location_confirmed")
    rows = [
        [f"G-{n}", "2025-06-01", f"{latitude:.6f}", f"{longitude:.6f}", *CONFIRMED_CACHE]
        for n, (longitude, latitude) in enumerate(points)
    ]
    report = run_import(world, csv_file(rows, header))
    assert report.ok, report.as_dict()
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT incident.external_reference, incident.country, incident.near_border,
                   reference.country, reference.near_border
            FROM incidents_incident AS incident,
                 pg_temp.country_near_by_whole_parts(incident.location, %s, %s) AS reference
            WHERE incident.external_reference LIKE 'G-%%'
            """,
            [["CAF"], border_tolerance_m()],
        )
        placed = cursor.fetchall()
    assert len(placed) == len(points)
    differ = [row for row in placed if row[1:3] != row[3:5]]
    assert differ == [], differ[:5]

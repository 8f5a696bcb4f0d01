"""Point-in-polygon assignment on real Natural Earth boundaries, regions, user boundary
files with broken geometries, and incidents that learn their country and nearest place."""

import json
import subprocess
from datetime import UTC, datetime

import pytest
from django.contrib.gis.geos import GEOSGeometry, Point
from django.db import connection

from geo.core.boundaries import BoundaryFileError, admin_areas_load, countries_load
from geo.core.places import countries_at, locate, search_name
from geo.core.regions import regions_load
from geo.models import AdminArea, Country, Place, Region
from incidents.models import Incident
from incidents.services import incidents_assign_geography
from organisations.models import Contingent, Mission

BANGUI = Point(18.558, 4.394, srid=4326)
GULF_OF_GUINEA = Point(0.0, 0.0, srid=4326)


@pytest.fixture
def countries(db):
    report = countries_load(scale="110m")
    regions_load()
    return report


def test_a_point_in_bangui_is_in_the_central_african_republic_and_in_eccas(countries):
    location = locate(BANGUI)

    assert location.country == "CAF"
    assert location.note == ""
    assert {"eccas", "au"} <= {region["code"] for region in location.regions}
    assert "ecowas" not in {region["code"] for region in location.regions}


def test_a_point_in_the_sea_has_no_country_and_says_so(countries):
    location = locate(GULF_OF_GUINEA)

    assert location.country is None
    assert location.regions == []
    assert "outside every country boundary" in location.note


def test_a_point_on_a_border_belongs_to_both_countries_and_says_so(countries):
    with connection.cursor() as cursor:
        # A vertex that the two boundaries share (world-atlas keeps a topology).
        cursor.execute("""
            SELECT ST_AsEWKB(ST_PointN(ST_GeometryN(ST_LineMerge(ST_CollectionExtract(
                ST_Intersection(a.boundary, b.boundary), 2)), 1), 2))
            FROM geo_country a, geo_country b WHERE a.iso3 = 'CAF' AND b.iso3 = 'CMR'
        """)
        shared_vertex = GEOSGeometry(memoryview(bytes(cursor.fetchone()[0])))

    location = locate(shared_vertex)

    assert location.countries == ["CAF", "CMR"]
    assert location.country == "CAF"
    assert "border of CAF, CMR" in location.note


@pytest.mark.parametrize(
    ("longitude", "latitude", "country"),
    [
        (178.0, 66.5, "RUS"),
        (-175.0, 66.5, "RUS"),
        (179.9, 67.0, "RUS"),
        (-179.9, 67.0, "RUS"),
        (-150.0, 64.0, "USA"),
    ],
)
def test_countries_across_the_antimeridian_cover_both_sides(
    countries, longitude, latitude, country
):
    assert countries_at(Point(longitude, latitude, srid=4326)) == [country]


def test_loading_reports_its_repairs_and_what_it_skipped(countries):
    assert "RUS: crosses the antimeridian; split at 180°" in countries.repaired
    assert any(line.startswith("Kosovo") for line in countries.skipped)
    assert Country.objects.get(iso3="CAF").source.startswith("Natural Earth 1:110m via world-atlas")
    # Stored under the UN M49 English name, not pycountry's ("Congo, The Democratic ...").
    assert Country.objects.get(iso3="COD").name == "Democratic Republic of the Congo"
    assert not Country.objects.exclude(source=Country.objects.first().source).exists()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM geo_country WHERE NOT ST_IsValid(boundary)")
        assert cursor.fetchone()[0] == 0


def test_regions_name_their_source_and_members(countries):
    eccas = Region.objects.get(code="eccas")
    assert "CAF" in eccas.member_countries
    assert eccas.source.startswith("https://")
    assert eccas.members_as_of is not None
    assert (
        Region.objects.filter(
            code__in=[
                "au",
                "ecowas",
                "sadc",
                "eac",
                "igad",
                "comesa",
                "censad",
                "amu",
                "caricom",
                "sica",
                "asean",
                "eu",
                "oas",
                "arab-league",
            ]
        ).count()
        == 14
    )


# --- admin areas from a user's file ---------------------------------------------------


def _square(west, south, size=0.5):
    return [
        [
            [west, south],
            [west + size, south],
            [west + size, south + size],
            [west, south + size],
            [west, south],
        ]
    ]


def _write_geojson(path, features):
    path.write_text(
        json.dumps(
            {
                "type": "FeatureCollection",
                "features": [
                    {"type": "Feature", "properties": properties, "geometry": geometry}
                    for properties, geometry in features
                ],
            }
        )
    )
    return path


def _user_file(tmp_path):
    bowtie = [[[18.0, 4.5], [18.5, 5.0], [18.5, 4.5], [18.0, 5.0], [18.0, 4.5]]]
    return _write_geojson(
        tmp_path / "caf_adm1.geojson",
        [
            (
                {"shapeName": "Bangui", "shapeISO": "CF-BGF"},
                {"type": "Polygon", "coordinates": _square(18.3, 4.2)},
            ),
            (
                {"shapeName": "Bowtie prefecture", "shapeISO": "CF-XX"},
                {"type": "Polygon", "coordinates": bowtie},
            ),
            (
                {"shapeName": "A road", "shapeISO": "CF-RD"},
                {"type": "LineString", "coordinates": [[18.0, 4.0], [19.0, 5.0]]},
            ),
            (
                {"shapeName": "", "shapeISO": "CF-NN"},
                {"type": "Polygon", "coordinates": _square(20.0, 6.0)},
            ),
            (
                {"shapeName": "Offshore", "shapeISO": "XX-SEA"},
                {"type": "Polygon", "coordinates": _square(-5.0, -5.0)},
            ),
        ],
    )


def test_admin_areas_are_loaded_repaired_or_refused_with_a_message(countries, tmp_path):
    report = admin_areas_load(
        path=_user_file(tmp_path),
        level=1,
        name_field="shapeName",
        code_field="shapeISO",
        source="test file",
    )

    assert sorted(AdminArea.objects.values_list("name", "country_id")) == [
        ("Bangui", "CAF"),
        ("Bowtie prefecture", "CAF"),
    ]
    assert report.loaded == 2
    assert any(
        line.startswith(f"{AdminArea.objects.get(code='CF-XX').id}: Self-intersection")
        for line in report.repaired
    )
    assert report.refused == [
        "feature 2 (A road): a LineString is not an area.",
        "feature 3 (no name): the field 'shapeName' is empty.",
        "feature 4 (Offshore): lies outside every country boundary.",
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT bool_and(ST_IsValid(boundary)) FROM geo_adminarea")
        assert cursor.fetchone()[0] is True
    assert locate(BANGUI).admin_areas[0]["name"] == "Bangui"


def test_a_geopackage_loads_like_geojson_and_reloading_replaces_the_level(countries, tmp_path):
    geojson = _user_file(tmp_path)
    geopackage = tmp_path / "caf_adm1.gpkg"
    subprocess.run(["ogr2ogr", "-f", "GPKG", str(geopackage), str(geojson)], check=True)

    admin_areas_load(path=geopackage, level=1, name_field="shapeName", country="CAF")
    admin_areas_load(path=geopackage, level=1, name_field="shapeName", country="CAF")

    assert AdminArea.objects.filter(country="CAF", level=1).count() == 3  # incl. Offshore


@pytest.mark.parametrize(
    ("content", "arguments", "says"),
    [
        ("this is not a map", {}, "Cannot read"),
        (None, {"name_field": "NAME_1"}, "has no field 'NAME_1'; its fields are"),
        (None, {"country": "NZL"}, "Country NZL has no boundary loaded"),
    ],
)
def test_unusable_boundary_files_are_refused_with_a_message_and_load_nothing(
    countries, tmp_path, content, arguments, says
):
    path = _user_file(tmp_path)
    if content is not None:
        path.write_text(content)
    Country.objects.filter(iso3="NZL").delete()

    with pytest.raises(BoundaryFileError, match=says):
        admin_areas_load(path=path, level=1, **{"name_field": "shapeName", **arguments})
    assert not AdminArea.objects.exists()


def test_a_file_in_projected_coordinates_without_a_crs_is_refused(countries, tmp_path):
    path = _write_geojson(
        tmp_path / "utm.geojson",
        [
            (
                {"shapeName": "Zone"},
                {"type": "Polygon", "coordinates": _square(500000, 480000, 1000)},
            ),
        ],
    )
    with pytest.raises(BoundaryFileError, match="not longitude/latitude"):
        admin_areas_load(path=path, level=1, name_field="shapeName")


# --- incidents learn where they are -------------------------------------------------


def test_incidents_get_country_admin_area_and_nearest_place_from_their_point(countries, tmp_path):
    admin_areas_load(path=_user_file(tmp_path), level=1, name_field="shapeName")
    for geonameid, name, longitude, latitude in [
        (1, "Bangui", 18.5582, 4.3947),
        (2, "Bimbo", 18.5163, 4.2567),
    ]:
        Place.objects.create(
            geonameid=geonameid,
            name=name,
            search_name=search_name(name),
            country="CAF",
            point=Point(longitude, latitude, srid=4326),
        )
    mission = Mission.objects.create(name="MINUSCA", acronym="MINUSCA")
    contingent = Contingent.objects.create(
        mission=mission, name="A", contributing_country="RWA", kind="tcc"
    )
    common = dict(
        kind="cache_discovery",
        context="other",
        mission=mission,
        contingent=contingent,
        occurred_at=datetime(2025, 1, 1, tzinfo=UTC),
    )
    in_bangui = Incident.objects.create(location=BANGUI, **common)
    at_sea = Incident.objects.create(location=GULF_OF_GUINEA, country="CAF", **common)

    assert incidents_assign_geography(incident_ids=[in_bangui.id, at_sea.id]) == 2

    in_bangui.refresh_from_db()
    at_sea.refresh_from_db()
    assert (in_bangui.country, in_bangui.admin_area.name, in_bangui.nearest_place.name) == (
        "CAF",
        "Bangui",
        "Bangui",
    )
    assert "eccas" in {region.code for region in in_bangui.regions}
    assert (at_sea.country, at_sea.admin_area) == ("", None)

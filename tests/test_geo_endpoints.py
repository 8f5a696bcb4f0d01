"""Boundaries for the map (simplified by zoom, cached) and lookups for data entry."""

import gzip
import json

import pytest
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point

from geo.core.boundaries import countries_load
from geo.core.places import search_name
from geo.core.regions import regions_load
from geo.models import Place


@pytest.fixture
def countries(db):
    countries_load(scale="110m")
    regions_load()


@pytest.fixture
def signed_in(client, db):
    client.force_login(get_user_model().objects.create_user("clerk"))
    return client


def vertex_count(collection: dict) -> int:
    def count(coordinates):
        return 1 if isinstance(coordinates[0], float | int) else sum(map(count, coordinates))

    return sum(count(feature["geometry"]["coordinates"]) for feature in collection["features"])


def test_country_boundaries_are_simplified_for_low_zooms(client, countries):
    world = client.get("/geo/boundaries/countries.geojson?zoom=1")
    detailed = client.get("/geo/boundaries/countries.geojson?zoom=10")

    assert world.status_code == detailed.status_code == 200
    assert world["Content-Type"] == "application/geo+json"
    coarse, fine = json.loads(world.content), json.loads(detailed.content)
    assert len(coarse["features"]) == len(fine["features"]) > 170
    assert vertex_count(coarse) < 0.8 * vertex_count(fine)


def test_country_boundaries_are_served_from_the_cache_until_reloaded(
    client, countries, django_assert_num_queries
):
    first = client.get("/geo/boundaries/countries.geojson?zoom=3").content
    with django_assert_num_queries(0):
        assert client.get("/geo/boundaries/countries.geojson?zoom=3").content == first

    countries_load(scale="110m")

    with django_assert_num_queries(1):
        client.get("/geo/boundaries/countries.geojson?zoom=3")


def test_the_boundaries_of_some_countries_alone_compressed_for_who_accepts_it(client, countries):
    every = client.get("/geo/boundaries/countries.geojson?zoom=6", HTTP_ACCEPT_ENCODING="gzip")
    some = client.get(
        "/geo/boundaries/countries.geojson?zoom=6&countries=tcd, caf", HTTP_ACCEPT_ENCODING="gzip"
    )

    assert every["Content-Encoding"] == some["Content-Encoding"] == "gzip"
    assert len(some.content) < len(every.content) / 20
    collection = json.loads(gzip.decompress(some.content))
    assert [feature["id"] for feature in collection["features"]] == ["CAF", "TCD"]
    plain = client.get("/geo/boundaries/countries.geojson?zoom=6&countries=CAF")
    assert "Content-Encoding" not in plain
    assert [feature["id"] for feature in json.loads(plain.content)["features"]] == ["CAF"]


@pytest.mark.parametrize("countries_asked", ["XYZ", "CAF,ZZ", "C4F"])
def test_a_bad_country_code_is_a_400_naming_the_field(client, countries, countries_asked):
    response = client.get(f"/geo/boundaries/countries.geojson?countries={countries_asked}")
    assert response.status_code == 400
    assert "countries" in response.json()["errors"]


@pytest.mark.parametrize("zoom", ["-1", "21", "far"])
def test_a_bad_zoom_is_a_400_naming_the_field(client, countries, zoom):
    response = client.get(f"/geo/boundaries/countries.geojson?zoom={zoom}")
    assert response.status_code == 400
    assert "zoom" in response.json()["errors"]


def test_locate_reads_mgrs_and_says_where_it_lies(signed_in, countries):
    Place.objects.create(
        geonameid=1,
        name="Bangui",
        search_name="bangui",
        country="CAF",
        population=889231,
        point=Point(18.5582, 4.3947, srid=4326),
    )

    response = signed_in.get("/geo/locate", {"coordinates": "34NBK3182283135"})

    assert response.status_code == 200
    body = response.json()
    assert body["coordinates"]["notation"] == "mgrs"
    assert body["country"] == "CAF"
    assert "eccas" in {region["code"] for region in body["regions"]}
    assert body["nearest_place"]["name"] == "Bangui"
    assert 2000 < body["nearest_place"]["distance_m"] < 5000


def test_locate_explains_bad_coordinates_under_the_field_name(signed_in, countries):
    response = signed_in.get("/geo/locate", {"coordinates": "118.5, 18.5"})

    assert response.status_code == 400
    [error] = response.json()["errors"]["coordinates"]
    assert "swapped" in error["message"]


def test_lookups_need_a_signed_in_user(client, countries):
    assert client.get("/geo/locate", {"coordinates": "4.39, 18.55"}).status_code == 302
    assert client.get("/geo/places", {"q": "bangui"}).status_code == 302


def test_place_search_finds_names_without_accents_and_prefers_prefixes(signed_in, db):
    for geonameid, name, country, population in [
        (1, "Ndélé", "CAF", 11764),
        (2, "Bangui", "CAF", 889231),
        (3, "Bangued", "PHL", 51865),
        (4, "Bangkok", "THA", 5104476),
    ]:
        Place.objects.create(
            geonameid=geonameid,
            name=name,
            search_name=search_name(name),
            country=country,
            population=population,
            point=Point(0, 0),
        )

    assert [p["name"] for p in signed_in.get("/geo/places", {"q": "ndele"}).json()["places"]] == [
        "Ndélé"
    ]
    found = [p["name"] for p in signed_in.get("/geo/places", {"q": "Bangu"}).json()["places"]]
    assert found[:2] == ["Bangui", "Bangued"]
    only_caf = signed_in.get("/geo/places", {"q": "bangu", "country": "CAF"}).json()["places"]
    assert [place["name"] for place in only_caf] == ["Bangui"]
    assert signed_in.get("/geo/places", {"q": "b", "country": "XXX"}).status_code == 400


def test_admin_areas_are_served_by_country_and_level(signed_in, countries, tmp_path):
    from geo.core.boundaries import admin_areas_load
    from tests.test_geo_boundaries import _user_file

    admin_areas_load(path=_user_file(tmp_path), level=1, name_field="shapeName")

    response = signed_in.get(
        "/geo/boundaries/admin-areas.geojson", {"country": "CAF", "level": 1, "zoom": 8}
    )
    assert response.status_code == 200
    names = [feature["properties"]["name"] for feature in json.loads(response.content)["features"]]
    assert names == ["Bangui", "Bowtie prefecture"]
    empty = signed_in.get("/geo/boundaries/admin-areas.geojson", {"country": "CAF", "level": 2})
    assert json.loads(empty.content)["features"] == []
    assert signed_in.get("/geo/boundaries/admin-areas.geojson", {"country": "CAF"}).json()[
        "errors"
    ]["level"]

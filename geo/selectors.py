"""Reads about places: which country, admin area and regions a point lies in, the nearest
named place, place-name search, and boundaries for the map."""

import unicodedata
from dataclasses import dataclass, field

from django.contrib.gis.db.models.functions import Distance, GeometryDistance
from django.contrib.gis.geos import Point
from django.contrib.postgres.search import TrigramWordSimilarity
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q

from geo.boundaries import BOUNDARY_CACHE_VERSION_KEY
from geo.models import AdminArea, Place, Region

BOUNDARY_CACHE_SECONDS = 24 * 3600


@dataclass
class Location:
    """Where a point lies. `country` is None at sea or outside every loaded boundary; on a
    border, `country` is one of `countries` and the note says so."""

    country: str | None
    countries: list[str]
    admin_areas: list[dict] = field(default_factory=list)
    regions: list[dict] = field(default_factory=list)
    nearest_place: dict | None = None
    note: str = ""


def countries_at(point: Point) -> list[str]:
    """ISO codes of the countries whose boundary covers `point` (two or more on a border)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT country_id FROM geo_countrypart "
            "WHERE ST_Covers(part, ST_SetSRID(%s::geometry, 4326)) ORDER BY country_id",
            [point.ewkb.hex()],
        )
        return [row[0] for row in cursor.fetchall()]


def nearest_place(point: Point) -> Place | None:
    return (
        Place.objects.annotate(distance=Distance("point", point))
        .order_by(GeometryDistance("point", point))
        .first()
    )


def locate(point: Point) -> Location:
    countries = countries_at(point)
    country = countries[0] if countries else None
    if not countries:
        note = "The point lies outside every country boundary (at sea, or no boundary loaded)."
    elif len(countries) > 1:
        note = f"The point lies on the border of {', '.join(countries)}."
    else:
        note = ""
    areas = AdminArea.objects.filter(boundary__covers=point).order_by("level", "name")
    regions = Region.objects.filter(member_countries__overlap=countries) if countries else []
    place = nearest_place(point)
    return Location(
        country=country,
        countries=countries,
        admin_areas=[{"id": a.id, "name": a.name, "level": a.level, "code": a.code} for a in areas],
        regions=[{"code": region.code, "name": region.name} for region in regions],
        nearest_place=None
        if place is None
        else {
            "geonameid": place.geonameid,
            "name": place.name,
            "country": place.country,
            "distance_m": round(place.distance.m),
        },
        note=note,
    )


def search_name(text: str) -> str:
    """Lower case without accents: how place names are matched ("Ndélé" -> "ndele")."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower().strip()


def places_search(text: str, *, country: str | None = None, limit: int = 10):
    """Places whose name resembles `text`, best match first, larger places first."""
    wanted = search_name(text)
    starts_with = Q(search_name__startswith=wanted)
    places = Place.objects.annotate(
        similarity=TrigramWordSimilarity(wanted, "search_name"),
        starts_with=ExpressionWrapper(starts_with, output_field=BooleanField()),
    ).filter(starts_with | Q(similarity__gte=0.5))
    if country:
        places = places.filter(country=country)
    return places.order_by("-starts_with", "-similarity", "-population")[:limit]


# Simplification tolerance in degrees by web-map zoom: about a screen pixel at that zoom.
def simplification_tolerance(zoom: int) -> float:
    return round(360 / (256 * 2**zoom), 6)


def countries_geojson(*, zoom: int) -> str:
    """All country boundaries as a GeoJSON FeatureCollection, simplified for `zoom`,
    built in PostGIS and cached until the boundaries change."""
    tolerance = simplification_tolerance(zoom)
    version = cache.get_or_set(BOUNDARY_CACHE_VERSION_KEY, 1, timeout=None)
    key = f"geo:countries:{version}:{tolerance}"
    collection = cache.get(key)
    if collection is None:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT json_build_object('type', 'FeatureCollection', 'features',
                    COALESCE(json_agg(json_build_object(
                        'type', 'Feature', 'id', iso3,
                        'properties', json_build_object('iso3', iso3, 'name', name),
                        'geometry', ST_AsGeoJSON(
                            ST_SimplifyPreserveTopology(boundary, %s), 5)::json
                    ) ORDER BY iso3), '[]'::json))::text
                FROM geo_country
                """,
                [tolerance],
            )
            collection = cursor.fetchone()[0]
        cache.set(key, collection, BOUNDARY_CACHE_SECONDS)
    return collection


def admin_areas_geojson(*, country: str, level: int, zoom: int) -> str:
    tolerance = simplification_tolerance(zoom)
    version = cache.get_or_set(BOUNDARY_CACHE_VERSION_KEY, 1, timeout=None)
    key = f"geo:admin:{version}:{country}:{level}:{tolerance}"
    collection = cache.get(key)
    if collection is None:
        with connection.cursor() as cursor:
            cursor.execute(
                """
                SELECT json_build_object('type', 'FeatureCollection', 'features',
                    COALESCE(json_agg(json_build_object(
                        'type', 'Feature', 'id', id,
                        'properties', json_build_object('name', name, 'code', code,
                                                        'level', level),
                        'geometry', ST_AsGeoJSON(
                            ST_SimplifyPreserveTopology(boundary, %s), 5)::json
                    ) ORDER BY name), '[]'::json))::text
                FROM geo_adminarea WHERE country_id = %s AND level = %s
                """,
                [tolerance, country, level],
            )
            collection = cursor.fetchone()[0]
        cache.set(key, collection, BOUNDARY_CACHE_SECONDS)
    return collection

"""Reads about places: which country, admin area and regions a point lies in, the nearest
named place, place-name search, and boundaries for the map."""

import json
import unicodedata
from dataclasses import dataclass, field

from django.contrib.gis.db.models.functions import Distance, GeometryDistance
from django.contrib.gis.geos import Point
from django.contrib.postgres.search import TrigramWordSimilarity
from django.core.cache import cache
from django.db import connection
from django.db.models import BooleanField, ExpressionWrapper, Q

from geo.core.boundaries import BOUNDARY_CACHE_VERSION_KEY
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


FEATURE_COLLECTION_SQL = """
SELECT json_build_object('type', 'FeatureCollection', 'features',
    COALESCE(json_agg(json_build_object(
        'type', 'Feature', 'id', {identifier},
        'properties', json_build_object({properties}),
        'geometry', ST_AsGeoJSON(ST_SimplifyPreserveTopology(boundary, %(tolerance)s), 5)::json
    ) ORDER BY {order}), '[]'::json))::text
FROM {table} {where}
"""


def _boundaries_collection(name: str, *, zoom: int, sql: str, parameters: dict) -> str:
    """A FeatureCollection built in PostGIS, simplified for `zoom`, and cached until the
    boundaries are loaded again."""
    tolerance = simplification_tolerance(zoom)
    version = cache.get_or_set(BOUNDARY_CACHE_VERSION_KEY, 1, timeout=None)
    key = f"geo:{name}:{version}:{tolerance}"
    collection = cache.get(key)
    if collection is None:
        with connection.cursor() as cursor:
            cursor.execute(sql, {**parameters, "tolerance": tolerance})
            collection = cursor.fetchone()[0]
        cache.set(key, collection, BOUNDARY_CACHE_SECONDS)
    return collection


def countries_geojson(*, zoom: int, countries: tuple[str, ...] = ()) -> str:
    """The boundaries of `countries` (ISO alpha-3 codes; all countries when empty) as a
    GeoJSON FeatureCollection, simplified for `zoom`."""
    sql = FEATURE_COLLECTION_SQL.format(
        identifier="iso3",
        properties="'iso3', iso3, 'name', name",
        order="iso3",
        table="geo_country",
        where="WHERE iso3 = ANY(%(countries)s)" if countries else "",
    )
    name = f"countries:{','.join(countries)}" if countries else "countries"
    return _boundaries_collection(
        name, zoom=zoom, sql=sql, parameters={"countries": list(countries)}
    )


def admin_areas_geojson(*, country: str, level: int, zoom: int) -> str:
    """One country's admin areas of one level, simplified for `zoom`."""
    sql = FEATURE_COLLECTION_SQL.format(
        identifier="id",
        properties="'name', name, 'code', code, 'level', level",
        order="name",
        table="geo_adminarea",
        where="WHERE country_id = %(country)s AND level = %(level)s",
    )
    return _boundaries_collection(
        f"admin:{country}:{level}",
        zoom=zoom,
        sql=sql,
        parameters={"country": country, "level": level},
    )


def run_cells_geojson(run) -> str:
    """The hexagons of a hot-spot run as a GeoJSON FeatureCollection, built in PostGIS."""
    return _feature_collection(
        """SELECT ST_AsGeoJSON(cell.boundary, 6)::json AS geometry,
                  json_build_object('cell', to_hex(cell.cell), 'count', cell.incidents,
                      'z_score', cell.z_score, 'p_value', cell.p_value,
                      'class', cell.spot_class, 'pattern', cell.pattern) AS properties
           FROM geo_analysiscell AS cell WHERE cell.run_id = %s""",
        run.pk,
    )


def run_clusters_geojson(run) -> str:
    """The clusters of a clusters run (hulls) as a GeoJSON FeatureCollection."""
    return _feature_collection(
        """SELECT ST_AsGeoJSON(cluster.hull, 6)::json AS geometry,
                  json_build_object('label', cluster.label, 'incidents', cluster.incidents,
                      'weapons', cluster.weapons,
                      'centroid', ST_AsGeoJSON(cluster.centroid, 6)::json,
                      'first_occurred_at', cluster.first_occurred_at,
                      'last_occurred_at', cluster.last_occurred_at) AS properties
           FROM geo_incidentcluster AS cluster WHERE cluster.run_id = %s""",
        run.pk,
    )


def _feature_collection(features_sql: str, run_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            f"""SELECT json_build_object('type', 'FeatureCollection', 'features',
                    coalesce(json_agg(json_build_object('type', 'Feature',
                        'geometry', feature.geometry, 'properties', feature.properties)), '[]'))
                FROM ({features_sql}) AS feature""",  # noqa: S608 (our own fragments)
            [run_id],
        )
        return json.dumps(cursor.fetchone()[0])

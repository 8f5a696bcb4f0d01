"""Loading boundaries, read through GDAL, repaired or refused in PostGIS.

Countries come from Natural Earth as shipped by the npm package world-atlas (installed by
the set-up into node_modules/); admin areas from any file GDAL reads that a user supplies
(GeoJSON, Shapefile, GeoPackage — geoBoundaries, GADM, a national mapping agency).
Invalid polygons are repaired with ST_MakeValid; a feature that is not an area, or that is
empty once repaired, is refused with a message naming it. Nothing is half-loaded: each load
runs in one transaction.
"""

import json
from dataclasses import dataclass, field
from pathlib import Path

import pycountry
from django.conf import settings
from django.contrib.gis.gdal import DataSource, GDALException, SpatialReference
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.core.cache import cache
from django.db import connection, transaction

from geo.core.borders import COUNTRY_EDGES
from geo.countries import country_name
from geo.models import AdminArea, Country

WORLD_ATLAS_DIR = Path(settings.BASE_DIR) / "node_modules" / "world-atlas"
SCALES = ("10m", "50m", "110m")
SUBDIVIDE_VERTICES = 256
BOUNDARY_CACHE_VERSION_KEY = "geo:boundaries:version"
POLYGONAL = ("Polygon", "MultiPolygon")
# GDAL reads a GeoJSON file whole: keep a file well inside a worker's memory.
BOUNDARY_MAX_BYTES = 256 * 1024**2
# What a boundary file may be, told from its first bytes (never from its name): GDAL has
# drivers for many formats, some of them XML (GML, KML) that GDAL 3.6 cannot stop from
# reading other files or the network; only these are opened.
BOUNDARY_SIGNATURES = {
    b"SQLite format 3\x00": "GeoPackage",
    b"\x00\x00\x27\x0a": "Shapefile",
}


class BoundaryFileError(Exception):
    """The file cannot be used at all (unreadable, no such field, not lon/lat)."""


@dataclass
class BoundaryLoadReport:
    loaded: int = 0
    repaired: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def world_atlas_version() -> str:
    return json.loads((WORLD_ATLAS_DIR / "package.json").read_text())["version"]


def world_atlas_source(scale: str) -> str:
    return f"Natural Earth 1:{scale} via world-atlas {world_atlas_version()}"


def check_boundary_file(path: Path) -> str:
    """Size and type of a boundary file from its content, before GDAL opens it; return the
    format found (GeoJSON, TopoJSON, Shapefile, GeoPackage)."""
    if not path.is_file():
        raise BoundaryFileError(f"{path.name} is not a file.")
    size = path.stat().st_size
    if size > BOUNDARY_MAX_BYTES:
        raise BoundaryFileError(
            f"{path.name} has {size / 1024**2:.0f} MB; the limit is "
            f"{BOUNDARY_MAX_BYTES // 1024**2} MB (simplify it, or split it by country)."
        )
    with path.open("rb") as file:
        head = file.read(4096)
        for signature, kind in BOUNDARY_SIGNATURES.items():
            if head.startswith(signature):
                return kind
        if not head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{"):
            raise BoundaryFileError(
                f"Cannot read {path.name} as a boundary file: it is not a GeoJSON, TopoJSON, "
                f"Shapefile (.shp) or GeoPackage file (it starts with {head[:8]!r})."
            )
        file.seek(0)
        while chunk := file.read(1 << 20):
            if b"\0" in chunk:
                raise BoundaryFileError(
                    f"{path.name} holds a NUL byte: it is not a JSON text file, or it is damaged."
                )
    return "TopoJSON" if b'"Topology"' in head else "GeoJSON"


def _open_layer(path: Path, layer: str | None):
    check_boundary_file(path)
    try:
        source = DataSource(str(path))
    except GDALException as error:
        raise BoundaryFileError(
            f"Cannot read {path.name} as a boundary file (GeoJSON, TopoJSON, Shapefile, "
            f"GeoPackage): {error}"
        ) from error
    if layer is None:
        return source[0]
    names = [candidate.name for candidate in source]
    if layer not in names:
        raise BoundaryFileError(f"{path.name} has no layer {layer!r}; it has {names}.")
    return source[names.index(layer)]


def _as_multipolygon(feature, label: str, report: BoundaryLoadReport) -> MultiPolygon | None:
    try:
        geometry = feature.geom
    except GDALException:
        report.refused.append(f"{label}: has no geometry.")
        return None
    if geometry.geom_type.name not in POLYGONAL:
        report.refused.append(f"{label}: a {geometry.geom_type.name} is not an area.")
        return None
    if geometry.srs is not None and geometry.srs.srid != 4326:
        geometry.transform(SpatialReference(4326))
    shape = GEOSGeometry(geometry.wkb, srid=4326)
    if shape.empty:
        report.refused.append(f"{label}: the geometry is empty.")
        return None
    west, south, east, north = shape.extent
    if west < -180.5 or east > 180.5 or south < -90.5 or north > 90.5:
        raise BoundaryFileError(
            f"{label}: coordinates are not longitude/latitude and the file names no "
            "coordinate system."
        )
    return shape if shape.geom_type == "MultiPolygon" else MultiPolygon(shape, srid=4326)


def _repair(table: str, key: str, keys: list, report: BoundaryLoadReport) -> None:
    """Repair invalid boundaries in place; delete and refuse what repair leaves empty."""
    with connection.cursor() as cursor:
        # Rings that cross the antimeridian jump from +180 to -180 and cut across the whole
        # map (Russia, Fiji): draw them on 0..360, repair, then split at 180 and move the
        # eastern part back. Polar areas (Antarctica) span 360 degrees legitimately.
        cursor.execute(
            f"UPDATE {table} SET boundary = ST_Multi(ST_CollectionExtract(ST_WrapX("  # noqa: S608
            f"ST_MakeValid(ST_ShiftLongitude(boundary)), 180, -360), 3)) "
            f"WHERE {key} = ANY(%s) AND ST_XMax(boundary) - ST_XMin(boundary) > 359 "
            f"AND ST_YMin(boundary) > -60 RETURNING {key}",
            [keys],
        )
        for (identifier,) in cursor.fetchall():
            report.repaired.append(f"{identifier}: crosses the antimeridian; split at 180°")
        cursor.execute(
            f"SELECT {key}, ST_IsValidReason(boundary) FROM {table} "  # noqa: S608 - names are ours
            f"WHERE {key} = ANY(%s) AND NOT ST_IsValid(boundary)",
            [keys],
        )
        for identifier, reason in cursor.fetchall():
            report.repaired.append(f"{identifier}: {reason}")
        cursor.execute(
            f"UPDATE {table} SET boundary = ST_Multi(ST_CollectionExtract("  # noqa: S608
            f"ST_MakeValid(boundary), 3)) WHERE {key} = ANY(%s) AND NOT ST_IsValid(boundary)",
            [keys],
        )
        cursor.execute(
            f"DELETE FROM {table} WHERE {key} = ANY(%s) AND ST_IsEmpty(boundary) "  # noqa: S608
            f"RETURNING {key}",
            [keys],
        )
        for (identifier,) in cursor.fetchall():
            report.refused.append(f"{identifier}: nothing of the area is left once repaired.")


def _boundaries_changed() -> None:
    # The map's boundary layers are cached under a version number: a new one drops them all.
    try:
        cache.incr(BOUNDARY_CACHE_VERSION_KEY)
    except ValueError:
        cache.set(BOUNDARY_CACHE_VERSION_KEY, 1, timeout=None)


@transaction.atomic
def countries_load(*, scale: str = "10m", path: Path | None = None) -> BoundaryLoadReport:
    """Replace every country boundary with Natural Earth's at `scale` from world-atlas."""
    if scale not in SCALES:
        raise BoundaryFileError(f"Unknown scale {scale!r}; choose one of {SCALES}.")
    path = path or WORLD_ATLAS_DIR / f"countries-{scale}.json"
    if not path.exists():
        raise BoundaryFileError(
            f"{path} is missing: run the set-up (make run), which installs world-atlas."
        )
    report = BoundaryLoadReport()
    source = world_atlas_source(scale)
    shapes: dict[str, tuple[str, list]] = {}
    for index, feature in enumerate(_open_layer(path, "countries")):
        name = feature.get("name")
        numeric = feature.get("id")
        country = pycountry.countries.get(numeric=numeric) if numeric else None
        if country is None:
            report.skipped.append(f"{name}: no ISO 3166 code in the data")
            continue
        shape = _as_multipolygon(feature, f"feature {index} ({name})", report)
        if shape is not None:
            # Stored in English (the UN M49 name); pages name countries in their language.
            un_name = country_name(country.alpha_3, "en")
            shapes.setdefault(country.alpha_3, (un_name, []))[1].extend(shape)
    Country.objects.all().delete()
    Country.objects.bulk_create(
        Country(iso3=iso3, name=name, boundary=MultiPolygon(polygons, srid=4326), source=source)
        for iso3, (name, polygons) in shapes.items()
    )
    _repair("geo_country", "iso3", list(shapes), report)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM geo_countrypart")
        cursor.execute(
            "INSERT INTO geo_countrypart (country_id, part) "
            "SELECT iso3, ST_Subdivide(boundary, %s) FROM geo_country",
            [SUBDIVIDE_VERTICES],
        )
        cursor.execute(COUNTRY_EDGES)
    report.loaded = Country.objects.count()
    _boundaries_changed()
    return report


@transaction.atomic
def admin_areas_load(
    *,
    path: Path,
    level: int,
    name_field: str,
    code_field: str | None = None,
    country: str | None = None,
    layer: str | None = None,
    source: str | None = None,
) -> BoundaryLoadReport:
    """Load admin areas of one level from a user's file, replacing that level's areas in
    the countries the file covers. Each area's country is `country`, or else the country
    that contains a point inside the area."""
    from geo.core.places import countries_at

    layer_data = _open_layer(path, layer)
    fields = list(layer_data.fields)
    for wanted in filter(None, (name_field, code_field)):
        if wanted not in fields:
            raise BoundaryFileError(
                f"{path.name} has no field {wanted!r}; its fields are {fields}."
            )
    if country and not Country.objects.filter(iso3=country).exists():
        raise BoundaryFileError(f"Country {country} has no boundary loaded: load countries first.")

    report = BoundaryLoadReport()
    areas = []
    for index, feature in enumerate(layer_data):
        name = str(feature.get(name_field) or "").strip()
        label = f"feature {index} ({name or 'no name'})"
        if not name:
            report.refused.append(f"{label}: the field {name_field!r} is empty.")
            continue
        shape = _as_multipolygon(feature, label, report)
        if shape is None:
            continue
        probe = shape if shape.valid else shape.make_valid()
        area_country = country or next(iter(countries_at(probe.point_on_surface)), None)
        if area_country is None:
            report.refused.append(f"{label}: lies outside every country boundary.")
            continue
        areas.append(
            AdminArea(
                country_id=area_country,
                level=level,
                name=name,
                code=str(feature.get(code_field) or "") if code_field else "",
                boundary=shape,
                source=source or path.name,
            )
        )
    AdminArea.objects.filter(
        level=level, country_id__in={area.country_id for area in areas}
    ).delete()
    created = AdminArea.objects.bulk_create(areas)
    _repair("geo_adminarea", "id", [area.id for area in created], report)
    report.loaded = AdminArea.objects.filter(id__in=[area.id for area in created]).count()
    _boundaries_changed()
    return report

"""Counting incidents on the H3 hexagon grid, in SQL where the stored cell allows it."""

import h3
import numpy as np
from django.db import connection
from django.db.models import QuerySet

from geo.analyses.source import chosen_incidents_sql
from incidents.services import H3_RESOLUTION

# Incidents store their resolution-8 cell; coarser grids are its parents.
FINEST_RESOLUTION = H3_RESOLUTION


def parent_cell_sql(column: str, resolution: int) -> str:
    """SQL for the parent, at `resolution`, of the H3 cell id in bigint `column`.

    An H3 index keeps its resolution in bits 52–55 and one 3-bit digit per finer level
    below; the parent sets the resolution and fills the finer digits with 7 (unused).
    """
    resolution = int(resolution)
    unused_digits = (1 << (3 * (15 - resolution))) - 1
    return (
        f"(({column} & ~(15::bigint << 52)) | ({resolution}::bigint << 52)"
        f" | {unused_digits}::bigint)"
    )


def weapons_per_incident_sql() -> str:
    return (
        "LEFT JOIN (SELECT incident_id, sum(quantity) AS weapons FROM incidents_weaponitem"
        " GROUP BY incident_id) AS seized ON seized.incident_id = chosen.id"
    )


def cell_counts(
    incidents: QuerySet, *, resolution: int, measure: str, period: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Incidents (or weapons, `measure="weapons"`) per H3 cell at `resolution`.

    Returns (cells as int64 ids, counts as float64, periods): with `period` ("month",
    "quarter", "year"), one row per cell and period, `periods` holding the period starts
    as numpy datetime64[D]; without, `periods` is empty.

    Exact locations use the stored cell's parent in SQL; generalised locations (few
    distinct grid points) get their cell from h3 here, from the point a reader may see.
    """
    sql, params = chosen_incidents_sql(incidents, "h3_cell", "occurred_at")
    weight = "coalesce(seized.weapons, 0)" if measure == "weapons" else "1"
    join = weapons_per_incident_sql() if measure == "weapons" else ""
    period_column = "date_trunc(%s, occurred_at)::date" if period else "NULL::date"
    exact = "location_is_exact AND h3_cell IS NOT NULL"
    query = f"""
        WITH chosen AS ({sql})
        SELECT CASE WHEN {exact} THEN {parent_cell_sql("h3_cell", resolution)} END,
               CASE WHEN NOT ({exact}) THEN ST_Y(shown_location) END,
               CASE WHEN NOT ({exact}) THEN ST_X(shown_location) END,
               {period_column},
               sum({weight})::float8
        FROM chosen {join}
        GROUP BY 1, 2, 3, 4
    """
    with connection.cursor() as cursor:
        cursor.execute(query, (*params, *([period] if period else [])))
        rows = cursor.fetchall()
    if not rows:
        return np.empty(0, np.int64), np.empty(0), np.empty(0, "datetime64[D]")
    cells = np.array(
        [
            cell
            if cell is not None
            else int(h3.latlng_to_cell(latitude, longitude, resolution), 16)
            for cell, latitude, longitude, _period, _count in rows
        ],
        dtype=np.int64,
    )
    counts = np.array([row[4] for row in rows], dtype=np.float64)
    periods = (
        np.array([row[3] for row in rows], dtype="datetime64[D]")
        if period
        else np.empty(0, "datetime64[D]")
    )
    return _merge_duplicates(cells, counts, periods)


def _merge_duplicates(cells, counts, periods):
    """Generalised points and exact ones can fall in the same cell: add them up."""
    keys = np.stack([cells, periods.astype(np.int64)]) if len(periods) else cells[None, :]
    unique_keys, inverse = np.unique(keys, axis=1, return_inverse=True)
    merged_counts = np.bincount(inverse.ravel(), weights=counts)
    merged_periods = (
        unique_keys[1].astype("datetime64[D]") if len(periods) else np.empty(0, "datetime64[D]")
    )
    return unique_keys[0], merged_counts, merged_periods


def cell_of(latitude: float, longitude: float, resolution: int) -> int:
    return int(h3.latlng_to_cell(latitude, longitude, resolution), 16)


# EWKB of a polygon with an SRID: byte order (little-endian), type, SRID, one ring.
_EWKB_POLYGON_WITH_SRID = 3 | 0x20000000


def cell_polygons_hex_ewkb(cells: np.ndarray) -> np.ndarray:
    """Each cell's hexagon (SRID 4326) as hex EWKB, which COPY reads into a geometry.

    Built as arrays: most cells have six vertices, a few near icosahedron edges seven or
    more, so cells are grouped by vertex count and each group encoded at once.
    """
    boundaries = [h3.cell_to_boundary(h3.int_to_str(int(cell))) for cell in cells]
    vertex_counts = np.fromiter(map(len, boundaries), dtype=np.int64, count=len(boundaries))
    encoded = np.empty(len(boundaries), dtype=object)
    for vertices in np.unique(vertex_counts):
        members = np.flatnonzero(vertex_counts == vertices)
        # (cells, vertices, [lat, lng]) → closed rings of (lng, lat)
        rings = np.array([boundaries[i] for i in members], dtype="<f8")[:, :, ::-1]
        rings = np.concatenate([rings, rings[:, :1, :]], axis=1).reshape(len(members), -1)
        header = np.frombuffer(
            b"\x01"
            + np.array([_EWKB_POLYGON_WITH_SRID, 4326, 1, vertices + 1], dtype="<u4").tobytes(),
            dtype=np.uint8,
        )
        rows = np.hstack([np.tile(header, (len(members), 1)), rings.view(np.uint8)])
        row_bytes = rows.shape[1]
        text = rows.tobytes().hex()
        width = 2 * row_bytes
        encoded[members] = [text[i * width : (i + 1) * width] for i in range(len(members))]
    return encoded


def cell_centre(cell: int) -> tuple[float, float]:
    """(latitude, longitude) of a cell's centre."""
    return h3.cell_to_latlng(h3.int_to_str(int(cell)))

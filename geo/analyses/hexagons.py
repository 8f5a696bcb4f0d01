"""Counting incidents on the H3 hexagon grid: each point in the cell that contains it.

Every point is binned by h3.latlng_to_cell(latitude, longitude, resolution), the cell that
contains it at the asked resolution, never by the parent of its stored resolution-8 cell:
H3 is not exactly hierarchical (a resolution-6 hexagon is not the union of its resolution-8
descendants), and parents put about 6 % of points in a neighbouring hexagon at resolution 6.

This is the one place that bins on H3 (hot spots and emerging hot spots call it); density
and the map's counts use grids of their own, and the stored resolution-8 cell is read by
no analysis.

How, and why (issue 18), measured with bench/binning_benchmark.py against the parent-in-SQL
code it replaced (kept in that script), 5 interleaved rounds on 2 cores, load average about
2 (medians, this over the old):

    incidents   resolution   cells only          by month
    100,000     6 / 7        0.14 / 0.16 s  0.99 / 0.88   0.17 / 0.19 s  0.52 / 0.49
    1,000,000   6 / 7        1.07 / 1.12 s  1.33 / 1.17   1.34 / 1.42 s  0.64 / 0.50

- PostgreSQL has no H3 here (no h3-pg package on Debian), so the cell is computed in Python,
  one h3 call per point (about 0.5 µs with h3's integer API). The database still does what
  it does well: choosing the incidents (filters, visibility), the reader's point
  (generalised locations binned from the point a reader may see, as before), weights and
  periods. Grouping equal points in SQL first was tried: its hash aggregate cost more than
  the h3 calls it saved.
- The points come back as two numbers each (ST_Y, ST_X of the shown point: no geometry
  through EWKB and back), by binary COPY into a numpy record array (26 bytes a row, no
  Python object per row); counts are added up per cell (and period) with pandas' factorize.
- Rejected: correcting parents in SQL (only resolution-8 cells wholly inside their
  ancestor can keep the parent; at resolution 7, the default, about 1 in 7), storing more
  resolutions (a column per resolution on every incident, kept by every write path), and
  h3ronpy (vectorised, but it brings pyarrow, tens of MB, to save at most the h3 calls'
  half second per million points).
"""

import io
import struct
from itertools import repeat

import h3
import numpy as np
from django.db import connections
from django.db.models import QuerySet
from h3.api import basic_int as h3_int

from geo.analyses.source import chosen_points_sql


def weapons_per_incident_sql() -> str:
    return (
        "LEFT JOIN (SELECT incident_id, sum(quantity) AS weapons FROM incidents_weaponitem"
        " GROUP BY incident_id) AS seized ON seized.incident_id = chosen.id"
    )


# PostgreSQL's binary COPY: a signature, flags and a header extension; each row a field
# count then (length, value) per field; -1 as the trailer. Our fields are never NULL.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
# Days from 1970-01-01 (numpy's epoch) to 2000-01-01 (PostgreSQL's).
_POSTGRES_EPOCH_DAYS = 10957


def _copy_rows(
    query: str, params: tuple, fields: list[tuple[str, str]], *, using: str
) -> np.ndarray:
    """Rows of `query` (no NULLs), read from the database `using`, as a numpy record array
    of `fields` (name, big-endian type)."""
    dtype = np.dtype(
        [("count", ">i2")]
        + [part for name, kind in fields for part in ((f"{name}_length", ">i4"), (name, kind))]
    )
    sink = io.BytesIO()
    with connections[using].cursor() as cursor:
        cursor.copy_expert(
            f"COPY ({cursor.mogrify(query, params).decode()}) TO STDOUT WITH (FORMAT binary)",
            sink,
        )
    buffer = sink.getbuffer()
    if bytes(buffer[: len(_COPY_SIGNATURE)]) != _COPY_SIGNATURE:
        raise ValueError("not PostgreSQL's binary COPY format")
    (extension,) = struct.unpack_from(">i", buffer, len(_COPY_SIGNATURE) + 4)
    start = len(_COPY_SIGNATURE) + 8 + extension
    return np.frombuffer(
        buffer, dtype=dtype, offset=start, count=(len(buffer) - start - 2) // dtype.itemsize
    )


def cell_counts(
    incidents: QuerySet, *, resolution: int, measure: str, period: str | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Incidents (or weapons, `measure="weapons"`) per H3 cell at `resolution`.

    Returns (cells as int64 ids, counts as float64, periods): with `period` ("month",
    "quarter", "year"), one row per cell and period, `periods` holding the period starts
    as numpy datetime64[D]; without, `periods` is empty.

    Each incident is counted in the cell containing the point a reader may see
    (`shown_location`: the exact point, or the generalised one), as h3 gives it.
    """
    rows = _chosen_points(incidents, measure=measure, period=period)
    if not len(rows):
        return np.empty(0, np.int64), np.empty(0), np.empty(0, "datetime64[D]")
    counts = rows["weight"].astype(np.float64) if measure == "weapons" else None
    periods = (
        (rows["period"].astype(np.int64) + _POSTGRES_EPOCH_DAYS).astype("datetime64[D]")
        if period
        else np.empty(0, "datetime64[D]")
    )
    return _merge_duplicates(_cells_of(rows, resolution), counts, periods)


def points_read(incidents: QuerySet, *, measure: str) -> np.ndarray:
    """The points of the chosen incidents, read once to be binned at several resolutions
    (`points_binned`): choosing a hot-spot grid's scale bins the same points at each
    candidate resolution."""
    return _chosen_points(incidents, measure=measure, period=None)


def points_binned(
    points: np.ndarray, *, resolution: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Points of `points_read` per H3 cell at `resolution`: (cells as int64 ids, counts of
    the measure read, counts of incidents), sorted by cell."""
    if not len(points):
        return np.empty(0, np.int64), np.empty(0), np.empty(0)
    cells = _cells_of(points, resolution)
    unique_cells, incidents_per_cell, _ = _merge_duplicates(cells, None, ())
    if "weight" not in (points.dtype.names or ()):
        return unique_cells, incidents_per_cell, incidents_per_cell
    weights = points["weight"].astype(np.float64)
    return unique_cells, _merge_duplicates(cells, weights, ())[1], incidents_per_cell


def _chosen_points(incidents: QuerySet, *, measure: str, period: str | None) -> np.ndarray:
    """The points a reader may see of the chosen incidents, as a record array of
    `latitude`, `longitude`, and `weight` (weapons seized) and `period` when asked."""
    sql, params = chosen_points_sql(incidents, "occurred_at")
    weighted = measure == "weapons"
    weight = ", coalesce(seized.weapons, 0)::float8" if weighted else ""
    join = weapons_per_incident_sql() if weighted else ""
    fields = [("latitude", ">f8"), ("longitude", ">f8")]
    if weighted:
        fields.append(("weight", ">f8"))
    period_column = ""
    if period:
        period_column = ", date_trunc(%s, occurred_at)::date"
        fields.append(("period", ">i4"))
    query = f"""
        WITH chosen AS ({sql})
        SELECT latitude, longitude{weight}{period_column}
        FROM chosen {join}
        WHERE latitude IS NOT NULL
    """
    return _copy_rows(query, (*params, *([period] if period else [])), fields, using=incidents.db)


def _cells_of(rows: np.ndarray, resolution: int) -> np.ndarray:
    return np.fromiter(
        map(
            h3_int.latlng_to_cell,
            rows["latitude"].tolist(),
            rows["longitude"].tolist(),
            repeat(int(resolution)),
        ),
        dtype=np.uint64,
        count=len(rows),
    ).view(np.int64)


def _merge_duplicates(cells, counts, periods):
    """Add up the counts of equal cells (and periods); sorted by cell, then period.

    pandas' factorize hashes (a few distinct cells among a million points), which costs
    about half of sorting them as numpy.unique does."""
    import pandas as pd

    cell_codes, unique_cells = pd.factorize(cells, sort=True)
    if not len(periods):
        return unique_cells, np.bincount(cell_codes, weights=counts).astype(np.float64), periods
    period_codes, unique_periods = pd.factorize(periods.astype(np.int64), sort=True)
    pair_codes, unique_pairs = pd.factorize(
        cell_codes * len(unique_periods) + period_codes, sort=True
    )
    return (
        unique_cells[unique_pairs // len(unique_periods)],
        np.bincount(pair_codes, weights=counts).astype(np.float64),
        unique_periods[unique_pairs % len(unique_periods)].astype("datetime64[D]"),
    )


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

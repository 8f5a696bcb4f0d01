"""What the analyst's map draws, built in PostGIS: incidents as counts per grid cell at low
zooms and as points at high zooms, the seizures holding registry hits, and the missions' and
contingents' areas.

Every function takes incidents already narrowed to what the reader may see
(`Incident.objects.visible_to`) and by the incident filterset, and reads their
`shown_location`: a reader of generalised locations gets counts and points built on the
generalised location, never on the exact one. Every statement runs on the database the
incidents are read from (`incidents.db`: the replica when the view chose it,
armsmonitor/replica.py), kept counts included.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import TYPE_CHECKING

from django.contrib.gis.db.models import GeometryField
from django.contrib.gis.db.models.functions import AsGeoJSON
from django.contrib.gis.geos import Polygon
from django.core.exceptions import EmptyResultSet
from django.db import connections, transaction
from django.db.models import (
    BooleanField,
    Case,
    DateTimeField,
    F,
    FloatField,
    Func,
    Q,
    QuerySet,
    Subquery,
    Sum,
    When,
)

from geo.core.places import simplification_tolerance
from incidents.derived.map_cells import (
    ANY,
    GRAIN_CATEGORIES,
    GRAIN_CATEGORIES_MONTH,
    GRAIN_FULL,
    GRAIN_KIND_CONTEXT,
    GRAIN_MONTH,
    GRAIN_NONE,
    KEPT_UP_TO,
    MAX_LEVEL,
    MIN_LEVEL,
    MONTH_ANY,
    IncidentMapCell,
    IncidentMapChange,
    categories_mask,
)
from incidents.filtersets import filter_kept_counts
from incidents.models import RegistryEntry

if TYPE_CHECKING:
    from incidents.access import Visibility
    from incidents.querysets import IncidentQuerySet

# A grid cell is about this many screen pixels wide at the zoom it is drawn at: a
# 1366-pixel-wide viewport holds about 21 × 12 cells, whatever the number of incidents.
CELL_PIXELS = 64
# From this zoom on (about a district), incidents come one by one while the view holds
# at most MAX_POINTS of them (≈ 90 bytes each: under 200 kB); beyond, cells again.
POINTS_MIN_ZOOM = 10
MAX_POINTS = 2000
MAX_ZOOM = 20


def cell_degrees(zoom: int) -> float:
    """The side of a grid cell, in degrees, at web-map `zoom`."""
    return 360 / (256 * 2**zoom) * CELL_PIXELS


@dataclass(frozen=True)
class MapQuery:
    """One statement and its parameters, as the map data endpoint runs it (the benchmark
    runs the very same statement straight through psycopg2)."""

    sql: str
    params: tuple


def _with_coordinates(incidents: QuerySet) -> QuerySet:
    """The incidents with the longitude and latitude of the location the reader may see."""
    return incidents.order_by().annotate(
        map_x=Func(F("shown_location"), function="ST_X", output_field=FloatField()),
        map_y=Func(F("shown_location"), function="ST_Y", output_field=FloatField()),
    )


def cells_query(incidents: QuerySet, *, zoom: int) -> MapQuery | None:
    """Counts of incidents per grid cell (by their shown location) with the mean position of
    each cell's incidents; None if the filter can match nothing."""
    size = cell_degrees(zoom)
    # Filters through weapons (category, free text) join and make the queryset DISTINCT:
    # with the id among the distinct columns, each incident is counted once.
    columns = ("id", "map_x", "map_y") if incidents.query.distinct else ("map_x", "map_y")
    located = _with_coordinates(incidents).values(*columns)
    try:
        inner_sql, inner_params = located.query.sql_with_params()
    except EmptyResultSet:
        return None
    sql = (
        "SELECT floor(map_x / %s)::int AS column_index, floor(map_y / %s)::int AS row_index,"  # noqa: S608
        " count(*) AS incidents, avg(map_x) AS x, avg(map_y) AS y"
        f" FROM ({inner_sql}) AS chosen GROUP BY 1, 2"
    )
    return MapQuery(sql, (size, size, *inner_params))


def points_query(incidents: QuerySet, *, limit: int = MAX_POINTS + 1) -> MapQuery | None:
    """Up to `limit` incidents, one row each: id, kind, date, shown location, exactness."""
    located = _with_coordinates(incidents).values(
        "id", "kind", "occurred_at", "map_x", "map_y", "location_is_exact"
    )[:limit]
    try:
        sql, params = located.query.sql_with_params()
    except EmptyResultSet:
        return None
    return MapQuery(sql, tuple(params))


# PostgreSQL's JIT compiles a plan whose estimated cost is high (a spatial test over many
# rows): seconds of compilation for a query that runs in a fraction of that.
NO_JIT = "SET LOCAL jit = off"


def _fetch(query: MapQuery | None, *, using: str, costly: bool = False) -> list[tuple]:
    """The rows of `query`, read from the database `using`; `costly` for the statements
    that read the incidents themselves, run without JIT (the kept counts' statements are
    estimated cheap: no JIT anyway, and no extra round trips)."""
    if query is None:
        return []
    connection = connections[using]
    if not costly:
        with connection.cursor() as cursor:
            cursor.execute(query.sql, query.params)
            return cursor.fetchall()
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute(NO_JIT)
        cursor.execute(query.sql, query.params)
        return cursor.fetchall()


# --- Counts from the cells the database keeps (incidents/derived/map_cells.py) ---------

# Filters the kept counts cannot answer: free text, a drawn area, edits since, withdrawn
# records (and a weapon category together with a kind or context: the category grains sum
# kinds and contexts over).
NOT_KEPT = ("q", "polygon", "updated_since")


def month_start(moment: datetime) -> date | None:
    """The date of `moment` if it is the very start of a month (UTC), else None."""
    if (moment.day, moment.hour, moment.minute, moment.second, moment.microsecond) == (
        1,
        0,
        0,
        0,
        0,
    ):
        return moment.date()
    return None


def month_after(before: datetime) -> date | None:
    """For an inclusive end `before` that closes a month (its last microsecond, as the
    filterset compares), the first day of the next month; else None. (An end written to the
    second, 23:59:59, reaches here as 23:59:59.999999: the filterset's end covers the whole
    of the last second written, incidents.filtersets.UntilDateTimeField.)"""
    return month_start(before + timedelta(microseconds=1))


def _whole_months(after: datetime | None, before: datetime | None) -> tuple[date | None, ...]:
    """The whole months of the window [after, before]: (first month, month after the last),
    each None where the window is open on that side, and (None, None) when no whole month
    lies in it. The days before the first and after the last are the window's edges."""
    first_month = end_month = None
    if after:
        first_month = month_start(after) or (
            after.date().replace(day=1) + timedelta(days=32)
        ).replace(day=1)
    if before:
        end_month = month_after(before) or before.date().replace(day=1)
    if first_month and end_month and first_month >= end_month:
        return None, None
    return first_month, end_month


def kept_cells_query(
    filters: dict,
    visibility: Visibility,
    *,
    zoom: int,
    bbox: Polygon,
    incidents: QuerySet | None = None,
) -> MapQuery | None:
    """The cells' counts read from the kept counts, or None when `filters` (the incident
    filterset's cleaned data) ask what they cannot answer (NOT_KEPT, withdrawn records).

    A time window that does not fall on month boundaries is read from the kept counts for
    its whole months, and from `incidents` (the filterset's queryset) for the days at its
    edges, in the same statement (a window without a whole month: all from `incidents`);
    without `incidents`, None.

    The access policy's own conditions apply (the table carries the incident's column
    names), and each reader reads the cells of the location it may see: the exact one
    where it may see it, else the generalised one. The changes not merged yet into the
    cells are added in the same statement (incidents/derived/map_cells.py), so an answer
    never waits for the merge. None, too, beyond the finest level at which the filter's
    grain is kept (KEPT_UP_TO): there the incidents are read."""
    if any(filters.get(name) for name in NOT_KEPT) or filters.get("withdrawn"):
        return None
    categories = filters.get("category")
    by_kind = bool(filters.get("kind") or filters.get("context"))
    if categories and by_kind:
        return None
    after, before = filters.get("occurred_after"), filters.get("occurred_before")
    first_month, end_month = _whole_months(after, before)
    # Without a whole month (both ends given, less than a month apart): the window is all
    # edge, counted from the incidents, and nothing is read from the kept counts.
    within_a_month = bool(after and before and not (first_month or end_month))
    if within_a_month:
        edges = Q(occurred_utc__gte=after, occurred_utc__lte=before)
    else:
        edges = _window_edges(after, before, first_month, end_month)
    if edges is not None and incidents is None:
        return None
    level = min(max(zoom, MIN_LEVEL), MAX_LEVEL)
    # Below the coarsest kept level, cells of zoom z are 2^(level - z) kept cells wide.
    shift = level - zoom if zoom < MIN_LEVEL else 0
    size = cell_degrees(level)
    minx, miny, maxx, maxy = bbox.extent
    cells = (
        IncidentMapCell.objects.using(incidents.db if incidents is not None else None)
        .filter(
            level=level,
            column_index__gte=math.floor(minx / size),
            column_index__lte=math.floor(maxx / size),
            row_index__gte=math.floor(miny / size),
            row_index__lte=math.floor(maxy / size),
        )
        .filter(
            visibility.visible,
            Q(generalised=False) & visibility.exact | Q(generalised=True) & ~visibility.exact,
        )
    )
    # The coarsest grain that holds what the filter tests.
    by_month = bool(first_month or end_month)
    if categories:
        grain = GRAIN_CATEGORIES_MONTH if by_month else GRAIN_CATEGORIES
        # Each incident counts once, in the row of its set of categories: the sets that
        # meet the chosen ones.
        cells = cells.alias(
            chosen_categories=F("categories").bitand(categories_mask(categories))
        ).filter(chosen_categories__gt=0)
    else:
        grain = {
            (False, False): GRAIN_NONE,
            (True, False): GRAIN_MONTH,
            (False, True): GRAIN_KIND_CONTEXT,
            (True, True): GRAIN_FULL,
        }[by_month, by_kind]
    if level > KEPT_UP_TO[grain]:
        return None
    cells = cells.filter(grain=grain)
    # The summed-over columns hold ANY / MONTH_ANY (the category grains sum kinds over):
    # said outright, the key is read in its order (level, generalised, grain, kind, month,
    # rows…) and only the viewport's rows are visited.
    if not by_kind:
        cells = cells.filter(kind=ANY)
    if not by_month:
        cells = cells.filter(month=MONTH_ANY)
    if first_month:
        cells = cells.filter(month__gte=first_month)
    if end_month:
        cells = cells.filter(month__lt=end_month)
    cells = filter_kept_counts(cells, filters)
    counted = (
        cells.values("column_index", "row_index")
        .annotate(counted=Sum("incidents"), total_x=Sum("sum_x"), total_y=Sum("sum_y"))
        .filter(counted__gt=0)
        .values_list("column_index", "row_index", "counted", "total_x", "total_y")
        .order_by()
    )
    try:
        if within_a_month:
            raise EmptyResultSet
        inner_sql, inner_params = counted.query.sql_with_params()
    except EmptyResultSet:
        inner_sql, inner_params = EMPTY_KEPT, ()
    # Coarser than the coarsest kept level: merge kept cells (an arithmetic shift is a
    # floor division by 2^shift, also for negative indices).
    parts = [
        "SELECT column_index >> %s AS c, row_index >> %s AS r, counted AS n, total_x AS sx,"  # noqa: S608
        f" total_y AS sy FROM ({inner_sql}) AS kept"
    ]
    params = [shift, shift, *inner_params]
    if not within_a_month:
        pending = _pending_changes(
            filters,
            visibility,
            using=incidents.db if incidents is not None else None,
            first_month=first_month,
            end_month=end_month,
        )
        try:
            pending_sql, pending_params = pending.query.sql_with_params()
        except EmptyResultSet:
            pass
        else:
            first_column, first_row = math.floor(minx / size), math.floor(miny / size)
            last_column, last_row = math.floor(maxx / size), math.floor(maxy / size)
            parts.append(
                "SELECT floor(map_x / %s)::int >> %s, floor(map_y / %s)::int >> %s, sign,"  # noqa: S608
                f" sign * map_x, sign * map_y FROM ({pending_sql}) AS pending"
                " WHERE floor(map_x / %s)::int BETWEEN %s AND %s"
                " AND floor(map_y / %s)::int BETWEEN %s AND %s"
            )
            params += [size, shift, size, shift, *pending_params]
            params += [size, first_column, last_column, size, first_row, last_row]
    if edges is not None:
        # A filter through weapons makes the queryset DISTINCT: with the id among the
        # distinct columns, each incident of the edges is counted once, as in cells_query.
        columns = ("id", "map_x", "map_y") if incidents.query.distinct else ("map_x", "map_y")
        # The edge days' incidents found first, by their own index, then tested one by one
        # (given the filter's conditions together, the planner crosses the date range with
        # the box's and the mission's indexes: 300,000 entries each read for a few thousand).
        edge_days = (
            incidents.model.objects.using(incidents.db)
            .alias(occurred_utc=OCCURRED_UTC)
            .filter(edges)
        )
        edge_days = edge_days.order_by().values("pk")
        try:
            edge_sql, edge_params = (
                _with_coordinates(incidents.filter(_AmongIds(F("pk"), Subquery(edge_days))))
                .values(*columns)
                .query.sql_with_params()
            )
        except EmptyResultSet:
            pass
        else:
            size = cell_degrees(level) * 2**shift  # the kept cells' size, merged as above
            parts.append(
                "SELECT floor(map_x / %s)::int, floor(map_y / %s)::int, 1, map_x, map_y"  # noqa: S608
                f" FROM ({edge_sql}) AS edge"
            )
            params += [size, size, *edge_params]
    # A cell whose incidents all left it since the last merge nets to zero: not drawn.
    sql = (
        "SELECT c, r, sum(n)::int, sum(sx) / sum(n), sum(sy) / sum(n)"  # noqa: S608
        f" FROM ({' UNION ALL '.join(parts)}) AS counted GROUP BY 1, 2 HAVING sum(n) > 0"
    )
    return MapQuery(sql, tuple(params))


def _pending_changes(
    filters: dict,
    visibility: Visibility,
    *,
    using: str | None,
    first_month: date | None,
    end_month: date | None,
) -> QuerySet:
    """The logged changes not merged yet that the kept cells' filter would count: sign and
    the location the reader may see (map_x, map_y), by the same conditions as the cells
    (the log carries the same column names)."""
    changes = IncidentMapChange.objects.using(using).filter(visibility.visible)
    categories = filters.get("category")
    if categories:
        changes = changes.alias(
            chosen_categories=F("categories").bitand(categories_mask(categories))
        ).filter(chosen_categories__gt=0)
    else:
        # Changes of weapons alone count at the category grains only.
        changes = changes.filter(counts_incident=True)
    if first_month:
        changes = changes.filter(month__gte=first_month)
    if end_month:
        changes = changes.filter(month__lt=end_month)
    changes = filter_kept_counts(changes, filters)
    return changes.annotate(
        map_x=Case(When(visibility.exact, then=F("x")), default=F("generalised_x")),
        map_y=Case(When(visibility.exact, then=F("y")), default=F("generalised_y")),
    ).values("sign", "map_x", "map_y")


# A kept-counts part that can match nothing, in the columns the statement reads.
EMPTY_KEPT = (
    "SELECT 0 AS column_index, 0 AS row_index, 0::bigint AS counted,"
    " 0::float8 AS total_x, 0::float8 AS total_y WHERE false"
)


# The moment of an incident in UTC, as the index of geo 0010 holds it: the window's edge days
# are a range of it, read from that index (a range of `occurred_at` itself is read through
# the (mission, occurred_at) index whole: 100-700 ms at a million incidents). Lists order by
# `occurred_at`, never by this expression, so the index changes none of their plans.
OCCURRED_UTC = Func(
    F("occurred_at"), template="(%(expressions)s AT TIME ZONE 'UTC')", output_field=DateTimeField()
)


class _AmongIds(Func):
    """`id = ANY(ARRAY(subquery))`: the subquery's ids first, then each incident by its key.
    (As `id IN (subquery)`, the planner may join them in parallel workers, whose start-up
    costs more than the join on a busy machine.)"""

    arg_joiner = " = ANY(ARRAY("
    template = "(%(expressions)s)))"
    output_field = BooleanField()


def _window_edges(
    after: datetime | None,
    before: datetime | None,
    first_month: date | None,
    end_month: date | None,
) -> Q | None:
    """The incidents of the window's days outside its whole months (None: there are none),
    as conditions on `occurred_utc` (OCCURRED_UTC), each edge closed on both sides."""
    edges = []
    if after and first_month and month_start(after) is None:
        edges.append(
            Q(
                occurred_utc__gte=after,
                occurred_utc__lt=datetime.combine(first_month, time.min, tzinfo=UTC),
            )
        )
    if before and end_month and month_after(before) is None:
        edges.append(
            Q(
                occurred_utc__gte=datetime.combine(end_month, time.min, tzinfo=UTC),
                occurred_utc__lte=before,
            )
        )
    if not edges:
        return None
    return edges[0] if len(edges) == 1 else edges[0] | edges[1]


def incidents_layer_query(
    incidents: QuerySet, filters: dict, visibility: Visibility, *, zoom: int, bbox: Polygon
) -> tuple[str, MapQuery | None]:
    """The statement that answers a viewport first: ("kept-cells", …) from the counts the
    database keeps when they can answer the filter, else ("points", …) at POINTS_MIN_ZOOM
    and beyond, else ("cells", …) counted from the incidents themselves."""
    kept = kept_cells_query(filters, visibility, zoom=zoom, bbox=bbox, incidents=incidents)
    if kept is not None:
        return "kept-cells", kept
    if zoom >= POINTS_MIN_ZOOM:
        return "points", points_query(incidents)
    return "cells", cells_query(incidents, zoom=zoom)


def incidents_layer(
    incidents: QuerySet, filters: dict, visibility: Visibility, *, zoom: int, bbox: Polygon
) -> dict:
    """The incidents layer of one viewport as a GeoJSON FeatureCollection.

    `incidents`: the filterset's queryset over `Incident.objects.visible_with(visibility)`,
    `filters` its cleaned data. At zoom POINTS_MIN_ZOOM and beyond, the incidents
    themselves while the view holds at most MAX_POINTS of them; otherwise one feature per
    grid cell, at the mean position of its incidents, with their count and the cell's
    bounds (beyond MAX_LEVEL, cells of that level). `total` counts every incident the
    features stand for."""
    mode, query = incidents_layer_query(incidents, filters, visibility, zoom=zoom, bbox=bbox)
    cell_zoom = min(zoom, MAX_LEVEL)
    using = incidents.db
    if mode == "kept-cells":
        cells = _fetch(query, using=using)
        # The kept cells tell how many incidents the view holds (whole cells: a few more
        # than the box), without reading them.
        if zoom < POINTS_MIN_ZOOM or sum(cell[2] for cell in cells) > MAX_POINTS:
            return _cells_collection(cells, zoom=cell_zoom)
        mode, query = "points", points_query(incidents)
    if mode == "points":
        rows = _fetch(query, using=using, costly=True)
        if len(rows) <= MAX_POINTS:
            return _points_collection(rows, zoom=zoom)
        query = cells_query(incidents, zoom=cell_zoom)
    return _cells_collection(_fetch(query, using=using, costly=True), zoom=cell_zoom)


def _points_collection(rows: list[tuple], *, zoom: int) -> dict:
    features = [
        {
            "type": "Feature",
            "id": pk,
            "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]},
            "properties": {
                "kind": kind,
                "occurred_at": occurred_at.date().isoformat(),
                "exact": bool(exact),
            },
        }
        # In the order of their ids: the same view gives the same document, whatever order
        # the database read the rows in (sorted here: at most MAX_POINTS of them).
        for pk, kind, occurred_at, x, y, exact in sorted(rows)
    ]
    return {
        "type": "FeatureCollection",
        "mode": "points",
        "zoom": zoom,
        "total": len(features),
        "features": features,
    }


def _cells_collection(rows: list[tuple], *, zoom: int) -> dict:
    size = cell_degrees(zoom)
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [round(x, 5), round(y, 5)]},
            "properties": {
                "count": count,
                "bounds": [
                    round(column * size, 6),
                    round(row * size, 6),
                    round((column + 1) * size, 6),
                    round((row + 1) * size, 6),
                ],
            },
        }
        # In the order of the cells: the same view gives the same document.
        for column, row, count, x, y in sorted(rows, key=lambda cell: (cell[0], cell[1]))
    ]
    return {
        "type": "FeatureCollection",
        "mode": "cells",
        "zoom": zoom,
        "cell_degrees": round(size, 6),
        "total": sum(feature["properties"]["count"] for feature in features),
        "features": features,
    }


# --- Registry hits ----------------------------------------------------------------------

# Why the hits layer draws nothing, for the page to say so (static/js/map/hits.js).
NO_REGISTRY = "no-registry"
NO_HITS_IN_VIEW = "no-hits-in-view"


def hits_layer(incidents: IncidentQuerySet, *, zoom: int) -> dict:
    """The registry hits layer of one viewport as a GeoJSON FeatureCollection: the seizures
    of `incidents` (the filterset's queryset over `visible_with`, box included) holding a
    registry hit still standing (`holding_registry_hits`), one point each at the location
    the reader may see, with the number of hits; beyond MAX_POINTS of them, counts per
    grid cell as the incidents layer draws them. Nothing of the registry entries is read.

    `empty`: why there is nothing to draw, NO_REGISTRY when the registry holds no entry at
    all (a fact about the platform, not about any entry), else NO_HITS_IN_VIEW."""
    holding = incidents.holding_registry_hits()
    using = incidents.db
    located = _with_coordinates(holding).values(
        "id", "map_x", "map_y", "location_is_exact", "registry_hits"
    )[: MAX_POINTS + 1]
    try:
        sql, params = located.query.sql_with_params()
        rows = _fetch(MapQuery(sql, tuple(params)), using=using, costly=True)
    except EmptyResultSet:
        rows = []
    if len(rows) > MAX_POINTS:
        cell_zoom = min(zoom, MAX_LEVEL)
        collection = _cells_collection(
            _fetch(cells_query(holding, zoom=cell_zoom), using=using, costly=True),
            zoom=cell_zoom,
        )
    else:
        collection = {
            "type": "FeatureCollection",
            "mode": "points",
            "zoom": zoom,
            "total": len(rows),
            "features": [
                {
                    "type": "Feature",
                    "id": pk,
                    "geometry": {"type": "Point", "coordinates": [round(x, 6), round(y, 6)]},
                    "properties": {"hits": hits, "exact": bool(exact)},
                }
                # In the order of their ids: the same view gives the same document.
                for pk, x, y, exact, hits in sorted(rows)
            ],
        }
    collection["empty"] = None
    if not collection["features"]:
        registry_loaded = RegistryEntry.objects.using(using).exists()
        collection["empty"] = NO_HITS_IN_VIEW if registry_loaded else NO_REGISTRY
    return collection


# --- Missions' and contingents' areas ---------------------------------------------------


def areas_geojson(areas: QuerySet, *, geometry: str, zoom: int, properties: list[str]) -> dict:
    """The areas (missions or contingents) as a FeatureCollection, simplified to about a
    pixel at `zoom`; those without an area are left out."""
    tolerance = simplification_tolerance(zoom)
    simplified = Func(
        F(geometry), tolerance, function="ST_SimplifyPreserveTopology", output_field=GeometryField()
    )
    rows = (
        areas.filter(**{f"{geometry}__isnull": False})
        .annotate(map_geometry=AsGeoJSON(simplified, precision=5))
        .values("pk", "map_geometry", *properties)
        .order_by("pk")
    )
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": row["pk"],
                "geometry": json.loads(row["map_geometry"]),
                "properties": {name: row[name] for name in properties},
            }
            for row in rows
        ],
    }


def zoom_for_bbox(minx: float, miny: float, maxx: float, maxy: float) -> int:
    """A zoom at which the box fills about a 1366 × 768 screen (for the benchmark)."""
    width, height = max(maxx - minx, 1e-9), max(maxy - miny, 1e-9)
    zoom = min(math.log2(360 * 1366 / 256 / width), math.log2(180 * 768 / 256 / height))
    return max(0, min(MAX_ZOOM, int(zoom)))

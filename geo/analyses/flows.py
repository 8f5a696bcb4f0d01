"""Flows: three different facts about where seized weapons came from, never mixed.

For the weapon items of the chosen incidents that came under control (recovered; a weapon
only observed was seized nowhere, and the reports' totals leave it out too):

- **where made** (`made`): the country of manufacture, to the country of seizure. It says
  where a weapon was made, not where it was diverted or whence it came (a rifle made in
  China may have been diverted from a neighbour's stocks): listed, never drawn.
- **illicit origins established** (`origins`): the country of diversion and the kind of
  illicit origin (UNODC IAFQ, tracing results; SDG 16.4.2 metadata), to the country of
  seizure, for the items whose origin is established: by the weapon's illicit-origin record
  (incidents/origins.py: a trace, a competent authority's finding, an investigation,
  marking evidence), else by the latest trace answer that established a point of diversion
  (kind "not_recorded"). Drawn as lines.
- **routes** (`routes`): departure, transit countries and destination, documented on the
  incident (`route_*`, the IAFQ's route questions; the destination, when blank, is the
  country of seizure) or answered by the trace that established an origin (country of
  diversion, its transit countries, country of seizure). Drawn as lines through each
  country crossed.

The items hold their seizure and established origin as columns the database keeps
(`WeaponItem.seized_in`, `seized_month`, `origin_country`, `origin_source` = the method,
`origin_kind`, `origin_point`, `origin_transit`; triggers of migrations incidents 0008,
0014 and 0031_established_origins, whatever writes the items, their incidents, traces or
origin records).

Items are counted twice over: `items` is the sum of the items' quantities (a record of five
identical unmarked rifles counts five), `records` the number of item records.

One statement does the work. Where made is the one pass over every item: grouped by
country of manufacture, destination, category and period (the month index divided by the
period's months), by summing the counts the database keeps where the run's filter tests
only what they are keyed by (incidents/derived/flow_counts.py; geo/analyses/kept_flows.py says
when), else in a single pass over the items' index. The established origins are read from
their own partial index (a small share of the items), the documented routes from the
incidents' (incident_documented_route). Its detailed rows come back as plain columns after
the rest, which comes as one JSON text:

- `made`: `columns`, `rows` (in the order of `columns`: made_in, destination, category,
  period, items, records; the most items first) and `matrix` (country level);
- `origins`: `columns`, `rows` (origin, kind, method, destination, category, period, items,
  records), `matrix` (country level, with items by kind) and `regions`: that matrix
  between regional organisations (see `FlowParameters`);
- `routes`: one row per documented or traced route, with items and incidents;
- `lines`: GeoJSON LineStrings for the map, each saying what it `shows`: "origin" (one per
  cross-border pair of known countries of established origins; domestic ones are counted
  but not drawn) or "route" (through the countries of a route, in order);
- `not_drawn`: what could not be drawn, and why.

An origin's line starts at the mean of the points of diversion of its items (those the
reader sees only generalised are snapped to the same grid as generalised incident locations
first), or, where none has a point, at ST_PointOnSurface of the country's boundary; every
other end is ST_PointOnSurface of the country's boundary. A line whose country has no
boundary loaded, or whose departure is unknown, is listed in `not_drawn`.
"""

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connections, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from geo.analyses.errors import AnalysisError
from geo.analyses.kept_flows import kept_counts_sql
from geo.analyses.source import IncidentChoice, Progress, chosen_incidents_sql
from geo.models import Region
from organisations.access import GENERALISED_CELL_DEGREES

PERIODS = ("month", "quarter", "year", "all")
# For the flows statement only. Its pass over the items must stay a hash aggregate, run in
# parallel workers (each aggregates its share, the leader only combines their groups): no
# sorting where there is another way, room for the hash tables, and parallel plans made
# cheap. The planner only aggregates in the workers when it knows how few groups a million
# items make: the extended statistics of incidents 0010 tell it. JIT
# compilation costs more than it saves here.
SESSION_SETTINGS = (
    "SET LOCAL work_mem = '256MB'; SET LOCAL enable_sort = off; SET LOCAL jit = off;"
    " SET LOCAL parallel_setup_cost = 0; SET LOCAL parallel_tuple_cost = 0.001"
)
# The items' pass is quickest as a merge of the index holding their flow columns by incident
# (weaponitem_flow_groups, incidents 0011) with the chosen incidents in id order, which the
# planner costs above a hash join of the incidents (0.75 s against 0.88 s for the whole
# statement at a million items). That holds while the index can be read alone, i.e. while
# most of the table's pages are all-visible, as autovacuum keeps them; not just after a bulk
# load, where the planner's hash join stays.
MERGE_SETTINGS = "SET LOCAL enable_hashjoin = off"
ITEMS_ALL_VISIBLE_SQL = (
    "SELECT relpages > 0 AND relallvisible >= 0.9 * relpages FROM pg_class"
    " WHERE oid = 'incidents_weaponitem'::regclass"
)
# The columns of the detailed rows of each part of the result.
MADE_COLUMNS = ("made_in", "destination", "category", "period", "items", "records")
ORIGIN_COLUMNS = (
    "origin",
    "kind",
    "method",
    "destination",
    "category",
    "period",
    "items",
    "records",
)


@dataclass(frozen=True)
class FlowParameters:
    """How to bucket and roll up the flows.

    `period`: "month", "quarter" or "year" buckets items by the start of the incident's
    period (UTC); "all" puts everything in one bucket (`period` is then null).

    `region_codes`: the regional organisations to roll countries up to, in order of
    preference: a country counts in the first listed region that has it as a member, else
    in "other" ("unknown" stays "unknown"). When empty, every Region in the database is
    used, those with the fewest members first (so a country counts in its most specific
    organisation: ECCAS before the AU), ties by code. Both levels, country and region, are
    computed in every run.
    """

    period: str = "year"  # "month" | "quarter" | "year" | "all"
    region_codes: tuple[str, ...] = ()

    def __post_init__(self):
        if self.period not in PERIODS:
            raise ValueError(f"period: {self.period!r} is not one of {', '.join(PERIODS)}.")
        # Lists arrive from JSON; keep the dataclass hashable and its order meaningful.
        object.__setattr__(self, "region_codes", tuple(self.region_codes))


# The months in each period: items are bucketed by their month index (WeaponItem.seized_month,
# year × 12 + month − 1, UTC) divided by it, a few thousand buckets turned into dates only
# in Python.
PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def _period_expression(period: str, month: str = "item.seized_month") -> str:
    """The period's number of the month numbered `month` (a column)."""
    # Written as the extended statistics of migration incidents 0010 write it, so that the
    # planner recognises it.
    if period == "all":
        return "NULL::integer"
    months = PERIOD_MONTHS[period]
    return month if months == 1 else f"({month} / {months})"


def _period_start(period: str, bucket: int | None) -> str | None:
    """The ISO date of the first day of the `period` numbered `bucket`."""
    if bucket is None:
        return None
    month = bucket * PERIOD_MONTHS[period]
    return f"{month // 12:04d}-{month % 12 + 1:02d}-01"


# Where made: the one pass over the items of the chosen incidents, on their own columns (the
# index weaponitem_flow_groups holds them all): no join to the incidents widens the million
# rows, and the chosen incidents are only looked up.
ITEMS_GROUPED = """
SELECT item.country_of_manufacture AS made_in, item.seized_in, item.category,
       {period} AS period, sum(item.quantity) AS items, count(*) AS records
FROM incidents_weaponitem AS item
WHERE item.incident_id IN (SELECT id FROM chosen) AND item.recovery = 'recovered'
GROUP BY 1, 2, 3, 4
"""
# The same sums from the counts the database keeps, where they answer the filter
# (geo/analyses/kept_flows.py): a few hundred thousand rows for a million items.
KEPT_GROUPED = """
SELECT kept.made_in, kept.country AS seized_in, kept.category,
       {period} AS period, sum(kept.items)::bigint AS items, sum(kept.records)::bigint AS records
FROM ({kept}) AS kept
GROUP BY 1, 2, 3, 4
"""

FLOWS_SQL = """
WITH chosen AS NOT MATERIALIZED ({chosen}),
-- Where made (ITEMS_GROUPED or KEPT_GROUPED). Blank countries become "unknown" after
-- grouping (no country code is 'unknown', so the groups stay as they are).
made AS MATERIALIZED (
    SELECT COALESCE(NULLIF(made_in, ''), 'unknown') AS made_in,
           COALESCE(NULLIF(seized_in, ''), 'unknown') AS destination,
           category, period, items, records
    FROM ({grouped}) AS grouped
),
-- The items whose illicit origin is established, from the partial index that holds them
-- alone (weaponitem_established_origins).
established AS MATERIALIZED (
    SELECT item.incident_id, COALESCE(NULLIF(item.origin_country, ''), 'unknown') AS origin,
           item.origin_kind AS kind, item.origin_source AS method,
           COALESCE(NULLIF(item.seized_in, ''), 'unknown') AS destination,
           item.category, {period} AS period, item.quantity,
           item.origin_transit AS transit_countries,
           CASE WHEN chosen.location_is_exact THEN item.origin_point
                ELSE ST_SnapToGrid(item.origin_point, %s) END AS diversion_point
    FROM incidents_weaponitem AS item
    JOIN chosen ON chosen.id = item.incident_id
    WHERE item.origin_source <> '' AND item.recovery = 'recovered'
),
origin_rows AS MATERIALIZED (
    SELECT origin, kind, method, destination, category, period,
           sum(quantity) AS items, count(*) AS records
    FROM established GROUP BY 1, 2, 3, 4, 5, 6
),
made_matrix AS (
    SELECT made_in, destination, sum(items) AS items, sum(records) AS records
    FROM made GROUP BY 1, 2
),
matrix AS (
    SELECT origin, destination, sum(items) AS items, sum(records) AS records,
           json_object_agg(kind, items ORDER BY kind) AS items_by_kind
    FROM (
        SELECT origin, destination, kind, sum(items) AS items, sum(records) AS records
        FROM origin_rows GROUP BY 1, 2, 3
    ) AS by_kind
    GROUP BY 1, 2
),
-- Routes: documented on the chosen incidents that have one (from the partial index
-- incident_documented_route), and answered by the traces that established an origin.
route_legs AS MATERIALIZED (
    SELECT 'documented' AS source, incident.id AS incident_id,
           COALESCE(NULLIF(incident.route_departure_country, ''), 'unknown') AS departure,
           incident.route_transit_countries::text[] AS transit,
           COALESCE(NULLIF(incident.route_destination_country, ''),
                    NULLIF(incident.country, ''), 'unknown') AS destination,
           (SELECT COALESCE(sum(item.quantity), 0) FROM incidents_weaponitem AS item
            WHERE item.incident_id = incident.id AND item.recovery = 'recovered') AS items
    FROM incidents_incident AS incident
    WHERE incident.id IN (SELECT id FROM chosen)
      AND (incident.route_departure_country <> '' OR incident.route_destination_country <> ''
           OR incident.route_transit_countries <> '{{}}')
    UNION ALL
    SELECT 'trace', incident_id, origin, transit_countries::text[], destination, quantity
    FROM established WHERE transit_countries IS NOT NULL
),
routes AS (
    SELECT source, departure, transit, destination, sum(items) AS items,
           count(DISTINCT incident_id) AS incidents
    FROM route_legs GROUP BY 1, 2, 3, 4
),
places AS (
    SELECT origin AS country FROM matrix UNION SELECT destination FROM matrix
),
route_places AS (
    SELECT DISTINCT country FROM routes
    CROSS JOIN LATERAL unnest(ARRAY[departure] || transit || ARRAY[destination]) AS country
),
region_order AS (
    SELECT region.code, region.member_countries, listed.position
    FROM unnest(%s::text[]) WITH ORDINALITY AS listed(code, position)
    JOIN geo_region AS region ON region.code = listed.code
    UNION ALL
    SELECT code, member_countries,
           row_number() OVER (ORDER BY cardinality(member_countries), code)
    FROM geo_region
    WHERE cardinality(%s::text[]) = 0 AND kind = 'organisation'
),
country_region AS (
    SELECT places.country,
           CASE WHEN places.country = 'unknown' THEN 'unknown'
                ELSE COALESCE((
                    SELECT code FROM region_order
                    WHERE places.country = ANY(member_countries)
                    ORDER BY position LIMIT 1
                ), 'other') END AS region
    FROM places
),
region_matrix AS (
    SELECT origin.region AS origin, destination.region AS destination,
           sum(matrix.items) AS items, sum(matrix.records) AS records
    FROM matrix
    JOIN country_region AS origin ON origin.country = matrix.origin
    JOIN country_region AS destination ON destination.country = matrix.destination
    GROUP BY 1, 2
),
diversion_points AS (
    SELECT origin, ST_SetSRID(ST_MakePoint(avg(ST_X(diversion_point)),
                                           avg(ST_Y(diversion_point))), 4326) AS point
    FROM established WHERE diversion_point IS NOT NULL GROUP BY origin
),
boundary_points AS (
    SELECT iso3, ST_PointOnSurface(boundary) AS point
    FROM geo_country
    WHERE iso3 IN (SELECT country FROM places UNION SELECT country FROM route_places)
),
pairs AS (
    SELECT matrix.*, diverted.point IS NOT NULL AS from_diversion_points,
           COALESCE(diverted.point, origin_boundary.point) AS start_point,
           destination_boundary.point AS end_point
    FROM matrix
    LEFT JOIN diversion_points AS diverted ON diverted.origin = matrix.origin
    LEFT JOIN boundary_points AS origin_boundary ON origin_boundary.iso3 = matrix.origin
    LEFT JOIN boundary_points AS destination_boundary
        ON destination_boundary.iso3 = matrix.destination
    WHERE matrix.origin <> matrix.destination
      AND matrix.origin <> 'unknown' AND matrix.destination <> 'unknown'
),
-- Each route's stops in order, and the line through them where every stop has a point.
route_lines AS (
    SELECT routes.*, stops.line, stops.missing
    FROM routes
    CROSS JOIN LATERAL (
        SELECT ST_MakeLine(array_agg(point.point ORDER BY stop.position)) AS line,
               array_remove(array_agg(CASE WHEN point.point IS NULL THEN stop.country END
                                      ORDER BY stop.position), NULL) AS missing
        FROM unnest(ARRAY[routes.departure] || routes.transit || ARRAY[routes.destination])
            WITH ORDINALITY AS stop(country, position)
        LEFT JOIN boundary_points AS point ON point.iso3 = stop.country
    ) AS stops
)
-- The first row: everything but the detailed rows, as one JSON text. Then the detailed
-- rows, as plain columns, the most items first: building 50,000 JSON arrays and parsing
-- them again in Python cost more than the whole of the rest.
SELECT json_build_object(
    'totals', json_build_object(
        'items', (SELECT COALESCE(sum(items), 0) FROM made),
        'records', (SELECT COALESCE(sum(records), 0) FROM made),
        'made_known_items',
        (SELECT COALESCE(sum(items), 0) FROM made WHERE made_in <> 'unknown'),
        'established_items', (SELECT COALESCE(sum(items), 0) FROM origin_rows),
        'established_records', (SELECT COALESCE(sum(records), 0) FROM origin_rows),
        'established_domestic_items', (SELECT COALESCE(sum(items), 0) FROM origin_rows
                                       WHERE origin = destination AND origin <> 'unknown'),
        'established_by_method', (
            SELECT COALESCE(json_object_agg(method, items ORDER BY method), '{{}}'::json)
            FROM (SELECT method, sum(items) AS items FROM origin_rows GROUP BY 1) AS by_method
        ),
        'established_by_kind', (
            SELECT COALESCE(json_object_agg(kind, items ORDER BY kind), '{{}}'::json)
            FROM (SELECT kind, sum(items) AS items FROM origin_rows GROUP BY 1) AS by_kind
        ),
        'documented_routes',
        (SELECT count(*) FROM route_legs WHERE source = 'documented'),
        'traced_routes_items',
        (SELECT COALESCE(sum(items), 0) FROM route_legs WHERE source = 'trace')
    ),
    'made_matrix', (
        SELECT COALESCE(json_agg(json_build_object(
            'made_in', made_in, 'destination', destination, 'items', items, 'records', records
        ) ORDER BY items DESC, made_in, destination), '[]'::json)
        FROM made_matrix
    ),
    'origin_rows', (
        SELECT COALESCE(json_agg(json_build_array(
            origin, kind, method, destination, category, period, items, records
        ) ORDER BY items DESC, origin, kind, method, destination, category, period), '[]'::json)
        FROM origin_rows
    ),
    'origin_matrix', (
        SELECT COALESCE(json_agg(json_build_object(
            'origin', origin, 'destination', destination, 'items', items,
            'records', records, 'items_by_kind', items_by_kind
        ) ORDER BY items DESC, origin, destination), '[]'::json)
        FROM matrix
    ),
    'regions', json_build_object(
        'order', (
            SELECT COALESCE(json_agg(code ORDER BY position), '[]'::json) FROM region_order
        ),
        'countries', (
            SELECT COALESCE(json_object_agg(country, region ORDER BY country), '{{}}'::json)
            FROM country_region
        ),
        'matrix', (
            SELECT COALESCE(json_agg(json_build_object(
                'origin', origin, 'destination', destination, 'items', items,
                'records', records
            ) ORDER BY items DESC, origin, destination), '[]'::json)
            FROM region_matrix
        )
    ),
    'routes', (
        SELECT COALESCE(json_agg(json_build_object(
            'source', source, 'departure', departure, 'transit', transit,
            'destination', destination, 'items', items, 'incidents', incidents
        ) ORDER BY items DESC, incidents DESC, source, departure, transit, destination),
        '[]'::json)
        FROM routes
    ),
    'lines', (
        SELECT COALESCE(json_agg(line ORDER BY line_order), '[]'::json) FROM (
            SELECT json_build_object(
                'shows', 'origin', 'origin', origin, 'destination', destination,
                'items', items, 'records', records, 'items_by_kind', items_by_kind,
                'starts_at', CASE WHEN from_diversion_points THEN 'diversion_points'
                                  ELSE 'boundary' END,
                'geometry', ST_AsGeoJSON(ST_MakeLine(start_point, end_point), 5)::json
            ) AS line, row_number() OVER (ORDER BY items DESC, origin, destination) AS line_order
            FROM pairs WHERE start_point IS NOT NULL AND end_point IS NOT NULL
            UNION ALL
            SELECT json_build_object(
                'shows', 'route', 'source', source, 'origin', departure, 'transit', transit,
                'destination', destination, 'items', items, 'incidents', incidents,
                'geometry', ST_AsGeoJSON(line, 5)::json
            ), 1000000 + row_number() OVER (
                ORDER BY items DESC, incidents DESC, source, departure, transit, destination)
            FROM route_lines
            WHERE departure <> 'unknown' AND destination <> 'unknown'
              AND cardinality(missing) = 0 AND ST_NPoints(line) >= 2
        ) AS drawn
    ),
    'not_drawn', (
        SELECT COALESCE(json_agg(skipped ORDER BY skipped_order), '[]'::json) FROM (
            SELECT json_build_object(
                'shows', 'origin', 'origin', origin, 'destination', destination,
                'items', items, 'reason', 'no boundary loaded'
            ) AS skipped, row_number() OVER (ORDER BY items DESC, origin, destination)
                AS skipped_order
            FROM pairs WHERE start_point IS NULL OR end_point IS NULL
            UNION ALL
            SELECT json_build_object(
                'shows', 'route', 'source', source, 'origin', departure, 'transit', transit,
                'destination', destination, 'items', items,
                'reason', CASE WHEN departure = 'unknown' OR destination = 'unknown'
                               THEN 'an end of the route is unknown'
                               ELSE 'no boundary loaded' END
            ), 1000000 + row_number() OVER (
                ORDER BY items DESC, incidents DESC, source, departure, transit, destination)
            FROM route_lines
            WHERE departure = 'unknown' OR destination = 'unknown' OR cardinality(missing) > 0
        ) AS skipped
    )
)::text AS summary, NULL, NULL, NULL, NULL::integer, NULL::bigint, NULL::bigint
UNION ALL
SELECT NULL, made_in, destination, category, period, items, records
FROM made
ORDER BY 1 NULLS LAST, 6 DESC
"""


def session_settings(cursor) -> str:
    """The settings for the flows statement (see SESSION_SETTINGS and MERGE_SETTINGS)."""
    cursor.execute(ITEMS_ALL_VISIBLE_SQL)
    if cursor.fetchone()[0]:
        return f"{SESSION_SETTINGS}; {MERGE_SETTINGS}"
    return SESSION_SETTINGS


def flows_statement(
    incidents: QuerySet, parameters: FlowParameters, chosen_by: IncidentChoice | None
) -> tuple[str, tuple, str]:
    """The flows statement, its parameters, and what it reads: "kept_counts" where
    `chosen_by` is given and the kept counts answer it, else "items"."""
    chosen_sql, chosen_params = chosen_incidents_sql(incidents)
    kept = kept_counts_sql(chosen_by) if chosen_by is not None else None
    if kept is None:
        read_from, grouped_params = "items", ()
        grouped = ITEMS_GROUPED.format(period=_period_expression(parameters.period))
    else:
        read_from, (kept_sql, grouped_params) = "kept_counts", kept
        grouped = KEPT_GROUPED.format(
            kept=kept_sql, period=_period_expression(parameters.period, "kept.month")
        )
    region_codes = list(parameters.region_codes)
    return (
        FLOWS_SQL.format(
            chosen=chosen_sql, grouped=grouped, period=_period_expression(parameters.period)
        ),
        (*chosen_params, *grouped_params, GENERALISED_CELL_DEGREES, region_codes, region_codes),
        read_from,
    )


def analyse(
    incidents: QuerySet,
    parameters: FlowParameters,
    progress: Progress,
    *,
    chosen_by: IncidentChoice | None = None,
) -> dict:
    """Where made, illicit origins established and routes of the weapon items of
    `incidents` (see the module's doc).

    With `chosen_by` (how `incidents` were chosen), where made is summed from the counts the
    database keeps where those answer the filter (geo/analyses/kept_flows.py), with the same
    result; the result's `read_from` says which: "kept_counts" or "items"."""
    region_codes, period = list(parameters.region_codes), parameters.period
    known = set(Region.objects.filter(code__in=region_codes).values_list("code", flat=True))
    unknown_codes = [code for code in region_codes if code not in known]
    if unknown_codes:
        raise AnalysisError(
            _("region_codes: no regional organisation has the code %(codes)s.")
            % {"codes": ", ".join(unknown_codes)}
        )
    progress(5)
    sql, sql_params, read_from = flows_statement(incidents, parameters, chosen_by)
    with (
        transaction.atomic(using=incidents.db),
        connections[incidents.db].cursor() as cursor,
    ):
        cursor.execute(session_settings(cursor))
        cursor.execute(sql, sql_params)
        # The summary is fetched as text and decoded once here, rather than by psycopg2's
        # json handling.
        with _no_cycle_collection():
            summary, *fetched = cursor.fetchall()
    result = json.loads(summary[0])
    if result["totals"]["records"] == 0:
        raise AnalysisError(_("No weapon items match the filter."))
    with _no_cycle_collection():
        made_rows = _rows(fetched, period, bucket_at=4, skip=1)
    origin_rows = _rows(result["origin_rows"], period, bucket_at=5)
    progress(100)
    return {
        "parameters": {"period": period, "region_codes": region_codes},
        "read_from": read_from,
        "totals": result["totals"],
        "made": {
            "columns": list(MADE_COLUMNS),
            "rows": made_rows,
            "matrix": result["made_matrix"],
        },
        "origins": {
            "columns": list(ORIGIN_COLUMNS),
            "rows": origin_rows,
            "matrix": result["origin_matrix"],
            "regions": result["regions"],
        },
        "routes": result["routes"],
        "lines": result["lines"],
        "not_drawn": result["not_drawn"],
    }


def _rows(fetched: list, period: str, *, bucket_at: int, skip: int = 0) -> list[list]:
    """The detailed rows as the result lists them, without their first `skip` columns, and
    with the period (at index `bucket_at` of each row fetched) as the ISO date it starts."""
    # A few dozen periods at most: each bucket's date is written once.
    starts = {
        bucket: _period_start(period, bucket) for bucket in {row[bucket_at] for row in fetched}
    }
    return [
        [*row[skip:bucket_at], starts[row[bucket_at]], *row[bucket_at + 1 :]] for row in fetched
    ]


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Python's cycle collector paused while tens of thousands of rows are made.

    Rows hold no reference cycles, but every few hundred new objects the collector runs,
    and every so often over all the rows made so far: 50 ms of the 60 it took to build the
    rows of a million items. Reference counting still frees what is dropped. The pause is
    process-wide, so it covers the making of rows and nothing else."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()

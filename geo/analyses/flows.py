"""Flows: where seized weapons came from (origin) and where they were seized (destination).

For every weapon item of the chosen incidents:

- origin: the country of diversion of the item's latest trace request whose point of
  diversion was established ("traced"; latest by answer date, then by sending date, then by
  id; an answer without a date counts as the oldest), else the item's country of
  manufacture ("manufacture"), else "unknown";
- destination: the incident's country, or "unknown" when it has none.

Both are precomputed on the item (`WeaponItem.seized_in`, `seized_at`, `origin_country`,
`origin_source`, `origin_trace`, and that trace's route: `origin_point`, `origin_transit`)
and kept right by PostgreSQL triggers on the items, the incidents and the trace requests
(migrations incidents 0008_weapon_flow_columns and 0012_weapon_origin_route), whatever
writes them; the month of seizure as a number (`seized_month`, incidents 0010) is a column
the database generates from `seized_at`. An index holds all the columns the grouping reads
by incident (incidents 0011; the only index on the incident since 0013), a partial one
those of the traced items with a route (0012).

Items are counted twice over: `items` is the sum of the items' quantities (a record of five
identical unmarked rifles counts five), `records` the number of item records.

One set-based query does the work. It groups the items of the chosen incidents by those
stored columns, category and period (the month index divided by the period's months):
where the run's filter tests only what the database's counts of items per flow are keyed
by (incidents/flow_counts.py; geo/analyses/kept_flows.py says when), by summing those
counts, a few hundred thousand rows for a million items; else in a single pass over the
items, without joining the incidents' other columns or the traces. A second,
small pass reads the traced items with a route (points of diversion, transit countries)
from their partial index. The detailed rows come back as plain columns after the rest,
which comes as one JSON text. Every part of the result is then derived, in the same
statement, from that aggregate of a few thousand rows and the traced items:

- `rows`: the detailed rows, as lists in the order of `columns` (origin, origin_source,
  destination, category, period, items, records), the most items first, ties in no set
  order (ordering fifty thousand rows by origin, destination, category, period and source
  took a third as long as the plain GROUP BY the flows are measured against);
- `matrix`: the country-level origin–destination matrix;
- `regions`: the same matrix between regional organisations (see `FlowParameters`);
- `lines`: one GeoJSON LineString per cross-border pair of known countries, for the map;
  domestic flows (origin = destination) are counted everywhere else but not drawn;
- `transit`: per origin–destination pair, the countries traced items crossed, with items.

A line starts at the origin's representative point: the mean of the points of diversion of
the traced items from that country (those the reader sees only generalised are snapped to
the same grid as generalised incident locations first), or, where none has a point,
ST_PointOnSurface of the country's boundary. It ends at ST_PointOnSurface of the
destination's boundary. A pair whose country has no boundary loaded is listed in
`not_drawn`.
"""

import gc
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import connection, transaction
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
# The columns of each of the result's `rows`.
ROW_COLUMNS = ("origin", "origin_source", "destination", "category", "period", "items", "records")


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


# The one pass over the items of the chosen incidents, on their own precomputed columns: no
# join to the incidents or the traces widens the million rows, and the chosen incidents are
# only looked up.
ITEMS_GROUPED = """
SELECT item.origin_country, item.origin_source, item.seized_in, item.category,
       {period} AS period, sum(item.quantity) AS items, count(*) AS records
FROM incidents_weaponitem AS item
WHERE item.incident_id IN (SELECT id FROM chosen)
GROUP BY 1, 2, 3, 4, 5
"""
# The same sums from the counts the database keeps, where they answer the filter
# (geo/analyses/kept_flows.py): a few hundred thousand rows for a million items.
KEPT_GROUPED = """
SELECT kept.origin_country, kept.origin_source, kept.country AS seized_in, kept.category,
       {period} AS period, sum(kept.items)::bigint AS items, sum(kept.records)::bigint AS records
FROM ({kept}) AS kept
GROUP BY 1, 2, 3, 4, 5
"""

FLOWS_SQL = """
WITH chosen AS NOT MATERIALIZED ({chosen}),
-- The items grouped (ITEMS_GROUPED or KEPT_GROUPED). Blank countries become "unknown" after
-- grouping (no country code is 'unknown', so the groups stay as they are).
detail AS MATERIALIZED (
    SELECT COALESCE(NULLIF(origin_country, ''), 'unknown') AS origin, origin_source,
           COALESCE(NULLIF(seized_in, ''), 'unknown') AS destination,
           category, period, items, records
    FROM ({grouped}) AS grouped
),
-- The few traced items with a route (a point of diversion or transit countries, copied
-- from their origin trace), from the partial index that holds them alone.
traced AS MATERIALIZED (
    SELECT item.origin_country AS origin,
           COALESCE(NULLIF(item.seized_in, ''), 'unknown') AS destination,
           item.quantity, item.origin_transit AS transit_countries,
           CASE WHEN chosen.location_is_exact THEN item.origin_point
                ELSE ST_SnapToGrid(item.origin_point, %s) END AS diversion_point
    FROM incidents_weaponitem AS item
    JOIN chosen ON chosen.id = item.incident_id
    WHERE item.origin_source = 'traced'
      AND (item.origin_point IS NOT NULL OR item.origin_transit IS NOT NULL)
),
matrix AS (
    SELECT origin, destination, sum(items) AS items, sum(records) AS records,
           COALESCE(sum(items) FILTER (WHERE origin_source = 'traced'), 0) AS traced_items
    FROM detail GROUP BY 1, 2
),
places AS (
    SELECT origin AS country FROM matrix UNION SELECT destination FROM matrix
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
    FROM traced WHERE diversion_point IS NOT NULL GROUP BY origin
),
boundary_points AS (
    SELECT iso3, ST_PointOnSurface(boundary) AS point
    FROM geo_country WHERE iso3 IN (SELECT country FROM places)
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
transit AS (
    SELECT origin, destination, json_object_agg(country, items ORDER BY country) AS countries
    FROM (
        SELECT origin, destination, country, sum(quantity) AS items
        FROM traced CROSS JOIN LATERAL unnest(transit_countries) AS country
        GROUP BY 1, 2, 3
    ) AS crossed
    GROUP BY 1, 2
)
-- The first row: everything but the detailed rows, as one JSON text. Then the detailed
-- rows, as plain columns, the most items first: building 50,000 JSON arrays and parsing
-- them again in Python cost more than the whole of the rest.
SELECT json_build_object(
    'totals', (
        SELECT json_build_object(
            'items', COALESCE(sum(items), 0),
            'records', COALESCE(sum(records), 0),
            'domestic_items', COALESCE(sum(items) FILTER (
                WHERE origin = destination AND origin <> 'unknown'), 0),
            'items_by_origin_source', json_build_object(
                'traced', COALESCE(sum(items) FILTER (WHERE origin_source = 'traced'), 0),
                'manufacture',
                COALESCE(sum(items) FILTER (WHERE origin_source = 'manufacture'), 0),
                'unknown', COALESCE(sum(items) FILTER (WHERE origin_source = 'unknown'), 0)
            )
        ) FROM detail
    ),
    'matrix', (
        SELECT COALESCE(json_agg(json_build_object(
            'origin', origin, 'destination', destination, 'items', items,
            'records', records, 'traced_items', traced_items
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
    'lines', (
        SELECT COALESCE(json_agg(json_build_object(
            'origin', origin, 'destination', destination, 'items', items,
            'records', records, 'traced_items', traced_items,
            'starts_at', CASE WHEN from_diversion_points THEN 'diversion_points'
                              ELSE 'boundary' END,
            'geometry', ST_AsGeoJSON(ST_MakeLine(start_point, end_point), 5)::json
        ) ORDER BY items DESC, origin, destination), '[]'::json)
        FROM pairs WHERE start_point IS NOT NULL AND end_point IS NOT NULL
    ),
    'not_drawn', (
        SELECT COALESCE(json_agg(json_build_object(
            'origin', origin, 'destination', destination, 'items', items,
            'reason', 'no boundary loaded'
        ) ORDER BY items DESC, origin, destination), '[]'::json)
        FROM pairs WHERE start_point IS NULL OR end_point IS NULL
    ),
    'transit', (
        SELECT COALESCE(json_agg(json_build_object(
            'origin', origin, 'destination', destination, 'countries', countries
        ) ORDER BY origin, destination), '[]'::json)
        FROM transit
    )
)::text AS summary, NULL, NULL, NULL, NULL, NULL::integer, NULL::bigint, NULL::bigint
UNION ALL
SELECT NULL, origin, origin_source, destination, category, period, items, records
FROM detail
ORDER BY 1 NULLS LAST, 7 DESC
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
        FLOWS_SQL.format(chosen=chosen_sql, grouped=grouped),
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
    """Origin → seizure flows of the weapon items of `incidents` (see the module's doc).

    With `chosen_by` (how `incidents` were chosen), the items are summed from the counts the
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
    with transaction.atomic(), connection.cursor() as cursor:
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
        rows = _rows(fetched, period)
    progress(100)
    return {
        "parameters": {"period": period, "region_codes": region_codes},
        "read_from": read_from,
        "columns": list(ROW_COLUMNS),
        "totals": result.pop("totals"),
        "rows": rows,
        **result,
    }


def _rows(fetched: list[tuple], period: str) -> list[list]:
    """The detailed rows as the result lists them: the period as the ISO date it starts."""
    # A few dozen periods at most: each bucket's date is written once.
    starts = {bucket: _period_start(period, bucket) for bucket in {row[5] for row in fetched}}
    return [
        [origin, source, destination, category, starts[bucket], items, records]
        for _, origin, source, destination, category, bucket, items, records in fetched
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

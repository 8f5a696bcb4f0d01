"""The analyst's dashboard: figures over the incidents a reader may see, narrowed by the one
incident filterset (incidents/filtersets.py), so the dashboard, the list and the map read
the same query string.

Every figure is a GROUP BY in PostgreSQL over the chosen incidents (the filtered
`visible_to` queryset's SQL, as a subquery), counted as the Trends and Flows analyses
count:

- incidents over time (per month or week, UTC, with zeros for the periods between the
  first and the last that have none), by kind, by context, by country and by regional
  organisation (an incident counts in every organisation its country belongs to);
- weapons by SALW category: the sum of the recovered items' quantities (a weapon only
  observed came under nobody's control, as the reports count);
- where the weapons were made (country of manufacture: no movement), and the top illicit
  origins established (country of diversion → country of seizure) from the columns that
  PostgreSQL's triggers keep on each weapon item (`origin_country`, `seized_in`, see
  geo/analyses/flows.py): as the Flows analysis counts them, never one for the other;
- gender-disaggregated figures of the people involved (sums of `PersonsInvolved.count` by
  sex, age group and role) and the incidents linked to gender-based violence, computed only
  for readers entitled to gender data (`incidents.view_gender_data`).

The Trends analysis gives the same counts per period and key for a stored run; the
dashboard needs totals per key, for any filter, at request time: four statements, each one
pass with GROUPING SETS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from urllib.parse import urlencode

from django.core.exceptions import EmptyResultSet
from django.db import connection, transaction
from django.db.models import QuerySet
from django.http import QueryDict

from geo.analyses.kept_flows import kept_counts_sql
from geo.analyses.source import IncidentChoice
from incidents.filtersets import IncidentFilterSet

PERIODS = ("month", "week")
CHOSEN_COLUMNS = ("id", "occurred_at", "kind", "context", "country", "gbv_link")
NO_INCIDENTS_SQL = (
    "SELECT id, occurred_at, kind, context, country, gbv_link FROM incidents_incident WHERE false"
)
TOP = 10
UNKNOWN = "unknown"
# Keys of the query string that are not filters of the incidents: they stay off the links.
NOT_FILTERS = {"ordering", "page", "cursor", "format", "period"}
# For the dashboard's statements only: room to hash every grouping set in memory (with the
# default 4 MB the per-period groups are sorted on disk at 100,000 incidents).
SESSION_SETTINGS = "SET LOCAL work_mem = '64MB'; SET LOCAL jit = off"


@dataclass(frozen=True)
class Count:
    """One bar of a chart: a stored code (category, country, period start…) and a sum."""

    key: str
    count: int


@dataclass(frozen=True)
class MadeIn:
    country: str  # ISO alpha-3 of the country of manufacture
    items: int


@dataclass(frozen=True)
class Flow:
    origin: str  # ISO alpha-3 of the established country of diversion
    destination: str  # ISO alpha-3 of the country of seizure
    items: int
    records: int


@dataclass(frozen=True)
class GenderFigures:
    persons: int
    by_sex: list[Count]
    by_age_group: list[Count]
    by_role: list[Count]
    # (role, sex) → people
    by_role_and_sex: dict[tuple[str, str], int]
    gbv_linked_incidents: int


@dataclass(frozen=True)
class DashboardFigures:
    period: str
    incidents: int
    weapons: int
    weapon_records: int
    over_time: list[Count]
    by_kind: list[Count]
    by_context: list[Count]
    by_country: list[Count]
    by_region: list[Count]
    by_category: list[Count]
    top_made_in: list[MadeIn]
    items_made_in_unknown: int
    # Weapons whose illicit origin is established, and the largest cross-border ones.
    established_items: int
    top_flows: list[Flow]
    gender: GenderFigures | None


# One pass over the chosen incidents for every count of incidents; the regional
# organisations are counted from the few country groups (an incident counts in every
# organisation its country belongs to), not by joining each incident to them.
INCIDENTS_SQL = """
WITH chosen AS ({chosen}),
grouped AS (
    SELECT CASE WHEN grouping(period) = 0 THEN 'period'
                WHEN grouping(kind) = 0 THEN 'kind'
                WHEN grouping(context) = 0 THEN 'context'
                WHEN grouping(country) = 0 THEN 'country'
                ELSE 'total' END AS figure,
           COALESCE(period::text, kind, context, country, '') AS key,
           count(*) AS incidents,
           count(*) FILTER (WHERE gbv_link) AS gbv_linked
    FROM (
        SELECT date_trunc(%s, chosen.occurred_at AT TIME ZONE 'UTC')::date AS period,
               chosen.kind, chosen.context,
               COALESCE(NULLIF(chosen.country, ''), 'unknown') AS country, chosen.gbv_link
        FROM chosen
    ) AS incident
    GROUP BY GROUPING SETS ((period), (kind), (context), (country), ())
)
SELECT figure, key, incidents, gbv_linked FROM grouped
UNION ALL
SELECT 'region', region.code, sum(grouped.incidents), 0
FROM grouped
JOIN geo_region AS region
    ON grouped.figure = 'country' AND grouped.key = ANY(region.member_countries)
    AND region.kind = 'organisation'
GROUP BY region.code
UNION ALL
-- The periods without incidents between the first and the last, as zeros: the chart over
-- time keeps its time scale.
SELECT 'period', every.start::date::text, 0, 0
FROM (SELECT min(key)::date AS first, max(key)::date AS last
      FROM grouped WHERE figure = 'period') AS bounds
CROSS JOIN generate_series(bounds.first, bounds.last, ('1 ' || %s)::interval) AS every(start)
WHERE every.start::date::text NOT IN (SELECT key FROM grouped WHERE figure = 'period')
"""

# Where made and established origins as the Flows analysis groups them: blank countries
# are "unknown". Where made is summed from the counts of recovered items the database keeps
# per flow (incidents/derived/flow_counts.py) wherever they answer the filter
# (geo/analyses/kept_flows.py: the access policy's columns, kind, context, country, region,
# whole months), else in one pass over the items (the index that holds the columns it reads
# by incident, weaponitem_flow_groups); either way grouped once by all its keys, the
# grouping sets then taken over those few groups. The established origins, a small share of
# the items, come from their own partial index. The chosen incidents are not materialised:
# each pass looks them up by its own index (materialised once for both, the statement took
# 257 ms instead of 88 at 100,000 incidents: bench/dashboard_benchmark.py).
MADE_FROM_ITEMS = """
    SELECT item.category, COALESCE(NULLIF(item.country_of_manufacture, ''), 'unknown') AS made_in,
           sum(item.quantity) AS items, count(*) AS records
    FROM incidents_weaponitem AS item
    WHERE item.incident_id IN (SELECT id FROM chosen) AND item.recovery = 'recovered'
    GROUP BY 1, 2
"""
MADE_FROM_KEPT_COUNTS = """
    SELECT kept.category, COALESCE(NULLIF(kept.made_in, ''), 'unknown') AS made_in,
           sum(kept.items) AS items, sum(kept.records) AS records
    FROM ({kept}) AS kept
    GROUP BY 1, 2
"""
ITEMS_SQL = """
WITH chosen AS NOT MATERIALIZED ({chosen}),
made AS ({made}),
grouped AS (
    SELECT CASE WHEN grouping(category) = 0 THEN 'category'
                WHEN grouping(made_in) = 0 THEN 'made_in'
                ELSE 'total' END AS figure,
           category, made_in AS origin, NULL AS destination,
           COALESCE(sum(items), 0) AS items, COALESCE(sum(records), 0) AS records
    FROM made
    GROUP BY GROUPING SETS ((category), (made_in), ())
    UNION ALL
    SELECT 'flow', NULL, COALESCE(NULLIF(item.origin_country, ''), 'unknown'),
           COALESCE(NULLIF(item.seized_in, ''), 'unknown'),
           sum(item.quantity), count(*)
    FROM incidents_weaponitem AS item
    WHERE item.origin_source <> '' AND item.recovery = 'recovered'
        AND item.incident_id IN (SELECT id FROM chosen)
    GROUP BY 3, 4
)
SELECT figure, category, origin, destination, items, records
FROM (
    SELECT grouped.*,
           row_number() OVER (
               PARTITION BY figure,
                   -- Only known countries, and cross-border flows between known countries,
                   -- compete for the top places.
                   (figure = 'made_in' AND origin = 'unknown')
                   OR (figure = 'flow' AND (origin = 'unknown' OR destination = 'unknown'
                                            OR origin = destination))
               ORDER BY items DESC, origin, destination, category
           ) AS place
    FROM grouped
) AS ranked
WHERE figure IN ('category', 'total', 'flow') OR place <= %s
    OR (figure = 'made_in' AND origin = 'unknown')
"""

PERSONS_SQL = """
WITH chosen AS ({chosen}),
fine AS (
    SELECT person.role, person.sex, person.age_group, sum(person.count) AS people
    FROM incidents_personsinvolved AS person
    WHERE person.incident_id IN (SELECT id FROM chosen)
    GROUP BY 1, 2, 3
)
SELECT CASE WHEN grouping(role) = 0 AND grouping(sex) = 0 THEN 'role_sex'
            WHEN grouping(role) = 0 THEN 'role'
            WHEN grouping(sex) = 0 THEN 'sex'
            WHEN grouping(age_group) = 0 THEN 'age_group'
            ELSE 'total' END AS figure,
       role, sex, age_group, COALESCE(sum(people), 0)
FROM fine
GROUP BY GROUPING SETS ((sex), (age_group), (role), (role, sex), ())
"""


def _chosen(incidents: QuerySet) -> tuple[str, tuple]:
    """The chosen incidents' columns that the figures read, one row per incident.

    Not `chosen_incidents_sql`: the dashboard reads no location, and a filter that joins
    the items (a category) makes the rows DISTINCT, which over the shown location (a
    geometry) costs a sort of every row."""
    values = incidents.order_by().values(*CHOSEN_COLUMNS)
    try:
        return values.query.sql_with_params()
    except EmptyResultSet:
        # Django's way of saying the filter can match nothing (a reader granted no
        # records): the same columns, no rows.
        return NO_INCIDENTS_SQL, ()


def _rows(sql: str, params: tuple) -> list[tuple]:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(SESSION_SETTINGS)
        cursor.execute(sql, params)
        return cursor.fetchall()


def _sorted(counts: dict[str, int]) -> list[Count]:
    # Largest first; ties in the order of their codes, so the order never depends on the plan.
    return [
        Count(key, count) for key, count in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    ]


def dashboard_figures(
    *,
    incidents: QuerySet,
    choice: IncidentChoice | None = None,
    period: str = "month",
    with_gender: bool,
) -> DashboardFigures:
    """The dashboard's figures over `incidents` (a `visible_to` queryset, filtered).

    `choice`: how `incidents` were chosen (the reader's visibility and the filterset's
    cleaned data), so that where the weapons were made may be summed from the counts the
    database keeps; without it, from the items. Both give the same figures.
    `with_gender`: whether to compute the gender-disaggregated figures at all (the caller
    decides from the reader's permission; without it they are None)."""
    if period not in PERIODS:
        raise ValueError(f"period: {period!r} is not one of {', '.join(PERIODS)}.")
    chosen, params = _chosen(incidents)
    kept = kept_counts_sql(choice) if choice is not None else None

    by_figure: dict[str, dict[str, int]] = {
        name: {} for name in ("period", "kind", "context", "country", "region")
    }
    incident_total = gbv_linked = 0
    for figure, key, count, gbv in _rows(
        INCIDENTS_SQL.format(chosen=chosen), (*params, period, period)
    ):
        if figure == "total":
            incident_total, gbv_linked = count, gbv
        else:
            by_figure[figure][key] = int(count)

    by_category: dict[str, int] = {}
    made_in: list[MadeIn] = []
    flows: list[Flow] = []
    weapons = weapon_records = made_in_unknown = established = 0
    if kept is None:
        items_sql, items_params = ITEMS_SQL.format(chosen=chosen, made=MADE_FROM_ITEMS), params
    else:
        kept_sql, kept_params = kept
        items_sql = ITEMS_SQL.format(
            chosen=chosen, made=MADE_FROM_KEPT_COUNTS.format(kept=kept_sql)
        )
        items_params = (*params, *kept_params)
    for figure, category, origin, destination, items, records in _rows(
        items_sql, (*items_params, TOP)
    ):
        if figure == "total":
            weapons, weapon_records = items, records
        elif figure == "category":
            by_category[category] = items
        elif figure == "made_in" and origin == UNKNOWN:
            made_in_unknown = items
        elif figure == "made_in":
            made_in.append(MadeIn(origin, items))
        else:
            # Every established origin counts; the cross-border ones between known countries
            # are listed.
            established += items
            if origin != UNKNOWN and destination != UNKNOWN and origin != destination:
                flows.append(Flow(origin, destination, items, records))
    flows = sorted(flows, key=lambda flow: (-flow.items, flow.origin, flow.destination))

    return DashboardFigures(
        period=period,
        incidents=incident_total,
        weapons=weapons,
        weapon_records=weapon_records,
        over_time=[Count(key, count) for key, count in sorted(by_figure["period"].items())],
        by_kind=_sorted(by_figure["kind"]),
        by_context=_sorted(by_figure["context"]),
        by_country=_sorted(by_figure["country"]),
        by_region=_sorted(by_figure["region"]),
        by_category=_sorted(by_category),
        top_made_in=sorted(made_in, key=lambda made: (-made.items, made.country)),
        items_made_in_unknown=made_in_unknown,
        established_items=established,
        top_flows=flows[:TOP],
        gender=_gender_figures(chosen, params, gbv_linked) if with_gender else None,
    )


def _gender_figures(chosen: str, params: tuple, gbv_linked: int) -> GenderFigures:
    groups: dict[str, dict[str, int]] = {"sex": {}, "age_group": {}, "role": {}}
    by_role_and_sex: dict[tuple[str, str], int] = {}
    persons = 0
    for figure, role, sex, age_group, count in _rows(PERSONS_SQL.format(chosen=chosen), params):
        if figure == "total":
            persons = count
        elif figure == "role_sex":
            by_role_and_sex[(role, sex)] = count
        else:
            groups[figure][{"sex": sex, "age_group": age_group, "role": role}[figure]] = count
    return GenderFigures(
        persons=persons,
        by_sex=_sorted(groups["sex"]),
        by_age_group=_sorted(groups["age_group"]),
        by_role=_sorted(groups["role"]),
        by_role_and_sex=by_role_and_sex,
        gbv_linked_incidents=gbv_linked,
    )


# --- links back to the map -------------------------------------------------------------


def filters_of(query: QueryDict, cleaned: dict) -> QueryDict:
    """The incident filters a query string sets, as sent: the filterset's own parameters
    whose value filters something (`cleaned`: the filter form's cleaned data), without
    presentation keys (page, ordering, the dashboard's period) or empty fields of a
    submitted form (withdrawn=unknown, q=)."""
    filters = QueryDict(mutable=True)
    for name in IncidentFilterSet.base_filters:
        value = cleaned.get(name)
        if name in NOT_FILTERS or value is None or value == "" or value == []:
            continue
        sent = [part for part in query.getlist(name) if part != ""]
        if sent:
            filters.setlist(name, sent)
    return filters


def map_url(filters: QueryDict, **narrowed: str) -> str:
    """/map/ with `filters`, each parameter of `narrowed` replacing the one of the same
    name (clicking the category "mortar" under a category filter shows mortars, not
    both)."""
    query = filters.copy()
    for name, value in narrowed.items():
        query.setlist(name, [value])
    encoded = urlencode([(k, v) for k in query for v in query.getlist(k) if v != ""])
    return f"/map/?{encoded}" if encoded else "/map/"


def period_bounds(start: date, period: str) -> tuple[datetime, datetime]:
    """The first and last instants (UTC) of the month or week starting on `start`."""
    first = datetime(start.year, start.month, start.day, tzinfo=UTC)
    if period == "week":
        following = first + timedelta(days=7)
    elif start.month == 12:
        following = first.replace(year=start.year + 1, month=1)
    else:
        following = first.replace(month=start.month + 1)
    return first, following - timedelta(microseconds=1)


def period_map_url(filters: QueryDict, start: date, period: str, *, after, before) -> str:
    """/map/ narrowed to one period, within the dates already filtered on (`after`,
    `before`: the filter's cleaned values, or None)."""
    first, last = period_bounds(start, period)
    if after is not None:
        first = max(first, after)
    if before is not None:
        last = min(last, before)
    return map_url(filters, occurred_after=_iso(first), occurred_before=_iso(last))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")

"""The figures reports share, as SQL aggregates over the incidents a report may read.

Every function takes the report's incidents (a queryset already narrowed to what the reader
may read, its scope and its period) and returns rows computed by PostgreSQL. Weapons are
counted as items (a record of five identical unmarked rifles counts five), as the flow
analysis and UNODC's questionnaire count them.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet

from geo.analyses.source import chosen_incidents_sql
from incidents.choices import IncidentKind
from reports.scope import period_bounds

# How UNODC's Illicit Arms Flows Questionnaire and SDG indicator 16.4.2 class the events:
# arms seized by an authority, found (caches, abandoned arms) and voluntarily surrendered.
# Losses and thefts from peacekeepers or national stockpiles are arms leaving control, not
# coming under it: they are in none of the three.
SEIZED_KINDS = (
    IncidentKind.CHECKPOINT_SEIZURE,
    IncidentKind.CORDON_AND_SEARCH,
    IncidentKind.RECOVERY_AFTER_CLASH,
    IncidentKind.ATTACK_ON_PEACEKEEPERS,
    IncidentKind.ARMED_VIOLENCE,
)
FOUND_KINDS = (IncidentKind.CACHE_DISCOVERY,)
SURRENDERED_KINDS = (IncidentKind.VOLUNTARY_SURRENDER,)
UNDER_CONTROL_KINDS = SEIZED_KINDS + FOUND_KINDS + SURRENDERED_KINDS

EVENT_CLASS_SQL = (
    "CASE WHEN chosen.kind = ANY(%s) THEN 'seized' WHEN chosen.kind = ANY(%s) THEN 'found'"
    " WHEN chosen.kind = ANY(%s) THEN 'surrendered' END"
)
EVENT_CLASS_PARAMS = (list(SEIZED_KINDS), list(FOUND_KINDS), list(SURRENDERED_KINDS))

FIELDS = (
    "occurred_at",
    "kind",
    "context",
    "country",
    "shown_admin_area_id",
    "gbv_link",
    "mission_id",
)


def query(incidents: QuerySet, sql: str, params: tuple = ()) -> list[tuple]:
    """Run `sql` after `WITH chosen AS (…the incidents…)`, the chosen incidents having the
    columns of FIELDS; return its rows."""
    chosen, chosen_params = chosen_incidents_sql(incidents, *FIELDS)
    with connection.cursor() as cursor:
        cursor.execute(f"WITH chosen AS MATERIALIZED ({chosen}) {sql}", (*chosen_params, *params))
        return [tuple(_plain(value) for value in row) for row in cursor.fetchall()]


def _plain(value):
    """PostgreSQL's sums of integers come back as Decimal: whole ones become int (for JSON,
    the workbook and the PDF alike)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# Only weapons that came under control count as seized, found or surrendered; those only
# observed (incidents.choices.Recovery) do not.
RECOVERED = "w.recovery = 'recovered'"
# Rounds are cartridges (small-arms and shotgun), live: grenades, mortar bombs and spent
# cases are never added to them (incidents.choices.AmmunitionCategory).
ROUNDS = "a.category IN ('cartridge', 'shotgun') AND a.state <> 'spent'"


def totals(incidents: QuerySet) -> dict[str, int]:
    (row,) = query(
        incidents,
        """
        SELECT (SELECT count(*) FROM chosen),
               (SELECT COALESCE(sum(w.quantity), 0) FROM incidents_weaponitem AS w
                 WHERE w.incident_id IN (SELECT id FROM chosen) AND {RECOVERED}),
               (SELECT count(*) FROM incidents_weaponitem AS w
                 WHERE w.incident_id IN (SELECT id FROM chosen) AND {RECOVERED}),
               (SELECT COALESCE(sum(a.quantity), 0) FROM incidents_ammunitionitem AS a
                 WHERE a.incident_id IN (SELECT id FROM chosen) AND {ROUNDS}),
               (SELECT count(*) FROM chosen WHERE chosen.gbv_link)
        """.replace("{ROUNDS}", ROUNDS).replace("{RECOVERED}", RECOVERED),
    )
    names = ("incidents", "weapons", "weapon_records", "rounds", "gbv_linked_incidents")
    return dict(zip(names, map(int, row), strict=True))


WEAPONS_PER_INCIDENT = """
    weapons AS (
        SELECT w.incident_id, sum(w.quantity) AS items FROM incidents_weaponitem AS w
        WHERE w.incident_id IN (SELECT id FROM chosen) GROUP BY w.incident_id
    )
"""


def by_incident_column(incidents: QuerySet, column: str) -> list[tuple]:
    """(value of `column`, incidents, weapons), most weapons first."""
    assert column in ("kind", "context", "country")
    return query(
        incidents,
        f""", {WEAPONS_PER_INCIDENT}
        SELECT COALESCE(chosen.{column}, ''), count(*), COALESCE(sum(weapons.items), 0)
        FROM chosen LEFT JOIN weapons ON weapons.incident_id = chosen.id
        GROUP BY 1 ORDER BY 3 DESC, 2 DESC, 1
        """,  # noqa: S608 - fragments are ours; values are parameters
    )


def by_area(incidents: QuerySet, limit: int = 25) -> list[tuple]:
    """(country, admin area, incidents, weapons) of the areas with most weapons."""
    return query(
        incidents,
        f""", {WEAPONS_PER_INCIDENT}
        SELECT COALESCE(chosen.country, ''), COALESCE(area.name, ''), count(*),
               COALESCE(sum(weapons.items), 0)
        FROM chosen LEFT JOIN weapons ON weapons.incident_id = chosen.id
        LEFT JOIN geo_adminarea AS area ON area.id = chosen.shown_admin_area_id
        GROUP BY 1, 2 ORDER BY 4 DESC, 3 DESC, 1, 2 LIMIT %s
        """,  # noqa: S608 - fragments are ours; values are parameters
        (limit,),
    )


def weapons_by_category(incidents: QuerySet) -> list[tuple]:
    """(category, weapons, of which markings altered), most first."""
    return query(
        incidents,
        """
        SELECT w.category, sum(w.quantity),
               COALESCE(sum(w.quantity) FILTER (WHERE w.markings_altered), 0)
        FROM incidents_weaponitem AS w WHERE w.incident_id IN (SELECT id FROM chosen)
        GROUP BY 1 ORDER BY 2 DESC, 1
        """,
    )


def custody_in_period(scope_incidents: QuerySet, start: date, end: date) -> list[tuple]:
    """(event kind, events, weapons) of the chain-of-custody events recorded in the period
    on weapons of the scope's incidents, whenever those were seized."""
    since, until = period_bounds(start, end)
    return query(
        scope_incidents,
        """
        SELECT event.kind, count(*), COALESCE(sum(w.quantity), 0)
        FROM incidents_custodyevent AS event
        JOIN incidents_weaponitem AS w ON w.id = event.weapon_id
        WHERE w.incident_id IN (SELECT id FROM chosen)
          AND event.occurred_at >= %s AND event.occurred_at < %s
        GROUP BY 1 ORDER BY 1
        """,
        (since, until),
    )


def tracing_in_period(scope_incidents: QuerySet, start: date, end: date) -> dict[str, int]:
    """Trace requests on the scope's weapons: sent in the period, answered in it, and of
    those answered, with the point of diversion established; still unanswered at its end
    (sent, acknowledged or forwarded: incidents.choices.TRACE_PENDING); closed in it without
    a trace (no record, refused, closed not traced: TRACE_NEGATIVE)."""
    (row,) = query(
        scope_incidents,
        """
        SELECT count(*) FILTER (WHERE t.sent_on BETWEEN %s AND %s),
               count(*) FILTER (WHERE t.answered_on BETWEEN %s AND %s),
               count(*) FILTER (WHERE t.answered_on BETWEEN %s AND %s
                                AND t.diversion_established),
               count(*) FILTER (WHERE t.sent_on <= %s
                                AND t.status IN ('sent', 'acknowledged', 'forwarded')),
               count(*) FILTER (WHERE t.status IN ('closed_untraced', 'no_record', 'refused')
                                AND COALESCE(t.answered_on, t.sent_on) BETWEEN %s AND %s)
        FROM incidents_tracerequest AS t
        JOIN incidents_weaponitem AS w ON w.id = t.weapon_id
        WHERE w.incident_id IN (SELECT id FROM chosen)
        """,
        (start, end, start, end, start, end, end, start, end),
    )
    names = ("sent", "answered", "diversion_established", "unanswered", "closed_untraced")
    return dict(zip(names, map(int, row), strict=True))


def trace_results_by_country(scope_incidents: QuerySet, start: date, end: date) -> list[tuple]:
    """(country of diversion, traces answered in the period establishing it, weapons)."""
    return query(
        scope_incidents,
        """
        SELECT t.diversion_country, count(*), sum(w.quantity)
        FROM incidents_tracerequest AS t
        JOIN incidents_weaponitem AS w ON w.id = t.weapon_id
        WHERE w.incident_id IN (SELECT id FROM chosen) AND t.diversion_established
          AND t.answered_on BETWEEN %s AND %s
        GROUP BY 1 ORDER BY 3 DESC, 1
        """,
        (start, end),
    )


def persons_involved(incidents: QuerySet) -> list[tuple]:
    """(role, sex, age group, people): the gender-disaggregated figures."""
    return query(
        incidents,
        """
        SELECT p.role, p.sex, p.age_group, sum(p.count)
        FROM incidents_personsinvolved AS p WHERE p.incident_id IN (SELECT id FROM chosen)
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        """,
    )


def under_control_by_country_year(incidents: QuerySet) -> list[tuple]:
    """SDG 16.4.2 and IAFQ: per country where seized and year, the arms seized, found and
    surrendered, those of them with a trace request, and those whose point of diversion
    (illicit origin) a trace established.

    Rows: (country, year, seized, found, surrendered, total, trace requested, established).
    """
    return query(
        incidents,
        f"""
        , arms AS (
            SELECT chosen.country, extract(year FROM chosen.occurred_at AT TIME ZONE 'UTC')::int
                   AS year, {EVENT_CLASS_SQL} AS event, w.quantity,
                   EXISTS (SELECT 1 FROM incidents_tracerequest AS t WHERE t.weapon_id = w.id)
                   AS trace_requested,
                   EXISTS (SELECT 1 FROM incidents_tracerequest AS t
                           WHERE t.weapon_id = w.id AND t.diversion_established) AS established
            FROM chosen JOIN incidents_weaponitem AS w
                ON w.incident_id = chosen.id AND {RECOVERED}
        )
        SELECT COALESCE(country, ''), year,
               COALESCE(sum(quantity) FILTER (WHERE event = 'seized'), 0),
               COALESCE(sum(quantity) FILTER (WHERE event = 'found'), 0),
               COALESCE(sum(quantity) FILTER (WHERE event = 'surrendered'), 0),
               sum(quantity),
               COALESCE(sum(quantity) FILTER (WHERE trace_requested), 0),
               COALESCE(sum(quantity) FILTER (WHERE established), 0)
        FROM arms WHERE event IS NOT NULL
        GROUP BY 1, 2 ORDER BY 1, 2
        """,  # noqa: S608 - fragments are ours; values are parameters
        EVENT_CLASS_PARAMS,
    )


# SDG 16.4.2: the kind given to an origin that a trace answer established (the point of
# diversion) where no illicit-origin record says of which kind it was.
TRACE_KIND_NOT_STATED = "trace_kind_not_stated"


def sdg_16_4_2_arms(incidents: QuerySet) -> list[tuple]:
    """SDG 16.4.2: the recovered arms that came under control (seized, found, surrendered),
    grouped by country where they did and year, type of arm, and their established illicit
    origin, if any.

    An origin is established when the weapon has an illicit-origin record
    (incidents/origins.py: by trace, competent authority's finding, investigation or
    marking evidence; its kind, illicit manufacture included), or else when one of its trace
    requests, follow-ups included, established the point of diversion: its method is then a
    trace and its kind TRACE_KIND_NOT_STATED. Each weapon counts once, by its quantity,
    however many traces it has and whether it has a trace and a record or both.

    Rows: (country, year, category, origin kind or "", origin method or "", trace requested,
    arms)."""
    return query(
        incidents,
        f"""
        , arms AS (
            SELECT chosen.country, extract(year FROM chosen.occurred_at AT TIME ZONE 'UTC')::int
                   AS year, w.category, w.quantity, origin.kind, origin.method,
                   EXISTS (SELECT 1 FROM incidents_tracerequest AS t WHERE t.weapon_id = w.id)
                   AS trace_requested,
                   EXISTS (SELECT 1 FROM incidents_tracerequest AS t
                           WHERE t.weapon_id = w.id AND t.diversion_established) AS traced
            FROM chosen JOIN incidents_weaponitem AS w
                ON w.incident_id = chosen.id AND {RECOVERED}
            LEFT JOIN incidents_illicitorigin AS origin ON origin.weapon_id = w.id
            WHERE chosen.kind = ANY(%s)
        )
        SELECT COALESCE(country, ''), year, category,
               CASE WHEN kind IS NOT NULL THEN kind WHEN traced THEN %s ELSE '' END,
               CASE WHEN method IS NOT NULL THEN method WHEN traced THEN 'trace' ELSE '' END,
               trace_requested, sum(quantity)
        FROM arms GROUP BY 1, 2, 3, 4, 5, 6 ORDER BY 1, 2, 3, 4, 5, 6
        """,  # noqa: S608 - fragments are ours; values are parameters
        (list(UNDER_CONTROL_KINDS), TRACE_KIND_NOT_STATED),
    )


def under_control_by_category(incidents: QuerySet) -> list[tuple]:
    """IAFQ: (country, year, category, seized, found, surrendered, total)."""
    return query(
        incidents,
        f"""
        , arms AS (
            SELECT chosen.country, extract(year FROM chosen.occurred_at AT TIME ZONE 'UTC')::int
                   AS year, w.category, {EVENT_CLASS_SQL} AS event, w.quantity
            FROM chosen JOIN incidents_weaponitem AS w
                ON w.incident_id = chosen.id AND {RECOVERED}
        )
        SELECT COALESCE(country, ''), year, category,
               COALESCE(sum(quantity) FILTER (WHERE event = 'seized'), 0),
               COALESCE(sum(quantity) FILTER (WHERE event = 'found'), 0),
               COALESCE(sum(quantity) FILTER (WHERE event = 'surrendered'), 0),
               sum(quantity)
        FROM arms WHERE event IS NOT NULL
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 7 DESC, 3
        """,  # noqa: S608 - fragments are ours; values are parameters
        EVENT_CLASS_PARAMS,
    )


def seizure_points(incidents: QuerySet, cell_degrees: float = 0.1) -> list[tuple]:
    """(longitude, latitude, incidents, weapons) on a grid, from the locations the reader
    may see (generalised ones stay generalised): the dots of the static maps."""
    return query(
        incidents,
        f""", {WEAPONS_PER_INCIDENT}
        SELECT ST_X(cell), ST_Y(cell), count(*), COALESCE(sum(items), 0) FROM (
            SELECT ST_SnapToGrid(chosen.shown_location, %s) AS cell, weapons.items
            FROM chosen LEFT JOIN weapons ON weapons.incident_id = chosen.id
        ) AS located GROUP BY cell ORDER BY 1, 2
        """,  # noqa: S608 - fragments are ours; values are parameters
        (cell_degrees,),
    )


def monthly_counts(incidents: QuerySet) -> list[tuple]:
    """(month, incidents, weapons)."""
    return query(
        incidents,
        f""", {WEAPONS_PER_INCIDENT}
        SELECT date_trunc('month', chosen.occurred_at AT TIME ZONE 'UTC')::date, count(*),
               COALESCE(sum(weapons.items), 0)
        FROM chosen LEFT JOIN weapons ON weapons.incident_id = chosen.id
        GROUP BY 1 ORDER BY 1
        """,  # noqa: S608 - fragments are ours; values are parameters
    )


def capacity_indicators(incidents: QuerySet, scope_incidents: QuerySet, end: date) -> dict:
    """Signs of assistance and capacity needs in the records: weapons still held by the
    units that seized them, weapons whose markings were altered, records without a serial
    number (craft-produced weapons aside), and trace requests unanswered after 90 days."""
    (row,) = query(
        incidents,
        """
        SELECT COALESCE(sum(w.quantity), 0),
               COALESCE(sum(w.quantity) FILTER (WHERE w.disposition = 'held'), 0),
               COALESCE(sum(w.quantity) FILTER (WHERE w.markings_altered), 0),
               COALESCE(sum(w.quantity) FILTER (WHERE w.serial_number = ''
                                                AND w.category <> 'craft_produced'
                                                AND w.manufacture_mode <> 'craft'), 0)
        FROM incidents_weaponitem AS w WHERE w.incident_id IN (SELECT id FROM chosen)
        """,
    )
    ((overdue,),) = query(
        scope_incidents,
        """
        SELECT count(*) FROM incidents_tracerequest AS t
        JOIN incidents_weaponitem AS w ON w.id = t.weapon_id
        WHERE w.incident_id IN (SELECT id FROM chosen) AND t.status = 'sent'
          AND t.sent_on <= %s::date - 90
        """,
        (end,),
    )
    names = ("weapons", "held_by_units", "markings_altered", "without_serial")
    return {**dict(zip(names, map(int, row), strict=True)), "traces_overdue": int(overdue)}

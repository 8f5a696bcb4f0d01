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


# --- IAFQ (reports/documents/iafq.py) -------------------------------------------------------------
# The questionnaire's arms: recovered items that came under control, parts and components
# counted apart (their own table), as the questionnaire asks them apart.
IAFQ_ARMS = f"{RECOVERED} AND w.category <> 'part_component'"
IAFQ_PARTS = f"{RECOVERED} AND w.category = 'part_component'"
YEAR_SQL = "extract(year FROM chosen.occurred_at AT TIME ZONE 'UTC')::int"

# What the IAFQ tables of arms are broken down by: SQL over `chosen`, `i` (the incident's
# row), `w` (the weapon) and `made` (the manufacturer its make names, from the list).
IAFQ_ARMS_BY = {
    "justification": ("i.seizure_justification",),
    "context": ("chosen.context",),
    "country_of_manufacture": ("w.country_of_manufacture",),
    # The manufacturer of the list when the make names one, else the make as written; and
    # whether the list names it.
    "make": (
        "COALESCE(made.manufacturer_name, NULLIF(btrim(w.make), ''), '')",
        "made.manufacturer_name IS NOT NULL",
    ),
    # Records made before the way of manufacture was a field of its own say "craft" by
    # their category (incidents.choices.WeaponCategory).
    "manufacture_mode": (
        "CASE WHEN w.manufacture_mode = 'unknown' AND w.category = 'craft_produced'"
        " THEN 'craft' ELSE w.manufacture_mode END",
    ),
    # Altered (whether or not a serial is left), else unmarked (no serial), else marked.
    "marking": (
        "CASE WHEN w.markings_altered OR w.alteration_location <> '' THEN 'altered'"
        " WHEN btrim(w.serial_number) = '' THEN 'unmarked' ELSE 'serial' END",
    ),
}


def manufacturers_sql() -> tuple[str, tuple]:
    """Each weapon's manufacturer from the list (WeaponItemQuerySet.with_manufacturer, the
    one definition of the match), as SQL: columns id, manufacturer_name."""
    from incidents.models import WeaponItem

    named = WeaponItem.objects.with_manufacturer().order_by().values("id", "manufacturer_name")
    return named.query.sql_with_params()


def _by_event(incidents: QuerySet, *, joins: str, groups: tuple[str, ...], params=()) -> list:
    """(country, year, *groups, seized, found, surrendered, total) of the items that
    `joins` brings beside each chosen incident (as `w` or `a`, with a `quantity`), in
    incidents of the three IAFQ classes."""
    keys = ", ".join(f"{expression} AS g{n}" for n, expression in enumerate(groups))
    names = ", ".join(f"g{n}" for n in range(len(groups)))
    positions = ", ".join(str(n + 3) for n in range(len(groups)))
    return query(
        incidents,
        f"""
        , items AS (
            SELECT chosen.country, {YEAR_SQL} AS year, {EVENT_CLASS_SQL} AS event,
                   item.quantity, {keys}
            FROM chosen JOIN incidents_incident AS i ON i.id = chosen.id {joins}
        )
        SELECT COALESCE(country, ''), year, {names},
               COALESCE(sum(quantity) FILTER (WHERE event = 'seized'), 0),
               COALESCE(sum(quantity) FILTER (WHERE event = 'found'), 0),
               COALESCE(sum(quantity) FILTER (WHERE event = 'surrendered'), 0),
               sum(quantity)
        FROM items WHERE event IS NOT NULL
        GROUP BY 1, 2, {positions} ORDER BY 1, 2, sum(quantity) DESC, {positions}
        """,  # noqa: S608 - fragments are ours; values are parameters
        (*EVENT_CLASS_PARAMS, *params),
    )


def iafq_arms_by(incidents: QuerySet, breakdown: str) -> list[tuple]:
    """IAFQ: (country, year, *the breakdown's values, seized, found, surrendered, total)
    of the recovered arms, parts and components apart; `breakdown` a key of IAFQ_ARMS_BY."""
    made, made_params = manufacturers_sql()
    return _by_event(
        incidents,
        joins=f"""JOIN incidents_weaponitem AS w ON w.incident_id = chosen.id AND {IAFQ_ARMS}
            LEFT JOIN ({made}) AS made ON made.id = w.id
            CROSS JOIN LATERAL (SELECT w.quantity) AS item""",
        groups=IAFQ_ARMS_BY[breakdown],
        params=made_params,
    )


def iafq_parts(incidents: QuerySet) -> list[tuple]:
    """IAFQ: (country, year, components (codes, comma-separated, from the serials of the
    components) or None, model where no component is named, country of manufacture,
    seized, found, surrendered, total) of the recovered parts and components."""
    return _by_event(
        incidents,
        joins=f"""JOIN incidents_weaponitem AS w ON w.incident_id = chosen.id AND {IAFQ_PARTS}
            CROSS JOIN LATERAL (
                SELECT string_agg(DISTINCT part.entry ->> 'component', ','
                                  ORDER BY part.entry ->> 'component') AS components
                FROM jsonb_array_elements(CASE WHEN jsonb_typeof(w.component_serials) = 'array'
                     THEN w.component_serials ELSE '[]'::jsonb END) AS part(entry)
            ) AS named
            CROSS JOIN LATERAL (SELECT w.quantity) AS item""",  # noqa: S608 - ours
        groups=(
            "named.components",
            "CASE WHEN named.components IS NULL THEN btrim(w.model) ELSE '' END",
            "w.country_of_manufacture",
        ),
    )


def iafq_ammunition(incidents: QuerySet) -> list[tuple]:
    """IAFQ: (country, year, kind of ammunition, live or spent, country of manufacture,
    seized, found, surrendered, total), each kind in units of its own (rounds, grenades,
    bombs): never added across kinds."""
    return _by_event(
        incidents,
        joins="""JOIN incidents_ammunitionitem AS a ON a.incident_id = chosen.id
            CROSS JOIN LATERAL (SELECT a.quantity) AS item""",
        groups=("a.category", "a.state", "a.country_of_manufacture"),
    )


IAFQ_ARMS_PER_INCIDENT = f"""
    iafq_arms AS (
        SELECT w.incident_id, sum(w.quantity) AS items FROM incidents_weaponitem AS w
        WHERE w.incident_id IN (SELECT id FROM chosen) AND {IAFQ_ARMS} GROUP BY w.incident_id
    )
"""  # noqa: S608 - fragments are ours


def iafq_routes(incidents: QuerySet) -> list[tuple]:
    """IAFQ: the routes the seizures document (Incident.route_*): (country where the arms
    came under control, year, country of departure, transit countries (a list, in order),
    country of destination, incidents, arms)."""
    return query(
        incidents,
        f""", {IAFQ_ARMS_PER_INCIDENT}
        SELECT COALESCE(chosen.country, ''), {YEAR_SQL}, i.route_departure_country,
               i.route_transit_countries, i.route_destination_country, count(*),
               COALESCE(sum(iafq_arms.items), 0)
        FROM chosen JOIN incidents_incident AS i ON i.id = chosen.id
        LEFT JOIN iafq_arms ON iafq_arms.incident_id = chosen.id
        WHERE chosen.kind = ANY(%s)
          AND (i.route_departure_country <> '' OR i.route_destination_country <> ''
               OR cardinality(i.route_transit_countries) > 0)
        GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 7 DESC, 6 DESC, 3, 4, 5
        """,  # noqa: S608 - fragments are ours; values are parameters
        (list(UNDER_CONTROL_KINDS),),
    )


def iafq_trace_transit(incidents: QuerySet) -> list[tuple]:
    """IAFQ: the transit countries that trace answers established (TraceRequest.
    transit_countries): (country where the arms came under control, year, transit country,
    incidents, arms), each weapon counted once per transit country however many of its
    traces name it."""
    return query(
        incidents,
        f"""
        , crossed AS (
            SELECT DISTINCT chosen.id AS incident_id, chosen.country, {YEAR_SQL} AS year,
                   w.id AS weapon_id, w.quantity, transit.country AS transit
            FROM chosen JOIN incidents_weaponitem AS w
                ON w.incident_id = chosen.id AND {IAFQ_ARMS}
            JOIN incidents_tracerequest AS t ON t.weapon_id = w.id
            CROSS JOIN LATERAL unnest(t.transit_countries) AS transit(country)
            WHERE chosen.kind = ANY(%s)
        )
        SELECT COALESCE(country, ''), year, transit, count(DISTINCT incident_id), sum(quantity)
        FROM crossed GROUP BY 1, 2, 3 ORDER BY 1, 2, 5 DESC, 3
        """,  # noqa: S608 - fragments are ours; values are parameters
        (list(UNDER_CONTROL_KINDS),),
    )


def _trace_direction(addressee: str) -> str:
    """Domestic when the request went to the country where the arms came under control,
    international when to another; unknown when either country is not recorded."""
    return (
        f"CASE WHEN COALESCE({addressee}, '') = '' OR COALESCE(chosen.country, '') = ''"
        f" THEN 'unknown' WHEN {addressee} = chosen.country THEN 'domestic'"
        " ELSE 'international' END"
    )


def iafq_trace_requests(incidents: QuerySet) -> list[tuple]:
    """IAFQ: trace requests on the arms: (country, year, domestic / international /
    unknown, status, requests, of which follow-ups). A follow-up is a request of its own."""
    return query(
        incidents,
        f"""
        SELECT COALESCE(chosen.country, ''), {YEAR_SQL},
               {_trace_direction("t.addressee_country")}, t.status, count(*),
               count(*) FILTER (WHERE t.follows_id IS NOT NULL)
        FROM chosen JOIN incidents_weaponitem AS w ON w.incident_id = chosen.id AND {IAFQ_ARMS}
        JOIN incidents_tracerequest AS t ON t.weapon_id = w.id
        WHERE chosen.kind = ANY(%s)
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 5 DESC, 4
        """,  # noqa: S608 - fragments are ours; values are parameters
        (list(UNDER_CONTROL_KINDS),),
    )


# The addressee's country of the trace that established an origin: the one the origin
# names, else the latest that established the point of diversion.
ADDRESSEE = "COALESCE(named.addressee_country, latest.addressee_country)"


def iafq_origins(incidents: QuerySet) -> list[tuple]:
    """IAFQ: (country, year, kind of illicit origin, established by, arms) of the arms
    whose illicit origin was established, each weapon once: its IllicitOrigin (kind, and
    method; a trace's direction from the trace it names), else, where a trace established
    the point of diversion without an origin recorded, kind "not_recorded" by that trace
    (the latest). "Established by": the method, or trace_domestic, trace_international,
    trace_unknown."""
    return query(
        incidents,
        f"""
        , established AS (
            SELECT chosen.country, {YEAR_SQL} AS year, w.quantity,
                   COALESCE(o.kind, 'not_recorded') AS kind,
                   CASE WHEN COALESCE(o.method, 'trace') <> 'trace' THEN o.method
                        ELSE 'trace_' || {_trace_direction(ADDRESSEE)}
                   END AS established_by
            FROM chosen JOIN incidents_weaponitem AS w
                ON w.incident_id = chosen.id AND {IAFQ_ARMS}
            LEFT JOIN incidents_illicitorigin AS o ON o.weapon_id = w.id
            LEFT JOIN incidents_tracerequest AS named ON named.id = o.trace_id
            LEFT JOIN LATERAL (
                SELECT t.* FROM incidents_tracerequest AS t
                WHERE t.weapon_id = w.id AND t.diversion_established
                ORDER BY t.answered_on DESC NULLS LAST, t.sent_on DESC, t.id DESC LIMIT 1
            ) AS latest ON o.id IS NULL
            WHERE chosen.kind = ANY(%s) AND (o.id IS NOT NULL OR latest.id IS NOT NULL)
        )
        SELECT COALESCE(country, ''), year, kind, established_by, sum(quantity)
        FROM established GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        """,  # noqa: S608 - fragments are ours; values are parameters
        (list(UNDER_CONTROL_KINDS),),
    )


def iafq_arrests(incidents: QuerySet, *, by_sex_and_age: bool) -> list[tuple]:
    """IAFQ, criminal justice: (country, year, sex, age group, people arrested or detained)
    (PersonsInvolved.outcome "arrested"); sex and age '' unless `by_sex_and_age`."""
    detail = "p.sex, p.age_group" if by_sex_and_age else "'', ''"
    return query(
        incidents,
        f"""
        SELECT COALESCE(chosen.country, ''), {YEAR_SQL}, {detail}, sum(p.count)
        FROM chosen JOIN incidents_personsinvolved AS p ON p.incident_id = chosen.id
        WHERE p.outcome = 'arrested'
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        """,  # noqa: S608 - fragments are ours; values are parameters
    )


def iafq_seizure_persons(
    incidents: QuerySet, incident_ids: list[int], *, by_sex_and_age: bool
) -> list[tuple]:
    """IAFQ, significant seizures: (incident, role, sex, age group, people, of whom arrested
    or detained) of the incidents named; sex and age '' unless `by_sex_and_age`."""
    detail = "p.sex, p.age_group" if by_sex_and_age else "'', ''"
    return query(
        incidents,
        f"""
        SELECT chosen.id, p.role, {detail}, sum(p.count),
               COALESCE(sum(p.count) FILTER (WHERE p.outcome = 'arrested'), 0)
        FROM chosen JOIN incidents_personsinvolved AS p ON p.incident_id = chosen.id
        WHERE chosen.id = ANY(%s)
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        """,  # noqa: S608 - fragments are ours; values are parameters
        (list(incident_ids),),
    )

"""Bulk import of incidents and their weapons from CSV, XLSX or GeoJSON.

The file goes into a staging table through PostgreSQL's COPY; every cell of every row is
then checked in SQL at once, and every problem listed by row and column. Nothing is written
unless the file is clean. A clean file becomes incidents and weapons in set-based
INSERT … SELECT statements that also derive each incident's H3 cell, country and admin
area, and write the first history row of each record. Rows whose external reference the
contingent imported before are skipped, so importing a file again creates no duplicates.
"""

import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

import h3
import psycopg2
import rules
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.utils import DataError
from django.utils import translation
from django.utils.translation import gettext as _

from armsmonitor.jobs import JobAttempt, JobLost, JobMessages, job_enqueue, job_run
from geo.core.borders import border_tolerance_m, location_doubt_message
from geo.core.coordinates import METRES_PER_DEGREE, parse_coordinates
from incidents.choices import (
    PRECISION_LIMITS,
    PRECISION_ORDER,
    LocationPrecision,
    WeaponComponent,
    WorkflowState,
)
from incidents.imports.columns import (
    COLUMNS,
    COMPONENT_SEPARATORS,
    COMPONENT_SERIAL,
    COUNTRY_CODES,
    COUNTRY_SEPARATORS,
    DATE,
    FORMULA_PREFIXES,
    INCIDENT_COLUMNS,
    NO,
    NUMBER,
    ORIGIN_COLUMNS,
    OUTPUT_ONLY_COLUMNS,
    TIMESTAMP,
    WEAPON_COLUMNS,
    WHOLE_NUMBER,
    YES,
    Column,
)
from incidents.imports.files import (
    NO_ROWS,
    ROW_PROBLEM,
    ImportFileError,
    csv_for_copy,
    upload_display_name,
)
from incidents.registry.hits import hits_check_soon
from incidents.services import H3_RESOLUTION
from organisations.audit import record_write
from organisations.models import Contingent

MAX_LISTED_PROBLEMS = 1_000
# Map cells for the country lookup: points in a cell that no boundary crosses take the
# cell's country; only points in cells on a boundary are tested one by one.
CELLS_PER_DEGREE = 10
# Nearest places are looked up at once for this many new incidents; beyond, by a task.
NEAREST_PLACE_INLINE_LIMIT = 20_000
# While a file goes into the staging table, its job's page is told the rows read so far
# this often (each a write on a connection of its own).
PROGRESS_ROWS = 5_000

Progress = Callable[[int, str], None]


@dataclass
class Problem:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"row {self.row}, {self.column}: {self.message}"


@dataclass
class ImportReport:
    rows: int = 0
    incidents_created: int = 0
    weapons_created: int = 0
    incidents_already_imported: int = 0
    problems: list[Problem] = field(default_factory=list)
    problem_count: int = 0
    file_error: str = ""

    @property
    def ok(self) -> bool:
        return not self.file_error and not self.problem_count

    def as_dict(self) -> dict:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "incidents_created": self.incidents_created,
            "weapons_created": self.weapons_created,
            "incidents_already_imported": self.incidents_already_imported,
            "file_error": self.file_error,
            "problem_count": self.problem_count,
            "problems": [vars(problem) for problem in self.problems],
        }


# --- the checks, one SQL expression per column --------------------------------------

EMPTY = "''"
# Latitude and longitude are always read from the staging table: rows that gave
# `coordinates` instead have them filled in before the checks.
LOCATED = frozenset({"latitude", "longitude"})
YES_WORDS = ", ".join(f"'{word}'" for word in YES)
NO_WORDS = ", ".join(f"'{word}'" for word in NO)


def _position(name: str) -> int:
    return [column.name for column in COLUMNS].index(name) + 1


def _value(column: Column, present: frozenset[str]) -> str:
    """The trimmed cell; a column the file does not have is the empty string, which
    PostgreSQL folds away when it plans the checks and casts."""
    return f'btrim(r."{column.name}")' if column.name in present else EMPTY


FORMULA_CODES = ", ".join(str(ord(prefix)) for prefix in FORMULA_PREFIXES)


def _text(value: str) -> str:
    """SQL for the text of a cell, without the ' that an export (or a spreadsheet) put
    before text that would read as a formula: '=SUM is the text =SUM."""
    return (
        f"CASE WHEN left({value}, 1) = '''' AND ascii(substr({value}, 2)) IN ({FORMULA_CODES})"
        f" THEN substr({value}, 2) ELSE {value} END"
    )


def _sql_message(template: str, **parts: str) -> str:
    """SQL for a message in the language in force (the job's: import_job_run), whose
    %(name)s placeholders are the SQL expressions `parts`. The statements run with
    parameters, hence % doubled in the text."""
    pieces = re.split(r"%\((\w+)\)s", str(template))
    sql = [
        f"({parts[piece]})" if odd else "'" + piece.replace("'", "''").replace("%", "%%") + "'"
        for odd, piece in ((number % 2, piece) for number, piece in enumerate(pieces))
        if odd or piece
    ]
    return " || ".join(sql) or "''"


def _check(column: Column, present: frozenset[str]) -> str:
    """A CASE expression: NULL when the cell is fine, else the message. Casts come after
    the pattern tests, so a bad cell never raises."""
    v = _value(column, present)
    shown = f"quote_literal({v})"
    cases = []
    if column.required:
        cases.append(f"WHEN {v} = '' THEN {_sql_message(_('is required'))}")
    else:
        cases.append(f"WHEN {v} = '' THEN NULL")
    if column.kind == "text":
        too_long = _sql_message(_("is longer than %(limit)s characters"), limit=str(column.limit))
        cases.append(f"WHEN length({_text(v)}) > {column.limit} THEN {too_long}")
    elif column.kind == "choice":
        allowed = ", ".join(column.allowed).replace("'", "''")
        not_one_of = _sql_message(
            _("%(value)s is not one of %(allowed)s"), value=shown, allowed=f"'{allowed}'"
        )
        cases.append(
            f"WHEN (%(map_{column.name})s::jsonb ->> lower({v})) IS NULL THEN {not_one_of}"
        )
    elif column.kind == "timestamp":
        not_a_date = _sql_message(
            _("%(value)s is not a date: write YYYY-MM-DD or YYYY-MM-DDTHH:MM"), value=shown
        )
        cases.append(f"WHEN {v} !~ '{TIMESTAMP}' THEN {not_a_date}")
        no_such_day = _sql_message(_("%(value)s is not a date"), value=shown)
        cases.append(f"WHEN NOT {_day_exists(v)} THEN {no_such_day}")
        future = _sql_message(_("%(value)s is in the future"), value=v)
        cases.append(f"WHEN {v}::timestamptz > now() THEN {future}")
    elif column.kind == "date":
        not_a_date = _sql_message(_("%(value)s is not a date: write YYYY-MM-DD"), value=shown)
        cases.append(f"WHEN {v} !~ '{DATE}' THEN {not_a_date}")
        no_such_day = _sql_message(_("%(value)s is not a date"), value=shown)
        cases.append(f"WHEN NOT {_day_exists(v)} THEN {no_such_day}")
        future = _sql_message(_("%(value)s is in the future"), value=v)
        cases.append(f"WHEN {v}::date > current_date THEN {future}")
    elif column.kind in ("number", "whole_number"):
        if column.kind == "number":
            pattern, cast = NUMBER, "float8"
            not_a_number = _sql_message(_("%(value)s is not a number"), value=shown)
        else:
            pattern, cast = WHOLE_NUMBER, "int"
            not_a_number = _sql_message(_("%(value)s is not a whole number"), value=shown)
        cases.append(f"WHEN {v} !~ '{pattern}' THEN {not_a_number}")
        out_of_range = _sql_message(
            _("%(column)s %(value)s is out of range (%(low)s to %(high)s)"),
            column=f"'{column.name}'",
            value=v,
            low=f"'{column.low:g}'",
            high=f"'{column.high:g}'",
        )
        cases.append(
            f"WHEN {v}::{cast} NOT BETWEEN {column.low:g} AND {column.high:g} THEN {out_of_range}"
        )
    elif column.kind == "yes_no":
        not_yes_or_no = _sql_message(_("%(value)s is not yes or no"), value=shown)
        cases.append(f"WHEN lower({v}) NOT IN ({YES_WORDS}, {NO_WORDS}) THEN {not_yes_or_no}")
    elif column.kind == "country":
        not_a_country = _sql_message(
            _("%(value)s is not an ISO 3166-1 alpha-3 country code"), value=shown
        )
        cases.append(f"WHEN upper({v}) <> ALL(%(countries)s) THEN {not_a_country}")
    elif column.kind == "country_list":
        codes = _listed_countries(v)
        not_a_country = _sql_message(
            _("%(value)s is not an ISO 3166-1 alpha-3 country code"), value="quote_literal(code)"
        )
        cases.append(
            f"WHEN (SELECT count(*) FROM {codes}) > {column.limit} THEN "
            + _sql_message(_("lists more than %(limit)s countries"), limit=f"'{column.limit}'")
        )
        cases.append(
            f"WHEN EXISTS (SELECT FROM {codes} WHERE upper(code) <> ALL(%(countries)s)) THEN "
            f"(SELECT {not_a_country} FROM {codes} WHERE upper(code) <> ALL(%(countries)s) "
            "ORDER BY position LIMIT 1)"
        )
    elif column.kind == "component_serials":
        entries = _component_entries(v)
        not_a_component_serial = _sql_message(
            _(
                "%(value)s is not a component and its serial: write component: serial, "
                "entries separated by semicolons, components among %(allowed)s"
            ),
            value="quote_literal(piece)",
            allowed="'" + ", ".join(WeaponComponent.values) + "'",
        )
        cases.append(
            f"WHEN (SELECT count(*) FROM {entries}) > {column.limit} THEN "
            + _sql_message(_("lists more than %(limit)s components"), limit=f"'{column.limit}'")
        )
        cases.append(
            f"WHEN EXISTS (SELECT FROM {entries} WHERE piece !~* '{COMPONENT_SERIAL}') THEN "
            f"(SELECT {not_a_component_serial} FROM {entries} "
            f"WHERE piece !~* '{COMPONENT_SERIAL}' ORDER BY position LIMIT 1)"
        )
    return f"CASE {' '.join(cases)} END"


def _day_exists(v: str) -> str:
    """SQL: the day of a cell that starts like YYYY-MM-DD is in its month."""
    return (
        f"substr({v}, 9, 2)::int <= extract(day from make_date("
        f"substr({v}, 1, 4)::int, substr({v}, 6, 2)::int, 1) + interval '1 month - 1 day')"
    )


def _a_date(v: str, pattern: str) -> str:
    """SQL: the cell casts to a date without error (it matches `pattern`, which starts with
    YYYY-MM-DD, and its day exists). A CASE, so that the day is only read from a match."""
    return f"CASE WHEN {v} ~ '{pattern}' THEN {_day_exists(v)} ELSE false END"


def _component_entries(v: str) -> str:
    """SQL rows (piece, position) of a component_serials cell: its trimmed, non-empty
    entries, in the order written."""
    return (
        f"(SELECT btrim(piece) AS piece, position FROM regexp_split_to_table("
        f"{_text(v)}, '{COMPONENT_SEPARATORS}') WITH ORDINALITY AS entry(piece, position) "
        f"WHERE btrim(piece) <> '') AS entries"
    )


def _listed_countries(v: str) -> str:
    """SQL rows (code, position) of a country_list cell, in the order written."""
    return (
        f"(SELECT code, position FROM regexp_split_to_table({v}, '{COUNTRY_SEPARATORS}') "
        "WITH ORDINALITY AS listed(code, position) WHERE code <> '') AS codes"
    )


def _component_serials_json(v: str) -> str:
    """The stored list (incidents/component_serials.py) of a checked cell."""
    return (
        "(SELECT coalesce(jsonb_agg(jsonb_build_object("
        "'component', lower(btrim(split_part(piece, ':', 1))), "
        "'serial', btrim(substr(piece, strpos(piece, ':') + 1))) ORDER BY position), "
        f"'[]'::jsonb) FROM {_component_entries(v)})"
    )


def _cast(column: Column, present: frozenset[str]) -> str:
    """The typed value of a checked cell, or the column's default when it is empty."""
    v = _value(column, present)
    default = column.default or (EMPTY if column.kind in ("text", "choice", "country") else "NULL")
    if column.name not in present:
        # Not a CASE on a constant: PostgreSQL folds constants even in branches never taken.
        return default
    typed = {
        "text": _text(v),
        "choice": f"(%(map_{column.name})s::jsonb ->> lower({v}))",
        "timestamp": f"{v}::timestamptz",
        "date": f"{v}::date",
        "number": f"{v}::float8",
        "whole_number": f"{v}::int",
        "yes_no": f"lower({v}) IN ({YES_WORDS})",
        "country": f"upper({v})",
        "component_serials": _component_serials_json(v),
        "country_list": f"ARRAY(SELECT upper(code) FROM {_listed_countries(v)} ORDER BY position)",
    }[column.kind]
    return f"CASE WHEN {v} = '' THEN {default} ELSE {typed} END"


def _signature(columns: list[Column], present: frozenset[str]) -> str:
    # A 64-bit hash: cheaper to compute and to sort than an md5 text; two different rows
    # sharing one is a chance of about 1 in 10^9 for a million rows.
    cells = ", ".join(_value(c, present) for c in columns if c.name in present)
    return f"hashtextextended(concat_ws(chr(31), {cells}), 0)"


WEAPON_ID = Column("weapon_id", "text")


def _problems_sql(present: frozenset[str]) -> str:
    checks = ",\n            ".join(
        f"'{position:02d}|{column.name}|' || {_check(column, present)}"
        for position, column in enumerate(COLUMNS, start=1)
        if column.name in present
    )
    weapon_detail = (
        " OR ".join(
            f"{_value(c, present)} <> ''"
            for c in WEAPON_COLUMNS
            if c.name != "weapon_category" and c.name in present
        )
        or "false"
    )
    reference = _value(COLUMNS[0], present)
    return PROBLEMS_SQL.format(
        origin_checks=_origin_checks(present),
        # An export's weapon_id tells apart identical weapons of one incident.
        every_cell=_signature([*COLUMNS, WEAPON_ID], present),
        incident_cells=_signature(INCIDENT_COLUMNS, present),
        reference=reference,
        checks=checks,
        weapon_detail=weapon_detail,
        category=_value(next(c for c in COLUMNS if c.name == "weapon_category"), present),
        repeats_row=_sql_message(_("repeats row %(row)s"), row="r.first_same_row"),
        give_location=_sql_message(_("give latitude and longitude, or coordinates")),
        other_incident_values=_sql_message(
            _(
                "%(reference)s is on row %(row)s with other incident values; rows of one "
                "incident must agree"
            ),
            reference="btrim(r.external_reference)",
            row="r.first_of_reference",
        ),
        category_required=_sql_message(_("is required when the row describes a weapon")),
        latitude_position=_position("latitude"),
        category_position=_position("weapon_category"),
        max_problems=MAX_LISTED_PROBLEMS,
    )


def _origin_checks(present: frozenset[str]) -> str:
    """Checks across a row's illicit-origin cells, as the service checks a form's
    (incidents.services.illicit_origin_record): what an origin needs when any of its cells
    is filled, and a diversion no later than the recovery."""
    columns = {column.name: column for column in COLUMNS}
    filled = (
        " OR ".join(f"{_value(c, present)} <> ''" for c in ORIGIN_COLUMNS if c.name in present)
        or "false"
    )
    needed = _sql_message(_("is required when the row gives an illicit origin"))
    checks = [
        f"CASE WHEN ({filled}) AND {_value(column, present)} = '' "
        f"THEN '{_position(column.name):02d}|{column.name}|' || {needed} END"
        for column in ORIGIN_COLUMNS
        if column.needed_by_origin
    ]
    if "weapon_origin_diversion_date" not in present:
        # (Not a check on a constant: PostgreSQL folds its casts even where never reached.)
        return ",\n            ".join(checks)
    diverted = _value(columns["weapon_origin_diversion_date"], present)
    recovered = _value(columns["occurred_at"], present)
    after_recovery = _sql_message(
        _("%(value)s is after the weapon was recovered (%(recovered)s)"),
        value=diverted,
        recovered=f"left({recovered}, 10)",
    )
    checks.append(
        f"CASE WHEN {_a_date(diverted, DATE)} AND {_a_date(recovered, TIMESTAMP)} "
        f"AND {diverted}::date > ({recovered})::timestamptz::date "
        f"THEN '{_position('weapon_origin_diversion_date'):02d}|weapon_origin_diversion_date|' "
        f"|| {after_recovery} END"
    )
    return ",\n            ".join(checks)


# Each check yields "position|column|message" or NULL; clean rows end with no problem, so
# only the (few) rows with problems are unpacked.
PROBLEMS_SQL = """
WITH signature AS (
    SELECT r.row_number, {reference} COLLATE "C" AS reference,
        {every_cell} AS every_cell, {incident_cells} AS incident_cells
    FROM import_row AS r
), first_rows AS (
    -- Sorted for the windows as narrow rows (a number and three keys), not whole rows.
    SELECT row_number,
        min(row_number) OVER (PARTITION BY every_cell) AS first_same_row,
        first_value(row_number) OVER (
            PARTITION BY reference, incident_cells ORDER BY row_number) AS first_same_incident,
        min(row_number) OVER (PARTITION BY reference) AS first_of_reference
    FROM signature
), rows AS (
    SELECT r.*, f.first_same_row, f.first_same_incident, f.first_of_reference
    FROM import_row AS r JOIN first_rows AS f USING (row_number)
), checked AS (
    SELECT r.row_number, array_remove(ARRAY[
            '00|(row)|' || NULLIF(r.row_problem, ''),
            CASE WHEN r.first_same_row < r.row_number
                 THEN '00|(row)|' || {repeats_row} END,
            {checks},
            CASE WHEN btrim(r.latitude) = '' AND btrim(r.coordinates) = ''
                      AND r.row_problem = ''
                 THEN '{latitude_position:02d}|latitude|' || {give_location} END,
            CASE WHEN r.first_same_row = r.row_number
                      AND r.first_same_incident <> r.first_of_reference
                 THEN '01|external_reference|' || {other_incident_values} END,
            CASE WHEN {category} = '' AND ({weapon_detail})
                 THEN '{category_position:02d}|weapon_category|' || {category_required} END,
            {origin_checks}
        ], NULL) AS problems
    FROM rows AS r
), found AS (
    SELECT c.row_number, regexp_match(problem, '^([0-9]+)[|]([^|]*)[|](.*)$', 's') AS parts
    FROM checked AS c, unnest(c.problems) AS problem
    WHERE cardinality(c.problems) > 0
)
SELECT row_number, parts[2], parts[3], count(*) OVER () FROM found
ORDER BY row_number, parts[1]::int LIMIT {max_problems}
"""


def _incident_select(present: frozenset[str]) -> str:
    casts = ",\n    ".join(
        f'{_cast(c, present)} AS "{c.name}"' for c in INCIDENT_COLUMNS if c.name != "coordinates"
    )
    by_name = {column.name: column for column in INCIDENT_COLUMNS}
    return f"""
CREATE TEMP TABLE import_incident ON COMMIT DROP AS
SELECT DISTINCT ON (btrim(r.external_reference)) r.row_number,
    {casts},
    floor({_cast(by_name["longitude"], LOCATED)} * {CELLS_PER_DEGREE})::int AS cell_x,
    floor({_cast(by_name["latitude"], LOCATED)} * {CELLS_PER_DEGREE})::int AS cell_y
FROM import_row AS r
ORDER BY btrim(r.external_reference), r.row_number
"""


def _written_precision_sql() -> str:
    """The precision that `uncertainty` (metres, SQL) amounts to, as precision_of says."""
    cases = " ".join(
        f"WHEN uncertainty <= {limit} THEN '{precision}'" for limit, precision in PRECISION_LIMITS
    )
    return f"CASE {cases} ELSE '{LocationPrecision.ADMIN_AREA}' END"


def _decimals_sql(cell: str) -> str:
    return f"CASE WHEN strpos({cell}, '.') > 0 THEN length(split_part({cell}, '.', 2)) ELSE 0 END"


# A point is never more precise than it was written (as in the form and the API): 4.4, 18.6
# is good to about 11 km whatever precision the row claims. Decimal degrees: the coarser of
# the two numbers; other notations: what parse_coordinates judged.
PRECISION_RANK = "ARRAY[" + ", ".join(f"'{p}'" for p in PRECISION_ORDER) + "]::text[]"
NO_MORE_PRECISE_THAN_WRITTEN = f"""
UPDATE import_incident AS s
SET location_precision = ({PRECISION_RANK})[greatest(
        array_position({PRECISION_RANK}, s.location_precision),
        array_position({PRECISION_RANK}, written.precision))]
FROM (
    SELECT row_number, {_written_precision_sql()} AS precision
    FROM (
        SELECT r.row_number, COALESCE(r.written_uncertainty_m,
            {METRES_PER_DEGREE}::float8 / 10 ^ least(
                {_decimals_sql("btrim(r.latitude)")}, {_decimals_sql("btrim(r.longitude)")}))
            AS uncertainty
        FROM import_row AS r
    ) AS measured
) AS written
WHERE written.row_number = s.row_number
"""


# Cells with no boundary within the border tolerance take the country of their centre,
# found once per cell; points in the others are placed one by one (geo/core/borders.py).
# The boundary, not the parts' rings: a line that cuts a country into parts is no border.
CELL_COUNTRIES = f"""
CREATE TEMP TABLE import_cell ON COMMIT DROP AS
SELECT cell_x, cell_y,
    EXISTS (SELECT 1 FROM geo_countryedge AS e
            WHERE NOT e.part_ring AND ST_Intersects(e.edge, ST_Expand(
        ST_MakeEnvelope(
            cell_x::float8 / {CELLS_PER_DEGREE}, cell_y::float8 / {CELLS_PER_DEGREE},
            (cell_x + 1)::float8 / {CELLS_PER_DEGREE}, (cell_y + 1)::float8 / {CELLS_PER_DEGREE},
            4326),
        %(tolerance)s / 111320.0
            / greatest(cos(radians((abs(cell_y) + 1)::float8 / {CELLS_PER_DEGREE})), 0.01),
        %(tolerance)s / 110574.0))) AS on_boundary
FROM (SELECT DISTINCT cell_x, cell_y FROM import_incident) AS cells;
ALTER TABLE import_cell ADD COLUMN country text;
UPDATE import_cell SET country = COALESCE((
    SELECT part.country_id FROM geo_countrypart AS part
    WHERE ST_Covers(part.part, ST_SetSRID(ST_MakePoint(
        (cell_x + 0.5) / {CELLS_PER_DEGREE}, (cell_y + 0.5) / {CELLS_PER_DEGREE}), 4326))
    ORDER BY part.country_id LIMIT 1), '')
WHERE NOT on_boundary;
CREATE INDEX ON import_cell (cell_x, cell_y);
"""


# A stated country must be one the point can be in: within the border tolerance of its
# boundary (a cell with no boundary near: the cell's own country).
# Every point placed once (geo/core/borders.py), for the checks below and the insert: in a cell
# near a boundary one by one, elsewhere by its cell; `country` is the stated one where the
# row gives it, `derived` the point's own; `candidates` the countries it can be in.
PLACE_POINTS = """
CREATE TEMP TABLE import_place ON COMMIT DROP AS
-- Two branches rather than a condition on the call: geo_country_near is inlined into the
-- join, and a condition beside it would be tested after placing every point of the file.
SELECT s.row_number, position.point, near.country AS derived,
    CASE WHEN s.country <> '' THEN s.country ELSE near.country END AS country,
    near.near_border, near.candidates
FROM import_incident AS s
JOIN import_cell AS cell USING (cell_x, cell_y)
CROSS JOIN LATERAL ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326) AS position(point)
CROSS JOIN LATERAL geo_country_near(position.point, %(hosts)s, %(tolerance)s) AS near
WHERE cell.on_boundary
UNION ALL
SELECT s.row_number, ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326), cell.country,
    CASE WHEN s.country <> '' THEN s.country ELSE cell.country END,
    false, ARRAY[cell.country]
FROM import_incident AS s
JOIN import_cell AS cell USING (cell_x, cell_y)
WHERE NOT cell.on_boundary;
CREATE UNIQUE INDEX ON import_place (row_number);
ANALYZE import_place;
"""

# A stated country must be one the point can be in: within the border tolerance of its
# boundary (a cell with no boundary near: the cell's own country).
STATED_COUNTRIES_CONTRADICTED = """
SELECT s.row_number, s.country, place.derived
FROM import_incident AS s JOIN import_place AS place USING (row_number)
WHERE s.country <> '' AND NOT s.country = ANY(place.candidates)
ORDER BY s.row_number
"""


def _stated_countries_contradicted(cursor, parameters: dict) -> list[Problem]:
    cursor.execute(STATED_COUNTRIES_CONTRADICTED, parameters)
    tolerance_km = parameters["tolerance"] / 1000
    return [
        Problem(
            row,
            "country",
            (
                _("%(stated)s is more than %(km)s km from the point, which lies in %(derived)s")
                if derived
                else _("%(stated)s is more than %(km)s km from the point, which lies in no country")
            )
            % {"stated": stated, "km": f"{tolerance_km:g}", "derived": derived},
        )
        for row, stated, derived in cursor.fetchall()
    ]


# Points a person must confirm or correct (geo_location_doubt), unless the row says yes in
# location_confirmed. Judged by country only where boundaries are loaded.
DOUBTED_LOCATIONS = """
SELECT row_number, doubt, country FROM (
    SELECT s.row_number, place.country, geo_location_doubt(
        place.point,
        place.country,
        -- A country the row states was said by a person: not doubted, only checked above.
        CASE WHEN s.country <> '' THEN array_append(%(hosts)s::text[], s.country)
             ELSE %(hosts)s::text[] END,
        (SELECT area_of_operations FROM organisations_mission WHERE id = %(mission)s),
        %(tolerance)s,
        (SELECT EXISTS (SELECT 1 FROM geo_countrypart))) AS doubt
    FROM import_incident AS s JOIN import_place AS place USING (row_number)
    WHERE NOT s.location_confirmed
) AS judged
WHERE doubt IS NOT NULL
ORDER BY row_number
"""


def _doubted_locations(cursor, parameters: dict) -> list[Problem]:
    cursor.execute(DOUBTED_LOCATIONS, parameters)
    return [
        Problem(
            row,
            "latitude",
            _("%(doubt)s. Correct it, or write yes in location_confirmed to import it as it is.")
            % {
                "doubt": location_doubt_message(
                    doubt, country=country, host_countries=parameters["hosts"]
                )
            },
        )
        for row, doubt, country in cursor.fetchall()
    ]


# The template's incident columns written to the incident as the file gives them (checked
# and cast); the others are read in other ways: the point from latitude and longitude or
# coordinates, the country from the point (checked against a stated one), and
# location_confirmed only lifts a doubt.
COPIED_INCIDENT_COLUMNS = [
    column.name
    for column in INCIDENT_COLUMNS
    if column.name not in ("latitude", "longitude", "coordinates", "country", "location_confirmed")
]
# The incident's columns the import derives or sets itself, beside the copied ones.
DERIVED_INCIDENT_COLUMNS = [
    "location",
    "h3_cell",
    "contingent_id",
    "mission_id",
    "reported_by_id",
    "state",
    "return_comment",
    "withdrawn_reason",
    "country",
    "near_border",
    "admin_area_id",
    "created_at",
    "updated_at",
]


def _insert_incidents_sql(history_columns: list[str]) -> str:
    """Insert the new incidents, and their first history rows from what the insert returns
    (rather than reading the new rows back)."""
    columns = ", ".join(history_columns)
    return INSERT_INCIDENTS.format(
        returned=columns,
        history_columns=columns,
        copied=", ".join(COPIED_INCIDENT_COLUMNS),
        copied_values=", ".join(f"s.{name}" for name in COPIED_INCIDENT_COLUMNS),
        derived=", ".join(DERIVED_INCIDENT_COLUMNS),
    )


INSERT_INCIDENTS = """
WITH located AS (
    SELECT s.*, place.point, place.country AS placed_country,
           place.near_border AS placed_near_border
    FROM import_incident AS s
    JOIN import_place AS place USING (row_number)
    -- The condition of the partial unique index (contingent, external_reference), repeated
    -- so that the planner may use it: without it, each row scans the contingent's incidents.
    WHERE NOT EXISTS (SELECT 1 FROM incidents_incident AS existing
                      WHERE existing.contingent_id = %(contingent)s
                        AND existing.external_reference = s.external_reference
                        AND existing.external_reference <> '')
), created AS (
    INSERT INTO incidents_incident ({copied}, {derived})
    SELECT {copied_values}, s.point, cells.h3_cell,
        %(contingent)s, %(mission)s, %(user)s, %(state)s, '', '',
        s.placed_country, s.placed_near_border,
        (SELECT area.id FROM geo_adminarea AS area WHERE ST_Covers(area.boundary, s.point)
         ORDER BY area.level DESC, area.id LIMIT 1),
        now(), now()
    FROM located AS s JOIN import_h3 AS cells USING (row_number)
    RETURNING {returned}
), history AS (
    INSERT INTO incidents_historicalincident ({history_columns}, history_date,
        history_change_reason, history_type, history_user_id)
    SELECT {history_columns}, now(), 'import', '+', %(user)s FROM created
)
INSERT INTO import_created SELECT id, external_reference FROM created
"""


def _weapon_insert(present: frozenset[str]) -> str:
    """The weapons, each row's new weapon id kept in import_weapon for its illicit origin.
    (A CTE read twice is computed once: one id a row.)"""
    # The weapon columns are the item's fields, prefixed.
    columns = [c for c in WEAPON_COLUMNS if not c.origin]
    fields = ", ".join(c.name.removeprefix("weapon_") for c in columns)
    casts = ", ".join(_cast(c, present) for c in columns)
    reference = _cast(COLUMNS[0], present)
    # The casts are written in the INSERT's own SELECT, where PostgreSQL types them by the
    # table's columns (in a CTE, an empty column's NULL would be text).
    return f"""
WITH numbered AS (
    SELECT r.row_number,
           nextval(pg_get_serial_sequence('incidents_weaponitem', 'id')) AS weapon_id,
           created.id AS incident_id
    FROM import_row AS r
    JOIN import_created AS created ON created.external_reference = {reference}
    WHERE btrim(r.weapon_category) <> ''
), inserted AS (
    INSERT INTO incidents_weaponitem (id, incident_id, {fields}, disposition)
    SELECT numbered.weapon_id, numbered.incident_id, {casts}, 'held'
    FROM numbered JOIN import_row AS r USING (row_number)
)
INSERT INTO import_weapon SELECT row_number, weapon_id FROM numbered
"""


def _origin_insert(present: frozenset[str]) -> str:
    """The illicit origins the rows give, of the weapons just inserted."""
    fields = ", ".join(c.name.removeprefix("weapon_origin_") for c in ORIGIN_COLUMNS)
    casts = ", ".join(_cast(c, present) for c in ORIGIN_COLUMNS)
    filled = " OR ".join(f"{_value(c, present)} <> ''" for c in ORIGIN_COLUMNS)
    return f"""
INSERT INTO incidents_illicitorigin (weapon_id, {fields}, recorded_by_id, recorded_at)
SELECT weapon.weapon_id, {casts}, %(user)s, now()
FROM import_row AS r JOIN import_weapon AS weapon USING (row_number)
WHERE {filled}
"""


def _history_sql(table: str, history_table: str, fields: list[str], where: str) -> str:
    # Table and column names come from the models, never from the file.
    columns = ", ".join(fields)
    return (
        f"INSERT INTO {history_table} ({columns}, history_date, history_change_reason, "
        f"history_type, history_user_id) SELECT {columns}, now(), 'import', '+', %(user)s "
        f"FROM {table} WHERE {where}"
    )


def _history_fields(model) -> list[str]:
    tracked = {f.attname for f in model.history.model._meta.concrete_fields}
    return [f.column for f in model._meta.concrete_fields if f.attname in tracked]


# --- the import ----------------------------------------------------------------------


class _RowsRead(io.RawIOBase):
    """The file on its way into COPY, telling `progress` every PROGRESS_ROWS lines how many
    rows have gone in (lines, less the header: a cell holding a new line counts twice, so
    the figure is about right until the count at the end)."""

    def __init__(self, stream: BinaryIO, progress: Progress):
        super().__init__()
        self.stream, self.progress = stream, progress
        self.lines, self.reported = 0, 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        chunk = self.stream.read(size)
        self.lines += chunk.count(b"\n")
        if self.lines - self.reported >= PROGRESS_ROWS:
            self.reported = self.lines
            self.progress(self.lines - 1, "reading")
        return chunk


def _stage(
    cursor, upload: BinaryIO, file_format: str, progress: Progress | None = None
) -> tuple[int, list[str]]:
    """COPY the file into import_row; return how many rows it holds, and its columns."""
    source = csv_for_copy(upload, file_format)
    stream = _RowsRead(source.stream, progress) if progress else source.stream
    cursor.execute(f"""
        CREATE TEMP TABLE import_row (
            row_number bigint GENERATED ALWAYS AS IDENTITY (START WITH 2),
            {", ".join(f'"{c.name}" text NOT NULL DEFAULT {EMPTY}' for c in COLUMNS)},
            {", ".join(f'"{name}" text NOT NULL DEFAULT {EMPTY}' for name in OUTPUT_ONLY_COLUMNS)},
            {ROW_PROBLEM} text NOT NULL DEFAULT '',
            -- How far the true point may be, as the coordinates were written (metres).
            written_uncertainty_m float8
        ) ON COMMIT DROP
    """)
    file_columns = ", ".join(f'"{name}"' for name in source.columns)
    try:
        cursor.copy_expert(
            f"COPY import_row ({file_columns}) FROM STDIN WITH "
            f"(FORMAT csv, HEADER true, FORCE_NOT_NULL ({file_columns}))",
            stream,
        )
    except (psycopg2.DataError, DataError, psycopg2.errors.BadCopyFileFormat) as error:
        raise ImportFileError(_copy_error_message(error)) from error
    cursor.execute("SELECT count(*) FROM import_row")
    rows = cursor.fetchone()[0]
    if rows == 0:
        raise ImportFileError(NO_ROWS)
    # Temporary tables are never analysed by autovacuum: without statistics the planner
    # takes the staged rows for a handful, and joins them row by row.
    cursor.execute("ANALYZE import_row")
    return rows, source.columns


def _copy_error_message(error: Exception) -> str:
    cause = getattr(error, "__cause__", None) or error
    diagnostics = getattr(cause, "diag", None)
    where = (diagnostics.context or "") if diagnostics else ""
    line = where.rsplit("line ", 1)[-1].split(",")[0].split(":")[0] if "line " in where else "?"
    detail = (diagnostics.message_primary if diagnostics else str(cause)) or str(cause)
    if "encoding" in detail or "byte sequence" in detail:
        return _("The file is not UTF-8 text (line %(line)s); save it as 'CSV UTF-8'.") % {
            "line": line
        }
    if "unterminated CSV quoted field" in detail:
        return _("The file ends inside a quoted cell (line %(line)s): was it cut short?") % {
            "line": line
        }
    return _("Line %(line)s of the file cannot be read: %(detail)s.") % {
        "line": line,
        "detail": detail,
    }


def _read_coordinates(cursor) -> list[Problem]:
    """Rows giving `coordinates` instead of latitude and longitude: read them in Python
    (decimal, DMS, MGRS) and fill in latitude and longitude."""
    cursor.execute(
        "SELECT row_number, btrim(coordinates) FROM import_row "
        "WHERE btrim(latitude) = '' AND btrim(longitude) = '' "
        "AND btrim(coordinates) <> ''"
    )
    problems, located = [], io.StringIO()
    for row_number, text in cursor.fetchall():
        try:
            parsed = parse_coordinates(text)
        except ValidationError as error:
            problems.append(Problem(row_number, "coordinates", " ".join(error.messages)))
            continue
        located.write(
            f"{row_number}\t{parsed.latitude}\t{parsed.longitude}\t{parsed.uncertainty_m}\n"
        )
    located.seek(0)
    cursor.execute(
        "CREATE TEMP TABLE import_located (row_number bigint, latitude text, "
        "longitude text, uncertainty_m float8) ON COMMIT DROP"
    )
    cursor.copy_expert("COPY import_located FROM STDIN", located)
    cursor.execute(
        "UPDATE import_row AS r SET latitude = l.latitude, longitude = l.longitude, "
        "written_uncertainty_m = l.uncertainty_m "
        "FROM import_located AS l WHERE l.row_number = r.row_number"
    )
    return problems


def _compute_h3(cursor) -> None:
    cursor.execute(
        "CREATE TEMP TABLE import_h3 (row_number bigint PRIMARY KEY, h3_cell bigint) ON COMMIT DROP"
    )
    points = io.StringIO()
    cursor.copy_expert(
        "COPY (SELECT row_number, latitude, longitude FROM import_incident) TO STDOUT", points
    )
    cells = io.StringIO()
    for line in points.getvalue().splitlines():
        row_number, latitude, longitude = line.split("\t")
        cell = h3.latlng_to_cell(float(latitude), float(longitude), H3_RESOLUTION)
        cells.write(f"{row_number}\t{int(cell, 16)}\n")
    cells.seek(0)
    cursor.copy_expert("COPY import_h3 FROM STDIN", cells)


def _parameters(contingent: Contingent, by: AbstractBaseUser) -> dict:
    parameters = {f"map_{c.name}": c.choices for c in COLUMNS if c.kind == "choice"}
    parameters.update(
        countries=COUNTRY_CODES,
        contingent=contingent.pk,
        mission=contingent.mission_id,
        user=by.pk,
        state=WorkflowState.DRAFT,
        hosts=list(contingent.mission.host_countries),
        tolerance=border_tolerance_m(),
    )
    return parameters


def incidents_import(
    *,
    upload: BinaryIO,
    file_format: str,
    contingent: Contingent,
    by: AbstractBaseUser,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a whole file for `contingent` as drafts reported by `by`, or nothing."""
    from incidents.models import IllicitOrigin, Incident, WeaponItem

    if not rules.has_perm("incidents.report_for_contingent", by, contingent):
        raise PermissionDenied(_("You do not report for this contingent."))
    report = ImportReport()
    parameters = _parameters(contingent, by)
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Big set-based statements: sort in memory, and skip JIT compilation, which
            # costs more than it saves on statements run once.
            cursor.execute("SET LOCAL work_mem = '256MB'; SET LOCAL jit = off")
            report.rows, file_columns = _stage(cursor, upload, file_format, progress)
            if progress:
                progress(report.rows, "checking")
            problems = _read_coordinates(cursor)
            present = frozenset(file_columns) | LOCATED
            cursor.execute(_problems_sql(present), parameters)
            found = cursor.fetchall()
            problems += [Problem(row, column, message) for row, column, message, _total in found]
            report.problem_count = len(problems) - len(found) + (found[0][3] if found else 0)
            report.problems = sorted(problems, key=lambda p: p.row)[:MAX_LISTED_PROBLEMS]
            if file_format == "geojson":  # GeoJSON has no header row: count features
                for problem in report.problems:
                    problem.row -= 1
            if report.problem_count:
                raise _NothingToWrite
            if progress:
                progress(report.rows, "writing")
            cursor.execute(_incident_select(present), parameters)
            cursor.execute(NO_MORE_PRECISE_THAN_WRITTEN)
            cursor.execute("ANALYZE import_incident")
            cursor.execute(CELL_COUNTRIES, parameters)
            cursor.execute(PLACE_POINTS, parameters)
            contradicted = _stated_countries_contradicted(cursor, parameters)
            contradicted += _doubted_locations(cursor, parameters)
            contradicted.sort(key=lambda problem: problem.row)
            if contradicted:
                if file_format == "geojson":
                    for problem in contradicted:
                        problem.row -= 1
                report.problems = contradicted[:MAX_LISTED_PROBLEMS]
                report.problem_count = len(contradicted)
                raise _NothingToWrite
            _compute_h3(cursor)
            cursor.execute(
                "CREATE TEMP TABLE import_created (id bigint, external_reference "
                "text) ON COMMIT DROP"
            )
            # With the first history row of each new incident, as a form save leaves one.
            cursor.execute(_insert_incidents_sql(_history_fields(Incident)), parameters)
            report.incidents_created = cursor.rowcount
            cursor.execute("SELECT count(*) FROM import_incident")
            report.incidents_already_imported = cursor.fetchone()[0] - report.incidents_created
            cursor.execute(
                "CREATE TEMP TABLE import_weapon (row_number bigint, weapon_id bigint) "
                "ON COMMIT DROP"
            )
            cursor.execute(_weapon_insert(present), parameters)
            report.weapons_created = cursor.rowcount
            # The first history row of each new weapon, as a form save leaves.
            cursor.execute(
                _history_sql(
                    "incidents_weaponitem",
                    "incidents_historicalweaponitem",
                    _history_fields(WeaponItem),
                    "incident_id IN (SELECT id FROM import_created)",
                ),
                parameters,
            )
            if present & {column.name for column in ORIGIN_COLUMNS}:
                cursor.execute(_origin_insert(present), parameters)
                cursor.execute(
                    _history_sql(
                        "incidents_illicitorigin",
                        "incidents_historicalillicitorigin",
                        _history_fields(IllicitOrigin),
                        "weapon_id IN (SELECT weapon_id FROM import_weapon)",
                    ),
                    parameters,
                )
            _assign_nearest_places(cursor, report.incidents_created)
            # The map reads the new rows from the change log until they are merged: a
            # large file would slow it until beat's next merge.
            _merge_map_changes_after_commit()
            record_write(
                by,
                f"import.{file_format}",
                records=report.incidents_created + report.weapons_created,
            )
            # Dropped now, not only at commit: an outer transaction may run another import.
            cursor.execute(
                "DROP TABLE import_row, import_located, import_incident, "
                "import_cell, import_place, import_h3, import_created, import_weapon"
            )
    except ImportFileError as error:
        report.file_error = str(error)
    except _NothingToWrite:
        pass
    if progress:
        progress(report.rows, "done")
    return report


class _NothingToWrite(Exception):
    """Rolls the staging tables back when the file has problems."""


def _merge_map_changes_after_commit() -> None:
    from incidents.tasks import merge_map_changes

    merge_map_changes.delay_on_commit()


def _assign_nearest_places(cursor, created: int) -> None:
    if created <= NEAREST_PLACE_INLINE_LIMIT:
        cursor.execute("""
            UPDATE incidents_incident AS incident SET nearest_place_id = (
                SELECT place.geonameid FROM geo_place AS place
                ORDER BY place.point <-> incident.location LIMIT 1)
            WHERE incident.id IN (SELECT id FROM import_created)
        """)
    else:
        from incidents.tasks import assign_missing_nearest_places

        assign_missing_nearest_places.delay_on_commit()


# --- import jobs: the file kept, the work done in a Celery worker when it is large ------

SYNCHRONOUS_LIMIT_BYTES = 2 * 1024 * 1024


def import_job_create(*, upload, file_format: str, contingent: Contingent, by: AbstractBaseUser):
    """Keep the uploaded file and queue its import; a small file is imported at once."""
    from incidents.models import ImportJob

    if not rules.has_perm("incidents.report_for_contingent", by, contingent):
        raise PermissionDenied(_("You do not report for this contingent."))
    job = ImportJob(
        file_format=file_format,
        original_name=upload_display_name(upload.name),
        contingent=contingent,
        requested_by=by,
        language=translation.get_language() or settings.LANGUAGE_CODE,
    )
    job.file.save(f"import.{file_format}", upload, save=False)
    job.save()
    if upload.size <= SYNCHRONOUS_LIMIT_BYTES:
        import_job_run(job_id=job.pk)
        job.refresh_from_db()
    else:
        job_enqueue(job=job)
    return job


def import_job_run(*, job_id: int, task_id: str = "") -> None:
    """Run one import job (armsmonitor.jobs.job_run: running it again after it finished
    does nothing, and so does a second delivery while the owning attempt still beats its
    heartbeat). The import and the job's end commit together, and only while this attempt
    owns the job."""
    from incidents.models import ImportJob

    job_run(
        ImportJob,
        job_id,
        body=_import_job_body,
        messages=IMPORT_MESSAGES,
        task_id=task_id,
        related=("contingent", "requested_by"),
    )


IMPORT_MESSAGES = JobMessages(
    time_limit=lambda: _(
        "The import took longer than its time limit and was stopped; nothing was "
        "imported. Split the file into smaller ones and import them one by one."
    ),
    unexpected=lambda error: (
        _(
            "The import failed and nothing was imported (%(error)s). Try again; if it "
            "fails again, tell the platform's operators."
        )
        % {"error": type(error).__name__}
    ),
)


def _import_job_body(attempt: JobAttempt) -> None:
    from incidents.models import ImportJob

    job = attempt.job

    def progress(rows: int, stage: str) -> None:
        # On a connection of its own: the import's transaction holds the default one, and
        # the status page must see the counts move while it runs.
        attempt.progress_now(rows_checked=rows, stage=stage)

    # Problems are written in the language of the page the file was sent from (job_run).
    with transaction.atomic():
        with job.file.open("rb") as upload:
            report = incidents_import(
                upload=upload,
                file_format=job.file_format,
                contingent=job.contingent,
                by=job.requested_by,
                progress=progress,
            )
        if not attempt.finish(
            state=ImportJob.State.DONE if report.ok else ImportJob.State.REFUSED,
            rows_checked=report.rows,
            stage="done",
            report=report.as_dict(),
        ):
            raise JobLost  # rolls the import back: another attempt owns the job
        # The imported weapons were queued for the hit check by the database, in this
        # transaction; checked once it commits.
        hits_check_soon()

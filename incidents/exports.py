"""Incident exports (CSV, XLSX, GeoJSON) of a `visible_to` queryset, so locations are the
ones the reader may see.

An export goes back in through the import as it is (issue 18): its columns are the import
template's (incidents/imports/columns.py), one row per weapon (an incident without weapons
is one row with empty weapon columns), plus OUTPUT_ONLY_COLUMNS, which the import ignores.
An incident recorded without an external reference is exported under
`armsmonitor-<id>`, the reference it keeps wherever it is imported.

CSV and GeoJSON are built by PostgreSQL and streamed: a COPY of the export query runs on
the request's connection in a helper thread, which hands over chunks of its output through
a small queue. Memory stays flat whatever the size, and no row is parsed in Python. XLSX
rows come from the same query through a server-side cursor (openpyxl needs values).
"""

import io
import queue
import tempfile
import threading
from collections.abc import Iterator

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from incidents.choices import LocationPrecision
from incidents.imports.columns import COLUMNS, FORMULA_PREFIXES
from incidents.querysets import IncidentQuerySet

# Columns the import reads but an export has no value for: coordinates come as latitude
# and longitude, and a doubted point is confirmed by whoever imports it, never by the file.
NOT_EXPORTED = ("coordinates", "location_confirmed")
TEMPLATE_COLUMNS = [column.name for column in COLUMNS if column.name not in NOT_EXPORTED]
HEADER = [
    "id",
    *TEMPLATE_COLUMNS,
    "weapon_id",
    "weapon_disposition",
    "location_is_exact",
    "mission",
    "contingent",
    "state",
    "updated_at",
]
# The prefix of the reference an incident recorded without one is exported under.
REFERENCE_PREFIX = "armsmonitor-"
# Where coordinates are generalised, the point is a grid cell's centre (about 28 km
# across): the export says so, and an import of it keeps the record that coarse.
GENERALISED_PRECISION = LocationPrecision.ADMIN_AREA


# --- Built in PostgreSQL ---------------------------------------------------------------------

# The columns the inner query (the filtered `visible_to` queryset, in its own order) selects,
# under the names the outer query reads.
ROW_COLUMNS = (
    "id",
    "external_reference",
    "occurred_at",
    "date_precision",
    "location_is_exact",
    "location_precision",
    "country",
    "kind",
    "context",
    "actor_type",
    "actors",
    "narrative",
    "source",
    "source_type",
    "source_reliability",
    "information_credibility",
    "releasability",
    "gbv_link",
    "gbv_type",
    "seizure_justification",
    "transport_mode",
    "route_departure_country",
    "route_transit_countries",
    "route_destination_country",
    "mission_acronym",
    "contingent_name",
    "state",
    "updated_at",
)


# FORMULA_PREFIXES as character codes: comparing the first character's code allocates
# nothing, where left(…, 1) made a string for every cell.
FORMULA_CODES = ", ".join(str(ord(prefix)) for prefix in FORMULA_PREFIXES)


def _text_safe(column: str) -> str:
    """SQL for the text `column` with a leading ' when a spreadsheet would read it as a
    formula (FORMULA_PREFIXES)."""
    return f"CASE WHEN ascii({column}) IN ({FORMULA_CODES}) THEN '''' || {column} ELSE {column} END"


def _iso(column: str) -> str:
    """SQL for the timestamp `column` in ISO 8601, in UTC, as datetime.isoformat() writes it
    (microseconds, six digits, only when there are some).

    Built from the timestamp's own text (DateStyle ISO, set on every connection in the
    settings), which drops the fraction's trailing zeros: padded back to six digits. Of an
    export's time, to_char with a format took a sixth."""
    text = f"translate(({column} AT TIME ZONE 'UTC')::text, ' ', 'T')"
    return (
        f"CASE WHEN date_trunc('second', {column}) = {column} THEN {text}"
        f" ELSE rpad({text}, 26, '0') END || '+00:00'"
    )


SIX_DECIMALS_LATITUDE = "round(incident.shown_latitude::numeric, 6)"
SIX_DECIMALS_LONGITUDE = "round(incident.shown_longitude::numeric, 6)"


def _yes_no(column: str) -> str:
    return f"CASE WHEN {column} THEN 'yes' WHEN NOT {column} THEN 'no' END"


# SQL for each column of HEADER, read from the inner query `incident` and the lateral
# `weapon`. The export queries below are made of these constants and the queryset's own
# SQL; values stay parameters. Codes from the records' choices never start like a formula:
# only the texts that people type are made safe.
# Django writes a condition that can never hold as the constant 0, hence the casts of
# location_is_exact.
EXPORT_VALUES = {
    "id": "incident.id",
    "external_reference": _text_safe(
        f"COALESCE(NULLIF(incident.external_reference, ''), '{REFERENCE_PREFIX}' || incident.id)"
    ),
    "occurred_at": _iso("incident.occurred_at"),
    "date_precision": "incident.date_precision",
    # Always six decimals (about 0.1 m), trailing zeros kept: an import takes a point to be
    # no more precise than it is written, and 5.5 reads as good to 11 km.
    "latitude": f"({SIX_DECIMALS_LATITUDE})::text",
    "longitude": f"({SIX_DECIMALS_LONGITUDE})::text",
    "location_precision": (
        "CASE WHEN incident.location_is_exact::boolean THEN incident.location_precision"
        f" ELSE '{GENERALISED_PRECISION}' END"
    ),
    "country": "incident.country",
    "kind": "incident.kind",
    "context": "incident.context",
    "actor_type": "incident.actor_type",
    "actors": _text_safe("incident.actors"),
    "narrative": _text_safe("incident.narrative"),
    "source": _text_safe("incident.source"),
    "source_type": "incident.source_type",
    "source_reliability": "incident.source_reliability",
    "information_credibility": "incident.information_credibility",
    "releasability": "incident.releasability",
    "gbv_link": _yes_no("incident.gbv_link"),
    "gbv_type": "incident.gbv_type",
    "seizure_justification": "incident.seizure_justification",
    "transport_mode": "incident.transport_mode",
    "route_departure_country": "incident.route_departure_country",
    "route_transit_countries": "array_to_string(incident.route_transit_countries, '; ')",
    "route_destination_country": "incident.route_destination_country",
    "weapon_category": "weapon.category",
    "weapon_recovery": "weapon.recovery",
    "weapon_manufacture_mode": "weapon.manufacture_mode",
    "weapon_make": _text_safe("weapon.make"),
    "weapon_model": _text_safe("weapon.model"),
    "weapon_calibre": _text_safe("weapon.calibre"),
    "weapon_serial_number": _text_safe("weapon.serial_number"),
    "weapon_markings_altered": _yes_no("weapon.markings_altered"),
    "weapon_country_of_manufacture": "weapon.country_of_manufacture",
    "weapon_year_of_manufacture": "weapon.year_of_manufacture",
    "weapon_quantity": "weapon.quantity",
    "weapon_factory_markings": _text_safe("weapon.factory_markings"),
    "weapon_import_markings": _text_safe("weapon.import_markings"),
    "weapon_other_markings": _text_safe("weapon.other_markings"),
    "weapon_condition": "weapon.condition",
    "weapon_alteration_location": "weapon.alteration_location",
    "weapon_alteration_method": "weapon.alteration_method",
    "weapon_restored_serial_number": _text_safe("weapon.restored_serial_number"),
    "weapon_import_country": "weapon.import_country",
    "weapon_import_year": "weapon.import_year",
    "weapon_state_ownership_mark": _text_safe("weapon.state_ownership_mark"),
    # As the import reads them: "barrel: A123; bolt: A123" (incidents/component_serials.py).
    "weapon_component_serials": _text_safe(
        "(SELECT string_agg((part ->> 'component') || ': ' || (part ->> 'serial'), '; '"
        " ORDER BY position) FROM jsonb_array_elements(weapon.component_serials)"
        " WITH ORDINALITY AS entry(part, position))"
    ),
    "weapon_origin_method": "weapon.recorded_method",
    "weapon_origin_kind": "weapon.recorded_kind",
    "weapon_origin_diversion_country": "weapon.recorded_diversion_country",
    "weapon_origin_diversion_date": "weapon.recorded_diversion_date::text",
    "weapon_origin_established_by": _text_safe("weapon.recorded_established_by"),
    "weapon_origin_established_on": "weapon.recorded_established_on::text",
    "weapon_origin_notes": _text_safe("weapon.recorded_notes"),
    "weapon_id": "weapon.id",
    "weapon_disposition": "weapon.disposition",
    "location_is_exact": (
        "CASE incident.location_is_exact::boolean WHEN true THEN 'True' WHEN false THEN 'False' END"
    ),
    "mission": _text_safe("incident.mission_acronym"),
    "contingent": _text_safe("incident.contingent_name"),
    "state": "incident.state",
    "updated_at": _iso("incident.updated_at"),
}
assert list(EXPORT_VALUES) == HEADER, "one SQL value for each exported column, in order"
# The weapons of each incident, in the order they were recorded, with their illicit-origin
# record's columns as recorded_* (the item's own origin_* columns are derived: WeaponItem).
# A lateral subquery with an ORDER BY is never merged into a join, so PostgreSQL runs it
# once per incident (on the items' incident index), keeping the incidents in the inner
# query's order.
ROWS_SQL = (
    "SELECT {columns} FROM ({rows}) AS incident LEFT JOIN LATERAL ("
    "SELECT item.*, origin.method AS recorded_method, origin.kind AS recorded_kind, "
    "origin.diversion_country AS recorded_diversion_country, "
    "origin.diversion_date AS recorded_diversion_date, "
    "origin.established_by AS recorded_established_by, "
    "origin.established_on AS recorded_established_on, origin.notes AS recorded_notes "
    "FROM incidents_weaponitem AS item "
    "LEFT JOIN incidents_illicitorigin AS origin ON origin.weapon_id = item.id "
    "WHERE item.incident_id = incident.id ORDER BY item.id) AS weapon ON true"
)
CSV_SQL = "COPY ({select}) TO STDOUT WITH (FORMAT csv, HEADER true)"
GEOJSON_SQL = "COPY ({select}) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
# Gender data (organisations/access.py, incidents.view_gender_data): empty for readers not
# allowed it, as the API's detail gives them null.
GENDER_COLUMNS = ("gbv_link", "gbv_type")


def _values(*, gender_data: bool) -> dict[str, str]:
    if gender_data:
        return EXPORT_VALUES
    return {**EXPORT_VALUES, **dict.fromkeys(GENDER_COLUMNS, "''")}


def _select_columns(*, gender_data: bool) -> str:
    values = _values(gender_data=gender_data)
    return ", ".join(f'{value} AS "{name}"' for name, value in values.items())


def _feature(*, gender_data: bool) -> str:
    """A GeoJSON feature a row, as text: the CSV's columns but the coordinates as
    properties, with JSON's own types; the point's coordinates as JSON numbers written with
    six decimals (numeric keeps them), where ST_AsGeoJSON would drop trailing zeros. One
    feature a line: GEOJSON_SQL's quote and delimiter characters are ones JSON text never
    holds unescaped (\\x01, \\x02), so each line is written as it is; COPY's text format
    would double every backslash."""
    values = {
        **_values(gender_data=gender_data),
        "location_is_exact": "incident.location_is_exact::boolean",
    }
    del values["longitude"], values["latitude"]
    return (
        "json_build_object('type', 'Feature', 'id', incident.id, "
        f"'properties', {_json_object(values)}, 'geometry', json_build_object("
        "'type', 'Point', 'coordinates', "
        f"json_build_array({SIX_DECIMALS_LONGITUDE}, {SIX_DECIMALS_LATITUDE})))::text"
    )


def _json_object(values: dict[str, str]) -> str:
    """SQL of one JSON object of `values`, keys in order. A function takes at most 100
    arguments (50 keys), so the object is built in parts whose texts are joined."""
    pairs = [f"'{name}', {value}" for name, value in values.items()]
    parts = [
        f"json_build_object({', '.join(pairs[start : start + 40])})::text"
        for start in range(0, len(pairs), 40)
    ]
    if len(parts) == 1:
        return parts[0].removesuffix("::text")
    # '{"a" : 1}' and '{"b" : 2}' joined as '{"a" : 1, "b" : 2}': the first part without its
    # closing brace, the last without its opening one, the others without either.
    opened = [f"left({part}, -1)" for part in parts[:-1]] + [parts[-1]]
    trimmed = [opened[0], *(f"substr({part}, 2)" for part in opened[1:])]
    return "(" + " || ', ' || ".join(trimmed) + ")::json"


def _rows_sql(incidents: IncidentQuerySet) -> tuple[str, tuple]:
    """The inner query. Its ORDER BY keeps PostgreSQL from merging it into the outer one,
    so every column it selects is computed once (a geometry column would come out as
    Django's EWKB, to be parsed again for every row: the shown coordinates come instead)."""
    rows = incidents.annotate(
        mission_acronym=F("mission__acronym"),
        contingent_name=F("contingent__name"),
    ).with_shown_coordinates()
    columns = (*ROW_COLUMNS, "shown_longitude", "shown_latitude")
    return rows.values(*columns).query.sql_with_params()


def incidents_csv(incidents: IncidentQuerySet, *, gender_data: bool) -> Iterator[bytes]:
    """The CSV file (UTF-8, a header line, then one line a weapon), in chunks."""
    try:
        sql, params = _rows_sql(incidents)
    except EmptyResultSet:  # a filter that can match nothing (an unknown region, say)
        return iter([(",".join(HEADER) + "\n").encode()])
    select = ROWS_SQL.format(columns=_select_columns(gender_data=gender_data), rows=sql)
    return copy_chunks(CSV_SQL.format(select=select), params, using=incidents.db)


def incidents_geojson(incidents: IncidentQuerySet, *, gender_data: bool) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection (UTF-8), one feature a weapon, in chunks."""
    try:
        sql, params = _rows_sql(incidents)
    except EmptyResultSet:  # a filter that can match nothing
        yield b'{"type": "FeatureCollection", "features": []}\n'
        return
    yield b'{"type": "FeatureCollection", "features": [\n'
    separator = b""
    select = ROWS_SQL.format(columns=_feature(gender_data=gender_data), rows=sql)
    for chunk in copy_chunks(GEOJSON_SQL.format(select=select), params, using=incidents.db):
        # Features come one a line; the lines become the array's items.
        ends_line = chunk.endswith(b"\n")
        yield separator + (chunk[:-1] if ends_line else chunk).replace(b"\n", b",\n")
        separator = b",\n" if ends_line else b""
    yield b"\n]}\n"


# --- Streaming a COPY ----------------------------------------------------------------------

CHUNK_BYTES = 256 * 1024
QUEUED_CHUNKS = 8
_END = object()


class _ChunkHandOver(io.RawIOBase):
    """The far end of the buffer COPY writes into (in the helper thread): each full buffer
    becomes a chunk on the queue, waiting while the queue is full. Once the reader has
    gone, chunks are dropped."""

    def __init__(self, chunks: queue.Queue, stop: threading.Event):
        super().__init__()
        self.chunks, self.stop = chunks, stop

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.hand_over(bytes(data))
        return len(data)

    def hand_over(self, item: object) -> None:
        while not self.stop.is_set():
            try:
                self.chunks.put(item, timeout=0.5)
                return
            except queue.Full:
                continue


def copy_chunks(sql: str, params, *, using: str) -> Iterator[bytes]:
    """The output of `COPY (…) TO STDOUT` (`sql`, with `params` bound by the driver as in any
    query), in chunks of about CHUNK_BYTES, with at most QUEUED_CHUNKS waiting.

    The COPY runs on the calling thread's connection (so inside its transaction, if any) in a
    helper thread that only touches the driver's connection while this generator waits on
    the queue. If the reader stops early (a client that goes away closes the generator), the
    query is cancelled, and the helper ends before the generator does, leaving the
    connection (and its transaction) usable."""
    connection = connections[using]
    connection.ensure_connection()
    driver_connection = connection.connection
    with driver_connection.cursor() as cursor:
        statement = cursor.mogrify(sql, params)
    chunks: queue.Queue = queue.Queue(maxsize=QUEUED_CHUNKS)
    stop = threading.Event()
    hand_over = _ChunkHandOver(chunks, stop)
    # The driver calls `write` once per row: a buffered writer (written in C) gathers the
    # rows, where a write method in Python took a quarter of a large export's time.
    sink = io.BufferedWriter(hand_over, buffer_size=CHUNK_BYTES)

    # Inside a transaction, a savepoint lets a cancelled COPY leave it usable.
    savepoint = not driver_connection.autocommit

    def copy() -> None:
        try:
            with driver_connection.cursor() as cursor:
                if savepoint:
                    cursor.execute("SAVEPOINT export_copy")
                try:
                    cursor.copy_expert(statement, sink)
                except Exception:
                    if savepoint:
                        cursor.execute("ROLLBACK TO SAVEPOINT export_copy")
                    raise
                if savepoint:
                    cursor.execute("RELEASE SAVEPOINT export_copy")
            sink.flush()
            hand_over.hand_over(_END)
        except Exception as error:  # raised again by the reader
            hand_over.hand_over(error)

    helper = threading.Thread(target=copy, name="export-copy", daemon=True)
    helper.start()
    finished = False
    try:
        while True:
            item = chunks.get()
            if item is _END:
                finished = True
                return
            if isinstance(item, Exception):
                finished = True
                raise item
            yield item
    finally:
        if not finished:
            stop.set()
            if helper.is_alive():
                driver_connection.cancel()
        helper.join()


# --- XLSX -----------------------------------------------------------------------------------


def incident_rows(incidents: IncidentQuerySet, *, gender_data: bool) -> Iterator[tuple]:
    """The CSV export's rows as values (numbers as numbers), read through a server-side
    cursor, so that memory stays flat."""
    try:
        sql, params = _rows_sql(incidents)
    except EmptyResultSet:  # a filter that can match nothing
        return
    with connections[incidents.db].chunked_cursor() as cursor:
        select = ROWS_SQL.format(columns=_select_columns(gender_data=gender_data), rows=sql)
        cursor.execute(select, params)
        while rows := cursor.fetchmany(2000):
            yield from rows


def _xml_safe(value: object) -> object:
    """XLSX is XML, which cannot hold most control characters: they are left out."""
    if isinstance(value, str):
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def incidents_xlsx(incidents: IncidentQuerySet, *, gender_data: bool):
    """An XLSX workbook in a temporary file (write-only mode keeps memory flat)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("incidents")
    sheet.append(HEADER)
    for row in incident_rows(incidents, gender_data=gender_data):
        sheet.append([_xml_safe(value) for value in row])
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when sent
    workbook.save(spool)
    spool.seek(0)
    return spool

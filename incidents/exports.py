"""Incident exports (CSV, XLSX, GeoJSON) of a `visible_to` queryset, so locations are the
ones the reader may see.

CSV and GeoJSON are built by PostgreSQL, one output row per incident, and streamed: a COPY
of the export query runs on the request's connection in a helper thread, which hands over
chunks of its output through a small queue. Memory stays flat whatever the size, and no
row is parsed in Python. XLSX rows go through Python (openpyxl needs values).
"""

import io
import queue
import tempfile
import threading
from collections.abc import Iterator

from django.contrib.gis.db.models.functions import AsGeoJSON
from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import F
from openpyxl import Workbook

from incidents.querysets import IncidentQuerySet

HEADER = [
    "id",
    "kind",
    "occurred_at",
    "longitude",
    "latitude",
    "location_is_exact",
    "location_precision",
    "country",
    "context",
    "mission",
    "contingent",
    "releasability",
    "state",
    "external_reference",
    "updated_at",
]
# A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


# --- Built in PostgreSQL ---------------------------------------------------------------------

# The columns the inner query (the filtered `visible_to` queryset, in its own order) selects,
# under the names the outer query reads.
ROW_COLUMNS = (
    "id",
    "kind",
    "occurred_at",
    "location_is_exact",
    "location_precision",
    "country",
    "context",
    "mission_acronym",
    "contingent_name",
    "releasability",
    "state",
    "external_reference",
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


# SQL for each column of HEADER, read from the inner query `incident`. The export queries
# below are made of these constants and the queryset's own SQL; values stay parameters.
# Codes from the records' choices (kind, precision, country, context, state) never start
# like a formula: only the texts that people type are made safe.
EXPORT_VALUES = {
    "id": "incident.id",
    "kind": "incident.kind",
    "occurred_at": _iso("incident.occurred_at"),
    # Rounded in floating point (as Python's round(x, 6) does): through numeric, the
    # rounding alone took a tenth of an export's time.
    "longitude": "round(incident.shown_longitude * 1e6::float8) / 1e6::float8",
    "latitude": "round(incident.shown_latitude * 1e6::float8) / 1e6::float8",
    # Django writes a condition that can never hold as the constant 0, hence the cast.
    "location_is_exact": (
        "CASE incident.location_is_exact::boolean WHEN true THEN 'True' WHEN false THEN 'False' END"
    ),
    "location_precision": "incident.location_precision",
    "country": "incident.country",
    "context": "incident.context",
    "mission": _text_safe("incident.mission_acronym"),
    "contingent": _text_safe("incident.contingent_name"),
    "releasability": "incident.releasability",
    "state": "incident.state",
    "external_reference": _text_safe("incident.external_reference"),
    "updated_at": _iso("incident.updated_at"),
}
CSV_COLUMNS = ", ".join(f'{value} AS "{name}"' for name, value in EXPORT_VALUES.items())
CSV_SQL = (
    "COPY (SELECT {columns} FROM ({rows}) AS incident) TO STDOUT WITH (FORMAT csv, HEADER true)"
)
# GeoJSON properties: the CSV's columns but the coordinates, with JSON's own types.
PROPERTY_VALUES = {
    **EXPORT_VALUES,
    "location_is_exact": "incident.location_is_exact::boolean",
}
del PROPERTY_VALUES["longitude"], PROPERTY_VALUES["latitude"]
# One feature a line. CSV with quote and delimiter characters that JSON text never holds
# unescaped (\x01, \x02) writes each line as it is; COPY's text format would double every
# backslash.
PROPERTIES = ", ".join(f"'{name}', {value}" for name, value in PROPERTY_VALUES.items())
GEOJSON_SQL = (
    "COPY (SELECT json_build_object('type', 'Feature', 'id', incident.id, "
    "'properties', json_build_object({properties}), 'geometry', incident.geometry::json)::text "
    "FROM ({rows}) AS incident) TO STDOUT WITH (FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02')"
)


def _rows_sql(incidents: IncidentQuerySet, *, geometry: bool) -> tuple[str, tuple]:
    """The inner query. Its ORDER BY keeps PostgreSQL from merging it into the outer one,
    so every column it selects is computed: the location only as the output needs it,
    coordinates for CSV, GeoJSON text for GeoJSON (a geometry column would come out as
    Django's EWKB, to be parsed again for every row)."""
    rows = incidents.annotate(
        mission_acronym=F("mission__acronym"),
        contingent_name=F("contingent__name"),
    )
    if geometry:
        rows = rows.annotate(geometry=AsGeoJSON("shown_location", precision=6))
        columns = (*ROW_COLUMNS, "geometry")
    else:
        rows = rows.with_shown_coordinates()
        columns = (*ROW_COLUMNS, "shown_longitude", "shown_latitude")
    return rows.values(*columns).query.sql_with_params()


def incidents_csv(incidents: IncidentQuerySet) -> Iterator[bytes]:
    """The CSV file (UTF-8, a header line, then one line an incident), in chunks."""
    try:
        sql, params = _rows_sql(incidents, geometry=False)
    except EmptyResultSet:  # a filter that can match nothing (an unknown region, say)
        return iter([(",".join(HEADER) + "\n").encode()])
    return copy_chunks(CSV_SQL.format(columns=CSV_COLUMNS, rows=sql), params, using=incidents.db)


def incidents_geojson(incidents: IncidentQuerySet) -> Iterator[bytes]:
    """A GeoJSON FeatureCollection (UTF-8), in chunks."""
    try:
        sql, params = _rows_sql(incidents, geometry=True)
    except EmptyResultSet:  # a filter that can match nothing
        yield b'{"type": "FeatureCollection", "features": []}\n'
        return
    yield b'{"type": "FeatureCollection", "features": [\n'
    separator = b""
    for chunk in copy_chunks(
        GEOJSON_SQL.format(properties=PROPERTIES, rows=sql), params, using=incidents.db
    ):
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


def incident_rows(incidents: IncidentQuerySet) -> Iterator[list[object]]:
    """One list of values per incident, in HEADER's order, spreadsheet-safe."""
    for incident in incidents.select_related("mission", "contingent").iterator(chunk_size=2000):
        yield [
            spreadsheet_safe(value)
            for value in (
                incident.id,
                incident.kind,
                incident.occurred_at.isoformat(),
                round(incident.shown_location.x, 6),
                round(incident.shown_location.y, 6),
                incident.location_is_exact,
                incident.location_precision,
                incident.country,
                incident.context,
                incident.mission.acronym,
                incident.contingent.name,
                incident.releasability,
                incident.state,
                incident.external_reference,
                incident.updated_at.isoformat(),
            )
        ]


def incidents_xlsx(incidents: IncidentQuerySet):
    """An XLSX workbook in a temporary file (write-only mode keeps memory flat)."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("incidents")
    sheet.append(HEADER)
    for row in incident_rows(incidents):
        sheet.append(row)
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it when sent
    workbook.save(spool)
    spool.seek(0)
    return spool

"""Bulk import of incidents and their weapons from CSV, XLSX or GeoJSON.

The whole file is read and every cell checked first; every problem is listed by row and
column, and nothing is written unless the file is clean. A clean file goes in through
PostgreSQL's COPY into a staging table and one set-based INSERT … SELECT that also derives
each incident's country, admin area and nearest place; history rows are written the same
way. Rows whose external reference the contingent already imported are skipped, so
re-importing a file creates no duplicates.
"""

import io
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import BinaryIO

import h3
import rules
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction

from geo.coordinates import parse_coordinates
from incidents.choices import WorkflowState
from incidents.import_columns import INCIDENT_COLUMNS, WEAPON_COLUMNS
from incidents.import_files import ImportFileError, read_rows
from incidents.services import H3_RESOLUTION
from organisations.models import Contingent

MAX_LISTED_PROBLEMS = 1_000
PROGRESS_EVERY = 10_000

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


@dataclass
class _Parsed:
    incidents: dict[str, tuple] = field(default_factory=dict)  # external reference → values
    first_row: dict[str, int] = field(default_factory=dict)
    weapons: list[tuple] = field(default_factory=list)  # (external reference, *values)


def _problem(report: ImportReport, row: int, column: str, message: str) -> None:
    report.problem_count += 1
    if len(report.problems) < MAX_LISTED_PROBLEMS:
        report.problems.append(Problem(row, column, message))


def _read(cells: dict[str, str], columns, row: int, report: ImportReport) -> list | None:
    values, clean = [], True
    for column in columns:
        raw = cells.get(column.name, "")
        if raw == "":
            if column.required:
                _problem(report, row, column.name, "is required")
                clean = False
            values.append(column.default)
            continue
        try:
            values.append(column.read(raw))
        except ValueError as error:
            _problem(report, row, column.name, str(error))
            clean = False
    return values if clean else None


def _locate(values: list, row: int, report: ImportReport) -> bool:
    """Fill latitude and longitude from the coordinates column where they are empty."""
    names = [column.name for column in INCIDENT_COLUMNS]
    lat, lon, text = (names.index(n) for n in ("latitude", "longitude", "coordinates"))
    if values[lat] is not None and values[lon] is not None:
        return True
    if not values[text]:
        _problem(report, row, "latitude", "give latitude and longitude, or coordinates")
        return False
    try:
        parsed = parse_coordinates(values[text])
    except ValidationError as error:
        _problem(report, row, "coordinates", " ".join(error.messages))
        return False
    values[lat], values[lon] = parsed.latitude, parsed.longitude
    return True


def _parse(rows: Iterable, report: ImportReport, progress: Progress | None) -> _Parsed:
    parsed = _Parsed()
    seen_rows: dict[tuple, int] = {}
    for number, cells in rows:
        report.rows += 1
        if progress and report.rows % PROGRESS_EVERY == 0:
            progress(report.rows, "checking")
        if "__cells__" in cells:
            _problem(report, number, "(row)", cells["__cells__"])
            continue
        signature = tuple(sorted(cells.items()))
        if signature in seen_rows:
            _problem(report, number, "(row)", f"repeats row {seen_rows[signature]}")
            continue
        seen_rows[signature] = number
        incident = _read(cells, INCIDENT_COLUMNS, number, report)
        weapon = _read(cells, WEAPON_COLUMNS, number, report)
        if incident is None or weapon is None or not _locate(incident, number, report):
            continue
        reference = incident[0]
        known = parsed.incidents.get(reference)
        if known is None:
            parsed.incidents[reference] = tuple(incident)
            parsed.first_row[reference] = number
        elif known != tuple(incident):
            _problem(
                report,
                number,
                "external_reference",
                f"{reference} is on row {parsed.first_row[reference]} with other "
                "incident values; rows of one incident must agree",
            )
            continue
        if weapon[0]:  # a weapon category: the row describes a weapon
            parsed.weapons.append((reference, *weapon))
        elif any(value not in ("", None, False, 1) for value in weapon):
            _problem(
                report, number, "weapon_category", "is required when the row describes a weapon"
            )
    return parsed


def _copy_text(value) -> str:
    if value is None:
        return r"\N"
    if isinstance(value, datetime):
        return value.isoformat()
    return (
        str(value).replace("\\", "\\\\").replace("\t", " ").replace("\n", "\\n").replace("\r", "")
    )


def _copy(cursor, table: str, columns: list[str], rows: Iterable[Iterable]) -> None:
    buffer = io.StringIO()
    for row in rows:
        buffer.write("\t".join(_copy_text(value) for value in row))
        buffer.write("\n")
    buffer.seek(0)
    cursor.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN", buffer)


INCIDENT_FIELDS = [column.name for column in INCIDENT_COLUMNS]
INSERT_INCIDENTS = """
WITH created AS (
INSERT INTO incidents_incident (
    external_reference, occurred_at, date_precision, location, location_precision, kind,
    context, actor_type, actors, narrative, source, source_reliability, releasability,
    gbv_link, h3_cell, contingent_id, mission_id, reported_by_id, state, return_comment,
    withdrawn_reason, country, admin_area_id, nearest_place_id, created_at, updated_at)
SELECT s.external_reference, s.occurred_at, s.date_precision,
    ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326), s.location_precision, s.kind,
    s.context, s.actor_type, s.actors, s.narrative, s.source, s.source_reliability,
    s.releasability, s.gbv_link, s.h3_cell, %(contingent)s, %(mission)s, %(user)s, %(state)s,
    '', '',
    COALESCE((SELECT part.country_id FROM geo_countrypart AS part
              WHERE ST_Covers(part.part, ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326))
              ORDER BY part.country_id LIMIT 1), ''),
    (SELECT area.id FROM geo_adminarea AS area
     WHERE ST_Covers(area.boundary, ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326))
     ORDER BY area.level DESC, area.id LIMIT 1),
    (SELECT place.geonameid FROM geo_place AS place
     ORDER BY place.point <-> ST_SetSRID(ST_MakePoint(s.longitude, s.latitude), 4326) LIMIT 1),
    now(), now()
FROM import_incident AS s
WHERE NOT EXISTS (SELECT 1 FROM incidents_incident AS existing
                  WHERE existing.contingent_id = %(contingent)s
                    AND existing.external_reference = s.external_reference)
RETURNING id, external_reference)
INSERT INTO import_created SELECT id, external_reference FROM created
"""
INSERT_WEAPONS = """
INSERT INTO incidents_weaponitem (
    incident_id, category, make, model, calibre, serial_number, markings_altered,
    country_of_manufacture, year_of_manufacture, quantity, factory_markings, import_markings,
    other_markings, condition, disposition)
SELECT incident.id, w.category, w.make, w.model, w.calibre, w.serial_number,
    w.markings_altered, w.country_of_manufacture, w.year_of_manufacture, w.quantity,
    '', '', '', 'unknown', 'held'
FROM import_weapon AS w
JOIN import_created AS incident ON incident.external_reference = w.reference
"""


def _history_sql(table: str, history_table: str, fields: list[str], where: str) -> str:
    # Table and column names come from the models, never from the file.
    columns = ", ".join(fields)
    return (
        f"INSERT INTO {history_table} ({columns}, history_date, history_change_reason, "  # noqa: S608
        f"history_type, history_user_id) SELECT {columns}, now(), 'import', '+', %(user)s "
        f"FROM {table} WHERE {where}"
    )


def _history_fields(model) -> list[str]:
    tracked = {f.attname for f in model.history.model._meta.concrete_fields}
    return [f.column for f in model._meta.concrete_fields if f.attname in tracked]


def incidents_import(
    *,
    upload: BinaryIO,
    file_format: str,
    contingent: Contingent,
    by: AbstractBaseUser,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a whole file for `contingent` as drafts reported by `by`, or nothing."""
    from incidents.models import Incident, WeaponItem

    if not rules.has_perm("incidents.report_for_contingent", by, contingent):
        raise PermissionDenied("You do not report for this contingent.")
    report = ImportReport()
    try:
        parsed = _parse(read_rows(upload, file_format), report, progress)
    except ImportFileError as error:
        report.file_error = str(error)
        return report
    if not report.ok:
        return report
    if progress:
        progress(report.rows, "writing")

    latitude, longitude = INCIDENT_FIELDS.index("latitude"), INCIDENT_FIELDS.index("longitude")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("""
            CREATE TEMP TABLE import_incident (
                external_reference text, occurred_at timestamptz, date_precision text,
                latitude float8, longitude float8, coordinates text, location_precision text,
                kind text, context text, actor_type text, actors text, narrative text,
                source text, source_reliability text, releasability int, gbv_link bool,
                h3_cell bigint) ON COMMIT DROP;
            CREATE TEMP TABLE import_weapon (
                reference text, category text, make text, model text, calibre text,
                serial_number text, markings_altered bool, country_of_manufacture text,
                year_of_manufacture int, quantity int) ON COMMIT DROP;
            CREATE TEMP TABLE import_created (id bigint, external_reference text)
                ON COMMIT DROP;
        """)
        _copy(
            cursor,
            "import_incident",
            [*INCIDENT_FIELDS, "h3_cell"],
            (
                (
                    *values,
                    int(h3.latlng_to_cell(values[latitude], values[longitude], H3_RESOLUTION), 16),
                )
                for values in parsed.incidents.values()
            ),
        )
        _copy(
            cursor,
            "import_weapon",
            ["reference", *(c.name.removeprefix("weapon_") for c in WEAPON_COLUMNS)],
            parsed.weapons,
        )
        parameters = {
            "contingent": contingent.pk,
            "mission": contingent.mission_id,
            "user": by.pk,
            "state": WorkflowState.DRAFT,
        }
        cursor.execute(INSERT_INCIDENTS, parameters)
        report.incidents_created = cursor.rowcount
        report.incidents_already_imported = len(parsed.incidents) - cursor.rowcount
        cursor.execute(INSERT_WEAPONS, parameters)
        report.weapons_created = cursor.rowcount
        # The first history row of each new incident and weapon, as a form save leaves.
        cursor.execute(
            _history_sql(
                "incidents_incident",
                "incidents_historicalincident",
                _history_fields(Incident),
                "id IN (SELECT id FROM import_created)",
            ),
            parameters,
        )
        cursor.execute(
            _history_sql(
                "incidents_weaponitem",
                "incidents_historicalweaponitem",
                _history_fields(WeaponItem),
                "incident_id IN (SELECT id FROM import_created)",
            ),
            parameters,
        )
        # Dropped now, not only at commit: an outer transaction may run another import.
        cursor.execute("DROP TABLE import_incident, import_weapon, import_created")
    if progress:
        progress(report.rows, "done")
    return report


# --- import jobs: the file kept, the work done in a Celery worker when it is large ------

SYNCHRONOUS_LIMIT_BYTES = 2 * 1024 * 1024


def import_job_create(*, upload, file_format: str, contingent: Contingent, by: AbstractBaseUser):
    """Keep the uploaded file and queue its import; a small file is imported at once."""
    from incidents.models import ImportJob
    from incidents.tasks import run_import_job

    if not rules.has_perm("incidents.report_for_contingent", by, contingent):
        raise PermissionDenied("You do not report for this contingent.")
    job = ImportJob(
        file_format=file_format,
        original_name=upload.name[:200],
        contingent=contingent,
        requested_by=by,
    )
    job.file.save(f"import.{file_format}", upload, save=False)
    job.save()
    if upload.size <= SYNCHRONOUS_LIMIT_BYTES:
        import_job_run(job_id=job.pk)
        job.refresh_from_db()
    else:
        run_import_job.delay_on_commit(job.pk)
    return job


def import_job_run(*, job_id: int) -> None:
    """Run one import job; running it again after it finished does nothing."""
    from django.utils import timezone

    from incidents.models import ImportJob

    job = ImportJob.objects.select_related("contingent", "requested_by").get(pk=job_id)
    if job.finished:
        return
    job.state, job.started_at = ImportJob.State.RUNNING, timezone.now()
    job.save(update_fields=["state", "started_at"])

    def progress(rows: int, stage: str) -> None:
        ImportJob.objects.filter(pk=job.pk).update(rows_checked=rows, stage=stage)

    try:
        with job.file.open("rb") as upload:
            report = incidents_import(
                upload=upload,
                file_format=job.file_format,
                contingent=job.contingent,
                by=job.requested_by,
                progress=progress,
            )
    except Exception:
        ImportJob.objects.filter(pk=job.pk).update(
            state=ImportJob.State.FAILED, finished_at=timezone.now()
        )
        raise
    ImportJob.objects.filter(pk=job.pk).update(
        state=ImportJob.State.DONE if report.ok else ImportJob.State.REFUSED,
        rows_checked=report.rows,
        stage="done",
        report=report.as_dict(),
        finished_at=timezone.now(),
    )

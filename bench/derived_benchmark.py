"""What the derived data costs (issue 24): the kept counts' size against the incident and
weapon tables, the import against a plain COPY without derived maintenance, and one
record's save with and without it.

    .venv/bin/python bench/derived_benchmark.py [--own 500000] [--others 500000]
        [--rows 100000] [--rounds 3] [--saves 200]
    .venv/bin/python bench/derived_benchmark.py --drop

The database first holds two seeded missions (bench/seeding.py, kept between runs):
DERIVED-OWN with `--own` incidents, whose contingent the import and the saves write to, and
DERIVED-OTHER with `--others`, so that every figure is taken beside another mission's data.
Each incident has 0-2 weapons (1.25 on average). The seeded rows' map changes are folded in
before anything is measured (a long log by geo_map_cells_rebuild(), as after an archive
load; a short one merged as the workers do) and the tables vacuumed. Then:

1. Storage: the derived tables (the map's cells and change log, the flow counts) against
   the incident and weapon tables, each with its indexes and TOAST. Target ≤ 0.5.
2. Import: `--rows` generated rows, in `--rounds` interleaved rounds (the order alternating),
   each in a transaction rolled back:
   - import: incidents_import() of the CSV file (every cell checked, geometry, H3 cell,
     country, admin area, history), with the map's change log written by its trigger;
   - copy:   COPY of the same rows into incidents_incident, from bytes prepared before the
     clock starts, with the derived maintenance (the map's trigger) disabled.
   Prints each with the load average before it, the medians, and copy / import (target
   ≥ 0.5). The merge of the imported rows' changes, done later by a worker, is timed
   inside the import's transaction and printed apart.
3. Save: `--saves` incidents with one weapon each, through the service of the records API
   (incident_create_with_items: permission, validation, geography, history), alternately
   with the derived maintenance on and off (every trigger that keeps derived data on
   incidents and weapons disabled), each in a transaction rolled back. Prints p50 and p95
   of both and their ratio (target ≤ 2).
"""

import argparse
import csv
import io
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "armsmonitor.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.import_benchmark import NOT_NULL_DEFAULTS, write_csv  # noqa: E402
from bench.seeding import incidents_seed, seed_drop, weapons_seed  # noqa: E402
from incidents.derived.merging import map_changes_merge  # noqa: E402
from incidents.imports.importer import incidents_import  # noqa: E402
from incidents.models import Incident  # noqa: E402
from incidents.services import incident_create_with_items  # noqa: E402
from organisations.choices import Role  # noqa: E402
from organisations.models import Membership  # noqa: E402

OWN, OTHER = "DERIVED-OWN", "DERIVED-OTHER"
SOURCE_TABLES = ("incidents_incident", "incidents_weaponitem")
DERIVED_TABLES = ("geo_incidentmapcell", "geo_incidentmapchange", "incidents_weaponflowcount")
# The triggers that keep derived data (docs/development/derived-data.md), by table; the
# others (revisions, append-only rules) stay on: they are not derived data. So does the
# weapon's BEFORE trigger that copies its incident's columns into its own row: they are
# NOT NULL columns of that row, not a table of their own.
DERIVED_TRIGGERS = {
    "incidents_incident": ("geo_map_cells_insert", "geo_map_cells_update", "incident_flow_columns"),
    "incidents_weaponitem": (
        "geo_map_cells_weapons_insert",
        "weaponitem_inserted_flow_counts",
    ),
}


# A log longer than this after seeding is an archive load: rebuilt, not merged in batches.
REBUILD_FROM = 500_000


class Rollback(Exception):
    pass


def load_average() -> str:
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def seeded(acronym: str, count: int):
    contingent = incidents_seed(acronym, count)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM incidents_weaponitem AS weapon JOIN incidents_incident"
            " AS incident ON incident.id = weapon.incident_id WHERE incident.mission_id = %s)",
            [contingent.mission_id],
        )
        armed = cursor.fetchone()[0]
    if not armed and count:
        began = time.perf_counter()
        weapons = weapons_seed(contingent.mission_id)
        print(f"  {weapons:,} weapons for {acronym} in {time.perf_counter() - began:.0f} s")
    return contingent


def merge_and_vacuum() -> None:
    """The seeded rows' map changes folded in, as an operator does after loading an archive
    (docs/operators/performance.md): a large log by geo_map_cells_rebuild() in one pass,
    a small one merged as the workers do."""
    began = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM geo_incidentmapchange")
        pending = cursor.fetchone()[0]
        if pending > REBUILD_FROM:
            cursor.execute("SELECT geo_map_cells_rebuild()")
            how = "rebuilt the cells"
        else:
            map_changes_merge()
            how = "merged"
    if pending:
        print(f"  {how} for {pending:,} logged changes in {time.perf_counter() - began:.0f} s")
    with connection.cursor() as cursor:
        for table in (*SOURCE_TABLES, *DERIVED_TABLES):
            cursor.execute(f"VACUUM ANALYZE {table}")


def table_bytes(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size(%s::regclass)", [table])
        return cursor.fetchone()[0]


def storage() -> None:
    print("\n1. Storage (tables with their indexes and TOAST)")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_incident")
        incidents = cursor.fetchone()[0]
        cursor.execute("SELECT count(*) FROM geo_incidentmapcell")
        cells = cursor.fetchone()[0]
    sizes = {table: table_bytes(table) for table in (*SOURCE_TABLES, *DERIVED_TABLES)}
    for table, size in sizes.items():
        print(f"  {table:<28} {size / 2**20:9.1f} MB")
    source = sum(sizes[table] for table in SOURCE_TABLES)
    derived = sum(sizes[table] for table in DERIVED_TABLES)
    print(
        f"  {incidents:,} incidents, {cells:,} kept cells: derived {derived / 2**20:.1f} MB"
        f" / source {source / 2**20:.1f} MB = {derived / source:.2f} (target ≤ 0.5)"
    )


def prepared_copy(path: Path, contingent, user) -> bytes:
    """The CSV's rows as COPY reads them, typed, made before any clock starts."""
    buffer = io.StringIO()
    with path.open() as handle:
        reader = csv.reader(handle)
        next(reader)
        for reference, occurred, latitude, longitude, kind, context, level in reader:
            buffer.write(
                f"{reference}\t{occurred}T00:00:00+00\tSRID=4326;POINT({longitude} {latitude})\t"
                f"{kind}\t{context}\t{level}\t{contingent.pk}\t{contingent.mission_id}\t"
                f"{user.pk}\tdraft\t{NOT_NULL_DEFAULTS}\n"
            )
    return buffer.getvalue().encode()


def disable(triggers: dict[str, tuple[str, ...]]) -> None:
    with connection.cursor() as cursor:
        for table, names in triggers.items():
            for name in names:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {name}")


def import_round(path: Path, contingent, user, rows: int) -> tuple[float, float]:
    """(seconds of the import, seconds of merging its changes), rolled back."""
    try:
        with transaction.atomic():
            began = time.perf_counter()
            with path.open("rb") as upload:
                report = incidents_import(
                    upload=upload, file_format="csv", contingent=contingent, by=user
                )
            imported = time.perf_counter() - began
            if not report.ok or report.incidents_created != rows:
                raise SystemExit(f"import failed: {report.as_dict()}")
            began = time.perf_counter()
            map_changes_merge()
            merged = time.perf_counter() - began
            raise Rollback
    except Rollback:
        pass
    return imported, merged


def copy_round(prepared: bytes) -> float:
    try:
        with transaction.atomic():
            disable({"incidents_incident": ("geo_map_cells_insert",)})
            began = time.perf_counter()
            with connection.cursor() as cursor:
                cursor.copy_expert(
                    "COPY incidents_incident (external_reference, occurred_at, location, kind,"
                    " context, releasability, contingent_id, mission_id, reported_by_id, state,"
                    " date_precision, location_precision, country, actor_type, actors,"
                    " narrative, source, source_reliability, return_comment, gbv_link,"
                    " withdrawn_reason, created_at, updated_at) FROM STDIN",
                    io.BytesIO(prepared),
                )
            seconds = time.perf_counter() - began
            raise Rollback
    except Rollback:
        pass
    return seconds


def imports(rows: int, rounds: int, contingent, user) -> None:
    print(f"\n2. Import of {rows:,} rows against COPY without derived maintenance")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "rows.csv"
        write_csv(rows, path)
        prepared = prepared_copy(path, contingent, user)
        timings: dict[str, list[float]] = {"import": [], "copy": [], "merge": []}
        for round_number in range(rounds):
            order = ("import", "copy") if round_number % 2 == 0 else ("copy", "import")
            for case in order:
                print(f"  round {round_number + 1} {case:<6} ({load_average()})", end=" ")
                if case == "import":
                    imported, merged = import_round(path, contingent, user, rows)
                    timings["import"].append(imported)
                    timings["merge"].append(merged)
                    print(f"{imported:7.2f} s, then its merge {merged:.2f} s")
                else:
                    timings["copy"].append(copy_round(prepared))
                    print(f"{timings['copy'][-1]:7.2f} s")
    medians = {case: statistics.median(values) for case, values in timings.items()}
    print(
        f"  medians: import {medians['import']:.2f} s ({rows / medians['import']:,.0f} rows/s),"
        f" copy {medians['copy']:.2f} s; copy / import = {medians['copy'] / medians['import']:.2f}"
        f" (target ≥ 0.5); the merge later: {medians['merge']:.2f} s"
    )


def one_save(contingent, user, number: int, *, maintained: bool) -> float:
    incident = Incident(
        contingent=contingent,
        occurred_at=datetime(2025, 1 + number % 12, 1 + number % 28, 10, tzinfo=UTC),
        location=Point(18.5 + (number % 50) / 100, 4.3 + (number % 40) / 100, srid=4326),
        kind="checkpoint_seizure",
        context="criminal",
        releasability=3,
        external_reference=f"SAVE-{number}",
    )
    weapon = {"category": "assault_rifle", "serial_number": f"SV{number}", "quantity": 1}
    try:
        with transaction.atomic():
            if not maintained:
                disable(DERIVED_TRIGGERS)
            began = time.perf_counter()
            incident_create_with_items(by=user, incident=incident, weapons=[weapon])
            seconds = time.perf_counter() - began
            raise Rollback
    except Rollback:
        pass
    return seconds


def saves(count: int, contingent, user) -> None:
    print(f"\n3. {count} single saves (one incident, one weapon), interleaved ({load_average()})")
    timings: dict[bool, list[float]] = {True: [], False: []}
    for number in range(count):
        order = (True, False) if number % 2 == 0 else (False, True)
        for maintained in order:
            timings[maintained].append(one_save(contingent, user, number, maintained=maintained))
    p50 = {case: statistics.median(values) * 1000 for case, values in timings.items()}
    p95 = {case: statistics.quantiles(values, n=20)[-1] * 1000 for case, values in timings.items()}
    print(
        f"  maintained p50 {p50[True]:.1f} ms p95 {p95[True]:.1f} ms;"
        f" off p50 {p50[False]:.1f} ms p95 {p95[False]:.1f} ms;"
        f" ratio p50 {p50[True] / p50[False]:.2f}, p95 {p95[True] / p95[False]:.2f}"
        f" (target ≤ 2) ({load_average()})"
    )


def reporter(contingent):
    user, _ = get_user_model().objects.get_or_create(username="derived-bench-reporter")
    Membership.objects.get_or_create(user=user, role=Role.REPORTER, contingent=contingent)
    return user


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--own", type=int, default=500_000)
    parser.add_argument("--others", type=int, default=500_000)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--saves", type=int, default=200)
    parser.add_argument("--drop", action="store_true", help="delete both seeded missions")
    arguments = parser.parse_args()
    if arguments.drop:
        for acronym in (OWN, OTHER):
            seed_drop(acronym)
        return
    print(f"Seeding ({load_average()})")
    seeded(OTHER, arguments.others)
    contingent = seeded(OWN, arguments.own)
    merge_and_vacuum()
    user = reporter(contingent)
    storage()
    imports(arguments.rows, arguments.rounds, contingent, user)
    saves(arguments.saves, contingent, user)


if __name__ == "__main__":
    main()

"""Import speed: ArmsMonitor's CSV import against a plain COPY and Django's bulk_create, and
into a contingent that already holds many incidents against an empty one.

    .venv/bin/python bench/import_benchmark.py [--rows 100000 1000000] [--skip-bulk-create]
    .venv/bin/python bench/import_benchmark.py --seed-incidents 1000000 [--seed-only]
        [--rows 100000] [--rounds 3]
    .venv/bin/python bench/import_benchmark.py --drop-seed

For each size, the same generated rows (points in the Central African Republic, valid
codes, unique references) go into the same table three ways, each inside a transaction that
is rolled back afterwards, so the database is left as it was:

- import:      incidents_import() on the CSV file: parse, validate every cell, build the
               geometry, derive H3 cell, country, admin area and nearest place, write history
- copy:        COPY of the same rows, already typed, straight into incidents_incident
- bulk_create: Incident objects built from the CSV rows, saved with bulk_create

Prints seconds and rows per second for each, and the ratios the issue asks for. Country
boundaries should be loaded (make run does it) for the derivation to do real work.

With `--seed-incidents N`, the case of issue 18 instead: the contingent of mission
BENCH-SEEDED is first seeded with N incidents (bench/seeding.py: once, kept for later runs,
about 20 minutes per million here; `--seed-only` stops there, `--drop-seed` deletes them), then
`--rounds` interleaved rounds import the same rows into that contingent ("big") and into the
empty contingent of mission BENCH ("empty"), each rolled back, alternating which goes first.
Prints each import's time with the load average (1, 5, 15 minutes) before it, the median of
each case and their ratio. Target: big no slower than 1.5x empty.
"""

import argparse
import csv
import io
import os
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "armsmonitor.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.contrib.gis.geos import Point  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from bench.seeding import incidents_seed, seed_drop  # noqa: E402
from incidents.imports.importer import incidents_import  # noqa: E402
from incidents.models import Incident  # noqa: E402
from organisations.choices import Role  # noqa: E402
from organisations.models import Contingent, Membership, Mission  # noqa: E402

HEADER = [
    "external_reference",
    "occurred_at",
    "latitude",
    "longitude",
    "kind",
    "context",
    "releasability",
]
KINDS = ["checkpoint_seizure", "cordon_search", "cache_discovery", "voluntary_surrender"]
CONTEXTS = ["armed_conflict", "criminal", "intercommunal", "other"]


SEEDED = "BENCH-SEEDED"


class Rollback(Exception):
    pass


def write_csv(rows: int, path: Path) -> None:
    rng = np.random.default_rng(1)
    latitudes = rng.uniform(3.0, 10.5, rows).round(6)
    longitudes = rng.uniform(15.0, 26.0, rows).round(6)
    days = rng.integers(0, 2000, rows)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n in range(rows):
            writer.writerow(
                [
                    f"BENCH-{n}",
                    datetime.fromordinal(737425 + int(days[n])).date().isoformat(),
                    latitudes[n],
                    longitudes[n],
                    KINDS[n % 4],
                    CONTEXTS[n % 4],
                    1 + n % 5,
                ]
            )


def timed(label: str, work, *arguments) -> float:
    start = time.perf_counter()
    try:
        with transaction.atomic():
            work(*arguments)
            raise Rollback
    except Rollback:
        pass
    seconds = time.perf_counter() - start
    print(f"  {label:<12} {seconds:8.2f} s")
    return seconds


def platform_import(path: Path, contingent: Contingent, user, rows: int) -> None:
    with path.open("rb") as upload:
        report = incidents_import(upload=upload, file_format="csv", contingent=contingent, by=user)
    if not report.ok or report.incidents_created != rows:
        raise SystemExit(f"import failed: {report.as_dict()}")


# The columns Django fills with defaults, which a plain COPY must give itself.
NOT_NULL_DEFAULTS = "\t".join(
    [
        "day",
        "exact",
        "",
        "unknown",
        "",
        "",
        "",
        "F",
        "",
        "f",
        "",
        "2026-01-01T00:00:00+00",
        "2026-01-01T00:00:00+00",
    ]
)


def plain_copy(path: Path, contingent: Contingent, user) -> None:
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
    buffer.seek(0)
    with connection.cursor() as cursor:
        cursor.copy_expert(
            "COPY incidents_incident (external_reference, occurred_at, location, kind, context, "
            "releasability, contingent_id, mission_id, reported_by_id, state, date_precision, "
            "location_precision, country, actor_type, actors, narrative, source, "
            "source_reliability, return_comment, gbv_link, withdrawn_reason, created_at, "
            "updated_at) FROM STDIN",
            buffer,
        )


def django_bulk_create(path: Path, contingent: Contingent, user) -> None:
    with path.open() as handle:
        reader = csv.reader(handle)
        next(reader)
        Incident.objects.bulk_create(
            (
                Incident(
                    external_reference=reference,
                    occurred_at=datetime.fromisoformat(occurred).replace(tzinfo=UTC),
                    location=Point(float(longitude), float(latitude), srid=4326),
                    kind=kind,
                    context=context,
                    releasability=int(level),
                    contingent=contingent,
                    mission_id=contingent.mission_id,
                    reported_by=user,
                    state="draft",
                )
                for reference, occurred, latitude, longitude, kind, context, level in reader
            ),
            batch_size=5_000,
        )


def load_average() -> str:
    return "load " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def big_against_empty(rows: int, rounds: int, big: Contingent, empty: Contingent, user) -> None:
    """Interleaved rounds of the same import into `big` and into `empty`, rolled back."""
    seconds: dict[str, list[float]] = {"big": [], "empty": []}
    held = Incident.objects.filter(contingent=big).count()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "incidents.csv"
        write_csv(rows, path)
        print(
            f"{rows:,} rows into a contingent holding {held:,} incidents (big) and into an "
            f"empty one (empty), {rounds} interleaved rounds; "
            f"{Incident.objects.count():,} incidents in the table; {os.cpu_count()} cores"
        )
        for number in range(rounds):
            order = ["big", "empty"] if number % 2 == 0 else ["empty", "big"]
            for case in order:
                contingent = big if case == "big" else empty
                print(f"  round {number + 1} {load_average()}", end="")
                seconds[case].append(timed(case, platform_import, path, contingent, user, rows))
    median = {case: float(np.median(times)) for case, times in seconds.items()}
    ratio = median["big"] / median["empty"]
    print(
        f"  median big {median['big']:.2f} s, empty {median['empty']:.2f} s: big/empty "
        f"{ratio:.2f} (target <= 1.5: {'met' if ratio <= 1.5 else 'MISSED'}); {load_average()}"
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--skip-bulk-create", action="store_true")
    parser.add_argument(
        "--seed-incidents",
        type=int,
        metavar="N",
        help="compare importing into a contingent seeded with N incidents and an empty one",
    )
    parser.add_argument("--seed-only", action="store_true")
    parser.add_argument("--drop-seed", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    arguments = parser.parse_args()

    if arguments.drop_seed:
        seed_drop(SEEDED)
        print(f"Deleted mission {SEEDED} and its incidents.")
        return
    big = incidents_seed(SEEDED, arguments.seed_incidents) if arguments.seed_incidents else None
    if arguments.seed_only:
        return

    with transaction.atomic():
        mission, _ = Mission.objects.get_or_create(
            acronym="BENCH", defaults={"name": "Benchmark mission"}
        )
        contingent, _ = Contingent.objects.get_or_create(
            mission=mission,
            name="Benchmark",
            defaults={"contributing_country": "RWA", "kind": "tcc"},
        )
        user, _ = get_user_model().objects.get_or_create(username="bench-reporter")
        Membership.objects.get_or_create(user=user, role=Role.REPORTER, contingent=contingent)
        if big is not None:
            Membership.objects.get_or_create(user=user, role=Role.REPORTER, contingent=big)

    if big is not None:
        for rows in arguments.rows:
            big_against_empty(rows, arguments.rounds, big, contingent, user)
        return

    for rows in arguments.rows:
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "incidents.csv"
            write_csv(rows, path)
            print(
                f"{rows:,} rows ({path.stat().st_size / 1e6:.0f} MB of CSV), "
                f"{Incident.objects.count():,} incidents already in the table"
            )

            imported = timed("import", platform_import, path, contingent, user, rows)
            copied = timed("copy", plain_copy, path, contingent, user)
            bulk = (
                None
                if arguments.skip_bulk_create
                else timed("bulk_create", django_bulk_create, path, contingent, user)
            )
            print(
                f"  import rate {rows / imported:,.0f} rows/s; copy {rows / copied:,.0f} "
                f"rows/s; import/copy rate ratio {copied / imported:.2f} (target >= 0.3)"
            )
            if bulk:
                print(
                    f"  bulk_create {rows / bulk:,.0f} rows/s; import is {bulk / imported:.1f}x "
                    "faster than bulk_create (target >= 5)"
                )


if __name__ == "__main__":
    main()

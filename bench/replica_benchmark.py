"""Map reads on a streaming replica against the same reads on the primary, while a writer
inserts incidents on the primary, and the replica's lag meanwhile.

    PYTHONUNBUFFERED=1 .venv/bin/python bench/replica_benchmark.py [--incidents 100000]
        [--rounds 30] [--writes-per-second 20]

Starts a private primary and a hot standby of it on this machine (tests/replica_pair.py:
initdb, pg_basebackup -R; the shared server refuses replication), migrates the primary,
seeds `--incidents` verified incidents with COPY (bench/seeding.py: clustered around 300
towns over the Central African Republic; the triggers keep the map's counts as for any
write), and waits until the replica has replayed them. Then a writer process inserts
incidents on the primary, one per transaction, at `--writes-per-second`, and this process
asks the map data endpoint (/map/incidents.geojson, through Django's test client, DEBUG off,
as an administrator) for each viewport below, `--rounds` interleaved rounds, each round
reading every viewport once from each side, the side that goes first alternating:

- primary: the endpoint with no replica chosen (what it does without DATABASE_REPLICA_URL);
- replica: the endpoint as configured, its lag probe included (one statement on each server).

Prints per viewport p50/p95 of each side and the ratio replica/primary, then the replica's
lag (seconds and bytes, as each replica answer reported it: p50, p95, max) and how many
rows the writer wrote. The load average is printed at the start and the end: the machine is
shared, and a busy neighbour moves every figure.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from tests.replica_pair import ReplicaPair  # noqa: E402

ACRONYM = "REPLICA-BENCH"
SCREEN = (1366, 768)
# (label, centre longitude, centre latitude, zoom, filters): kept counts at low zooms, the
# incidents themselves (points, or counted with a filter the kept counts cannot answer).
VIEWPORTS = [
    ("z6 country", 20.9, 6.6, 6, {}),
    ("z8 district", 18.6, 4.4, 8, {}),
    (
        "z6 kind + year",
        20.9,
        6.6,
        6,
        {"kind": ["cache_discovery"], "occurred_after": "2024-01-01T00:00:00Z"},
    ),
    ("z6 free text (counted)", 20.9, 6.6, 6, {"q": "SEED-1"}),
    ("z12 points", 18.58, 4.37, 12, {}),
]


def load_average() -> str:
    return "load average " + " ".join(f"{value:.2f}" for value in os.getloadavg())


def viewport_query(longitude: float, latitude: float, zoom: int, filters: dict) -> dict:
    degrees_per_pixel = 360 / (256 * 2**zoom)
    half_width, half_height = (side * degrees_per_pixel / 2 for side in SCREEN)
    bbox = (
        longitude - half_width,
        latitude - half_height,
        longitude + half_width,
        latitude + half_height,
    )
    return {**filters, "bbox": ",".join(f"{value:.5f}" for value in bbox), "zoom": str(zoom)}


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def environment(pair: ReplicaPair) -> dict[str, str]:
    """The platform's settings for both servers, DEBUG off (no query log kept in memory)."""
    return {
        **os.environ,
        "DEBUG": "false",
        "ARMSMONITOR_ENV_FILE": os.devnull,
        "SECRET_KEY": "replica-benchmark-only-" + "x" * 40,
        "CUSTODY_HMAC_KEYS": "bench:" + "y" * 40,
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "ALLOWED_HOSTS": "testserver",
        "DATABASE_URL": pair.url("primary"),
        "DATABASE_REPLICA_URL": pair.url("replica"),
        "DATABASE_APP_ROLE": "",
        "CELERY_QUEUE": f"armsmonitor-replica-bench-{os.getpid()}",
        "PYTHONUNBUFFERED": "1",
    }


# --- the writer: its own process, so that it never waits on this one's interpreter --------


def writer(dsn: str, contingent_id: int, mission_id: int, rate: float) -> None:
    """Insert one verified incident per transaction at `rate` per second until stdin closes
    (the benchmark's end); print how many were written."""
    import select

    import psycopg2

    connection = psycopg2.connect(dsn)
    connection.autocommit = True
    written = 0
    interval = 1 / rate
    next_at = time.monotonic()
    with connection.cursor() as cursor:
        while not select.select([sys.stdin], [], [], 0)[0]:
            cursor.execute(
                "INSERT INTO incidents_incident (kind, occurred_at, location, context,"
                " releasability, location_precision, country, actors, narrative, state,"
                " gbv_link, created_at, updated_at, contingent_id, mission_id, actor_type,"
                " date_precision, external_reference, return_comment, withdrawn_reason,"
                " source_reliability, source, h3_cell)"
                " VALUES ('checkpoint_seizure', now(), ST_SetSRID(ST_MakePoint("
                "   18.5 + random() * 0.2, 4.3 + random() * 0.2), 4326), 'criminal', 3,"
                "   'exact', 'CAF', '', '', 'verified', false, now(), now(), %s, %s,"
                "   'unknown', 'day', %s, '', '', 'F', '', 0)",
                [contingent_id, mission_id, f"WRITER-{os.getpid()}-{written}"],
            )
            written += 1
            next_at += interval
            time.sleep(max(0.0, next_at - time.monotonic()))
    print(written, flush=True)


# --- the benchmark --------------------------------------------------------------------------


def measure(options: argparse.Namespace, pair: ReplicaPair) -> None:
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client
    from seeding import incidents_seed

    from armsmonitor.replica import PRIMARY, ReadSource

    began = time.perf_counter()
    contingent = incidents_seed(ACRONYM, options.incidents)
    print(f"seeded in {time.perf_counter() - began:.0f} s; waiting for the replica", flush=True)
    pair.wait_for_replay(timeout=3600)
    admin = get_user_model().objects.create_superuser("replica-bench", "bench@example.org", None)
    client = Client()
    client.force_login(admin)

    def read(query: dict, side: str) -> tuple[float, dict]:
        if side == "primary":
            # The endpoint as it runs without a replica configured.
            with mock.patch("geo.map.views.read_source", return_value=ReadSource(PRIMARY)):
                started = time.perf_counter()
                response = client.get("/map/incidents.geojson", query)
        else:
            started = time.perf_counter()
            response = client.get("/map/incidents.geojson", query)
        elapsed = (time.perf_counter() - started) * 1000
        if response.status_code != 200:
            raise RuntimeError(f"{side}: {response.status_code} {response.content[:300]!r}")
        return elapsed, response.json()

    queries = {label: viewport_query(*viewport) for label, *viewport in VIEWPORTS}
    # Warm both servers' caches and connections before anything is timed.
    for query in queries.values():
        for side in ("primary", "replica"):
            read(query, side)

    write = subprocess.Popen(  # noqa: S603 - this script, fixed arguments
        [
            sys.executable,
            __file__,
            "--writer",
            pair.url("primary").replace("postgres://", "postgresql://"),
            str(contingent.pk),
            str(contingent.mission_id),
            str(options.writes_per_second),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    times: dict[tuple[str, str], list[float]] = {
        (label, side): [] for label in queries for side in ("primary", "replica")
    }
    lag_seconds: list[float] = []
    lag_bytes: list[int] = []
    fallbacks = 0
    run_began = time.perf_counter()
    try:
        for round_number in range(options.rounds):
            sides = ("primary", "replica") if round_number % 2 == 0 else ("replica", "primary")
            for label, query in queries.items():
                for side in sides:
                    elapsed, body = read(query, side)
                    times[label, side].append(elapsed)
                    if side == "replica":
                        source = body["source"]
                        if source["database"] != "replica":
                            fallbacks += 1
                            continue
                        lag_seconds.append(source["lag_seconds"])
                        lag_bytes.append(source["lag_bytes"])
    finally:
        write.stdin.close()
        written = int(write.stdout.read().strip() or 0)
        write.wait()
    run_seconds = time.perf_counter() - run_began

    print(
        f"\n{options.incidents:,} incidents seeded; {options.rounds} interleaved rounds; "
        f"writer: {written:,} incidents in {run_seconds:.0f} s "
        f"({written / run_seconds:.1f}/s, asked {options.writes_per_second:g}/s)"
    )
    print(
        f"{'viewport':<26}{'primary p50':>12}{'p95':>8}{'replica p50':>13}{'p95':>8}"
        f"{'ratio p50':>11}{'p95':>7}"
    )
    for label in queries:
        primary, replica = times[label, "primary"], times[label, "replica"]
        p50 = (statistics.median(primary), statistics.median(replica))
        p95 = (percentile(primary, 0.95), percentile(replica, 0.95))
        print(
            f"{label:<26}{p50[0]:>10.1f}ms{p95[0]:>6.1f}ms{p50[1]:>11.1f}ms{p95[1]:>6.1f}ms"
            f"{p50[1] / p50[0]:>10.2f}×{p95[1] / p95[0]:>6.2f}×"
        )
    if lag_seconds:
        print(
            f"replica lag over {len(lag_seconds)} answers: seconds p50 "
            f"{statistics.median(lag_seconds):.3f}, p95 {percentile(lag_seconds, 0.95):.3f}, "
            f"max {max(lag_seconds):.3f}; bytes p50 {statistics.median(lag_bytes):,.0f}, "
            f"p95 {percentile(lag_bytes, 0.95):,.0f}, max {max(lag_bytes):,}; "
            f"answers at 0 bytes behind: {sum(1 for value in lag_bytes if value == 0)}"
        )
    print(f"replica answers that fell back to the primary: {fallbacks}")


def main() -> None:
    if sys.argv[1:2] == ["--writer"]:
        dsn, contingent_id, mission_id, rate = sys.argv[2:6]
        writer(dsn, int(contingent_id), int(mission_id), float(rate))
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--writes-per-second", type=float, default=20.0)
    options = parser.parse_args()
    print(load_average(), flush=True)
    pair = ReplicaPair.create(log_statement="none")
    try:
        settings = environment(pair)
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=ROOT,
            env=settings,
            check=True,
            timeout=3600,
        )
        os.environ.update(settings)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "armsmonitor.settings")
        measure(options, pair)
    finally:
        pair.remove()
    print(load_average())


if __name__ == "__main__":
    main()

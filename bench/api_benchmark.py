"""Agency API speed: exports against psql's COPY, list pages, and requests per second.

    .venv/bin/python bench/api_benchmark.py [--incidents 1000000] [--requests 200]
        [--load-seconds 15] [--load-connections 16] [--others N]

Generates `--incidents` verified incidents (hotspots_benchmark's generator: clustered
around towns over the Central African Republic, releasability 3) in a mission of the
script's own, after `--others` incidents of another mission (9x as many by default: the
reader's records one tenth of the table, all after the others' in id order, as when one
mission among ten joins late; inserted with the database's triggers off, since only the
incidents table matters to these reads, and deleted the same way at the end), an agency
whose agreement covers that mission (generalised locations) and an API key for it. Then
starts gunicorn (armsmonitor.wsgi, 2 workers, 127.0.0.1:8765, DEBUG off, the agency's
request budget lifted) and, in one run, measures as that agency:

- GeoJSON export (`/api/v1/incidents/export.geojson?mission=…`, read to the end over HTTP)
  against `psql -c "COPY (SELECT json_build_object(… ST_AsGeoJSON …)::text …) TO STDOUT"
  > /dev/null` for the same rows; the workers' peak resident memory (VmHWM);
- CSV export against `psql -c "COPY (SELECT …) TO STDOUT WITH CSV" > /dev/null`;
- list pages, broad (`?mission=…&limit=100`) and selective (`&kind=cache_discovery`), the
  first page and a deep one (after nine tenths of the mission's incidents, its cursor made
  as the server makes it): p50/p95 of `--requests` HTTP requests, each followed by the
  page's own SQL (captured from the same request served in this process) on a warm
  connection, in interleaved rounds (target: HTTP p95 <= 1.5x the SQL's);
- a minimal request, `GET /api/v1/incidents?limit=1` with the key, under load from `wrk`
  (apt-get install wrk) on the same machine, or from a thread pool when wrk is missing:
  requests per second and p95.

Prints each figure with its target and met/MISSED. The incidents and the mission it created
are deleted at the end, also after an error or Ctrl-C, and gunicorn is stopped; its agency
stays, deactivated and with its keys revoked, since the audit trail of its requests is
append-only.
"""

import argparse
import base64
import http.client
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from hotspots_benchmark import (
    benchmark_mission,
    generate_points,
    incidents_delete,
    incidents_insert,
)

from incidents.models import Incident
from organisations.choices import AgencyKind, Releasability
from organisations.models import Agency, Contingent, Mission, SharingAgreement
from organisations.services import agency_api_key_create

ROOT = Path(__file__).resolve().parent.parent
ACRONYM = "BENCH-API"
OTHERS_ACRONYM = "BENCH-API-OTHERS"
AGENCY = "Benchmark agency (api_benchmark)"
HOST, PORT = "127.0.0.1", 8765
MEMORY_LIMIT_MB = 200

# The baselines: the same rows, built the plain way, straight from the table.
PSQL_GEOJSON = """COPY (SELECT json_build_object(
    'type', 'Feature', 'id', i.id,
    'properties', json_build_object(
        'id', i.id, 'kind', i.kind, 'occurred_at', i.occurred_at,
        'location_is_exact', false, 'location_precision', i.location_precision,
        'country', i.country, 'context', i.context, 'mission', m.acronym,
        'contingent', c.name, 'releasability', i.releasability, 'state', i.state,
        'external_reference', i.external_reference, 'updated_at', i.updated_at),
    'geometry', ST_AsGeoJSON(ST_SnapToGrid(i.location, {cell}), 6)::json)::text
FROM incidents_incident i
JOIN organisations_mission m ON m.id = i.mission_id
JOIN organisations_contingent c ON c.id = i.contingent_id
WHERE i.mission_id = {mission} ORDER BY i.occurred_at DESC, i.id DESC) TO STDOUT"""
PSQL_CSV = """COPY (SELECT i.id, i.kind, i.occurred_at,
    ST_X(ST_SnapToGrid(i.location, {cell})), ST_Y(ST_SnapToGrid(i.location, {cell})),
    false, i.location_precision, i.country, i.context, m.acronym, c.name,
    i.releasability, i.state, i.external_reference, i.updated_at
FROM incidents_incident i
JOIN organisations_mission m ON m.id = i.mission_id
JOIN organisations_contingent c ON c.id = i.contingent_id
WHERE i.mission_id = {mission} ORDER BY i.occurred_at DESC, i.id DESC)
TO STDOUT WITH (FORMAT csv, HEADER true)"""


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


# --- Gunicorn ----------------------------------------------------------------------------------


def gunicorn_start() -> subprocess.Popen:
    environment = {
        **os.environ,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "API_RATE_AGENCY": "1000000000/second",
        "SECRET_KEY": settings.SECRET_KEY,
        # Required with DEBUG off: the same keys as this process's (its own or DEBUG's).
        "CUSTODY_HMAC_KEYS": ",".join(
            f"{key_id}:{secret}" for key_id, secret in settings.CUSTODY_HMAC_KEYS.items()
        ),
    }
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "armsmonitor.wsgi",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            "2",
            "--timeout",
            "900",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=environment,
        start_new_session=True,
    )
    for _ in range(150):
        time.sleep(0.2)
        try:
            get("/api/v1/incidents", {})  # any answer: a 401
        except OSError:
            continue
        if len(gunicorn_workers(server)) == 2:
            return server
    gunicorn_stop(server)
    raise SystemExit("gunicorn did not start")


def gunicorn_stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def gunicorn_workers(server: subprocess.Popen) -> list[int]:
    children = Path(f"/proc/{server.pid}/task/{server.pid}/children")
    return [int(pid) for pid in children.read_text().split()] if children.exists() else []


def memory_mb(pid: int, field: str) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(rf"^{field}:\s+(\d+) kB", status, re.M).group(1)) / 1024


# --- Requests ----------------------------------------------------------------------------------


def get(path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    client = http.client.HTTPConnection(HOST, PORT, timeout=900)
    try:
        client.request("GET", path, headers=headers)
        response = client.getresponse()
        return response.status, response.read()
    finally:
        client.close()


def download(path: str, headers: dict[str, str]) -> tuple[float, int]:
    """Seconds to read the whole answer, and its size in bytes."""
    start = time.perf_counter()
    client = http.client.HTTPConnection(HOST, PORT, timeout=900)
    size = 0
    try:
        client.request("GET", path, headers=headers)
        response = client.getresponse()
        if response.status != 200:
            raise SystemExit(f"{path}: {response.status} {response.read()[:300]!r}")
        while chunk := response.read(1 << 20):
            size += len(chunk)
    finally:
        client.close()
    return time.perf_counter() - start, size


def psql_copy(sql: str) -> float:
    """Seconds psql takes to COPY `sql` to /dev/null."""
    database = settings.DATABASES["default"]
    environment = {**os.environ, "PGPASSWORD": database.get("PASSWORD") or ""}
    command = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", " ".join(sql.split())]
    command += ["-h", database["HOST"] or "127.0.0.1", "-p", str(database["PORT"] or 5432)]
    command += ["-U", database["USER"], "-d", database["NAME"]]
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, env=environment, check=True)  # noqa: S603
    return time.perf_counter() - start


def timings(path: str, headers: dict[str, str], count: int) -> list[float]:
    seconds = []
    for _ in range(count):
        start = time.perf_counter()
        status, _body = get(path, headers)
        seconds.append(time.perf_counter() - start)
        if status != 200:
            raise SystemExit(f"{path}: {status}")
    return seconds


def p(values: list[float], percent: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[percent - 1]


def cursor_after(incident_id: int) -> str:
    """The cursor DRF's CursorPagination makes for the page after `incident_id` (by id)."""
    return base64.b64encode(urlencode({"p": str(incident_id)}).encode()).decode()


# --- Measurements ------------------------------------------------------------------------------


class PeakMemory:
    """Samples the workers' resident memory every 50 ms; VmHWM gives the true peak."""

    def __init__(self, pids: list[int]):
        self.pids, self.peak, self.stop = pids, 0.0, threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def sample(self) -> None:
        while not self.stop.wait(0.05):
            self.peak = max([self.peak] + [memory_mb(pid, "VmRSS") for pid in self.pids])

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def export_against_copy(
    label: str, path: str, headers, baseline: str, ratio_target: float, workers: list[int]
) -> None:
    before = max(memory_mb(pid, "VmRSS") for pid in workers)
    with PeakMemory(workers) as sampled:
        seconds, size = download(path, headers)
    copy_seconds = psql_copy(baseline)
    high_water = max(memory_mb(pid, "VmHWM") for pid in workers)
    ratio = copy_seconds / seconds
    print(
        f"  {label} export {seconds:6.2f} s ({size / 1e6:,.0f} MB); psql COPY {copy_seconds:6.2f} s"
        f"; speed ratio {ratio:.2f} "
        f"(target >= {ratio_target}): {verdict(ratio >= ratio_target)}"
    )
    print(
        f"  {label} web worker peak memory {high_water:,.0f} MB (VmHWM; sampled RSS peak "
        f"{sampled.peak:,.0f} MB, {before:,.0f} MB before it) (target < {MEMORY_LIMIT_MB} MB): "
        f"{verdict(high_water < MEMORY_LIMIT_MB)}"
    )


def load(path: str, key: str, seconds: int, connections: int) -> None:
    url = f"http://{HOST}:{PORT}{path}"
    if shutil.which("wrk"):
        command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--latency"]
        command += ["-s", str(_wrk_p95_script()), "-H", f"Authorization: Api-Key {key}", url]
        output = subprocess.run(  # noqa: S603 - wrk with our own arguments
            command,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))
        p95 = float(re.search(r"^p95_ms ([\d.]+)", output, re.M).group(1))
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        tool = f"wrk, 2 threads, {connections} connections, {seconds} s"
        if errors:
            tool += f"; {errors.group(1)} non-2xx answers"
    else:
        deadline = time.perf_counter() + seconds
        headers = {"Authorization": f"Api-Key {key}"}

        def client() -> list[float]:
            latencies = []
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                get(path, headers)
                latencies.append(time.perf_counter() - start)
            return latencies

        start = time.perf_counter()
        with ThreadPoolExecutor(connections) as pool:
            latencies = [
                s for result in pool.map(lambda _: client(), range(connections)) for s in result
            ]
        rate = len(latencies) / (time.perf_counter() - start)
        p95 = p(latencies, 95) * 1000
        tool = f"Python thread pool, {connections} threads, {seconds} s"
    print(f"  minimal request under load ({tool}): {rate:,.0f} requests/s, p95 {p95:.1f} ms")


def _wrk_p95_script() -> Path:
    script = Path(tempfile.gettempdir()) / "api_benchmark_p95.lua"
    script.write_text(
        "done = function(summary, latency, requests)\n"
        '  io.write(string.format("p95_ms %.3f\\n", latency:percentile(95) / 1000))\n'
        "end\n"
    )
    return script


@contextmanager
def other_missions_incidents(count: int) -> Iterator[None]:
    """`count` incidents of another mission, inserted with the triggers off, deleted at the
    end (also after an error) the same way."""
    _others_delete()
    if not count:
        yield
        return
    mission = Mission.objects.create(acronym=OTHERS_ACRONYM, name="API benchmark: others")
    contingent = Contingent.objects.create(
        mission=mission, name="Others", contributing_country="RWA", kind="tcc"
    )
    try:
        start = time.perf_counter()
        longitude, latitude = generate_points(count, seed=20260202)
        incidents_insert(longitude, latitude, contingent, seed=2, derived=False)
        print(
            f"{count:,} incidents of another mission inserted first (triggers off) in "
            f"{time.perf_counter() - start:.1f} s"
        )
        yield
    finally:
        connection.close()
        _others_delete()


def _others_delete() -> None:
    mission = Mission.objects.filter(acronym=OTHERS_ACRONYM).first()
    if mission is not None:
        incidents_delete(mission, derived=False)
        Contingent.objects.filter(mission=mission).delete()
        mission.delete()


def page_sql(path: str, raw_key: str) -> str:
    """The SQL of the page query that serving `path` runs (the same request, served in this
    process)."""
    host = next((h.lstrip(".") for h in settings.ALLOWED_HOSTS if h != "*"), "localhost")
    client = Client(HTTP_AUTHORIZATION=f"Api-Key {raw_key}", HTTP_HOST=host)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path)
    if response.status_code != 200:
        raise SystemExit(f"{path}: {response.status_code} {response.content[:300]!r}")
    (sql,) = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().startswith('SELECT "incidents_incident"."id"')
        and " LIMIT " in query["sql"]
    ]
    return sql


def page_against_sql(label: str, path: str, headers, raw_key: str, count: int) -> None:
    """HTTP p95 of `path` against its own SQL's p95 on a warm connection, interleaved."""
    sql = page_sql(path, raw_key)
    http_seconds, sql_seconds = [], []
    with connection.cursor() as cursor:
        cursor.execute(sql)  # warm
        cursor.fetchall()
        for _ in range(count):
            http_seconds += timings(path, headers, 1)
            start = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            sql_seconds.append(time.perf_counter() - start)
    ratio = p(http_seconds, 95) / p(sql_seconds, 95)
    print(
        f"  {label:<28} HTTP p50 {p(http_seconds, 50) * 1000:6.1f} ms, p95 "
        f"{p(http_seconds, 95) * 1000:6.1f} ms; its SQL p50 {p(sql_seconds, 50) * 1000:6.1f} ms,"
        f" p95 {p(sql_seconds, 95) * 1000:6.1f} ms; HTTP p95 {ratio:.2f}x the SQL's "
        f"(target <= 1.5x): {verdict(ratio <= 1.5)}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--load-seconds", type=int, default=15)
    parser.add_argument("--load-connections", type=int, default=16)
    parser.add_argument(
        "--others", type=int, default=None, help="other missions' incidents (9x by default)"
    )
    arguments = parser.parse_args()
    others = 9 * arguments.incidents if arguments.others is None else arguments.others
    sys.stdout.reconfigure(line_buffering=True)

    from organisations.access import GENERALISED_CELL_DEGREES

    print(f"load average {os.getloadavg()}")
    with (
        other_missions_incidents(others),
        benchmark_mission(ACRONYM, "API benchmark mission") as (mission, contingent),
    ):
        server = None
        try:
            _agency_retire()
            longitude, latitude = generate_points(arguments.incidents)
            start = time.perf_counter()
            incidents_insert(longitude, latitude, contingent)
            print(
                f"{arguments.incidents:,} incidents inserted in {time.perf_counter() - start:.1f} s"
            )
            # Kept between runs: the audit trail it leaves cannot be deleted, nor can it.
            agency, _created = Agency.objects.update_or_create(
                name=AGENCY,
                defaults={"kind": AgencyKind.REGIONAL_SECRETARIAT, "is_active": True},
            )
            agreement = SharingAgreement.objects.create(
                agency=agency,
                lowest_releasability=Releasability.REGIONAL_ORGANISATION,
                valid_from=date(2020, 1, 1),
            )
            agreement.missions.add(mission)
            _key, raw_key = agency_api_key_create(agency=agency, name="api_benchmark")
            headers = {"Authorization": f"Api-Key {raw_key}"}

            server = gunicorn_start()
            workers = gunicorn_workers(server)
            idle = max(memory_mb(pid, "VmRSS") for pid in workers)
            print(f"gunicorn on {HOST}:{PORT}, workers {workers}, {idle:,.0f} MB each when idle")

            print("Exports (as the agency: generalised locations):")
            baseline = {"cell": GENERALISED_CELL_DEGREES, "mission": mission.pk}
            export_against_copy(
                "GeoJSON",
                f"/api/v1/incidents/export.geojson?mission={ACRONYM}",
                headers,
                PSQL_GEOJSON.format(**baseline),
                0.5,
                workers,
            )
            export_against_copy(
                "CSV",
                f"/api/v1/incidents/export.csv?mission={ACRONYM}",
                headers,
                PSQL_CSV.format(**baseline),
                0.7,
                workers,
            )

            total = Incident.objects.count()
            print(
                f"List pages ({arguments.requests} requests each, {total:,} incidents in the "
                f"table; load average {os.getloadavg()}):"
            )
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT id FROM incidents_incident WHERE mission_id = %s "
                    "ORDER BY id OFFSET %s LIMIT 1",
                    [mission.pk, arguments.incidents * 9 // 10],
                )
                (deep_id,) = cursor.fetchone()
            broad = f"/api/v1/incidents?mission={ACRONYM}&limit=100"
            selective = f"{broad}&kind=cache_discovery"
            deep = f"&cursor={cursor_after(deep_id)}"
            for label, path in (
                ("first page, broad", broad),
                ("first page, selective", selective),
                ("deep page, broad", broad + deep),
                ("deep page, selective", selective + deep),
            ):
                page_against_sql(label, path, headers, raw_key, arguments.requests)

            print("Minimal authenticated request under gunicorn (2 workers, 2 shared cores):")
            load(
                "/api/v1/incidents?limit=1",
                raw_key,
                arguments.load_seconds,
                arguments.load_connections,
            )
        finally:
            if server is not None:
                gunicorn_stop(server)
            connection.close()
            _agency_retire()


def _agency_retire() -> None:
    """The benchmark's agency loses its agreements and keys and is deactivated."""
    agency = Agency.objects.filter(name=AGENCY).first()
    if agency is not None:
        agency.agreements.all().delete()
        agency.api_keys.update(revoked=True)
        Agency.objects.filter(pk=agency.pk).update(is_active=False)


if __name__ == "__main__":
    main()

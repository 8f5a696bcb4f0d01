"""The analyst's map at scale: every map data request against the same SQL run directly,
bytes per viewport, and the map's first complete render in headless Chromium.

    .venv/bin/python bench/map_benchmark.py [--incidents 1000000] [--requests 40] [--keep]
        [--renders 5]

Generates `--incidents` verified incidents (hotspots_benchmark's generator: clustered
around 300 towns over the Central African Republic, releasability 3, one contingent) in a
mission of the script's own (MAP-BENCH), COPYs them into incidents_incident, then gives
them their weapons in one INSERT (0-2 each, 1.25 on average, categories skewed towards
assault rifles and pistols; the triggers log their changes of the map's counts as for
any write, each step timed), and creates two readers:
an administrator (exact locations) and a regional analyst of a region holding CAF
(generalised locations). With `--keep`, the incidents stay for the next run, which reuses
them when their number matches (loading a million takes a few minutes).

Another mission (MAP-OTHER, `--others` incidents, bench/seeding.py, kept between runs) shares
the tables, as on a server holding several missions. The map's change log is merged and the
tables vacuumed before measuring.

Starts gunicorn (armsmonitor.wsgi, 2 workers, 127.0.0.1:8766, DEBUG off, no tile server)
and, for each reader and each viewport below (a 1366 × 768 screen at that zoom; filters as
the page sends them), runs `--requests` interleaved rounds, the load average printed per
viewport; each round makes one request of /map/incidents.geojson with the reader's session,
then runs the statements that request runs (captured from the map code in this process,
for the same reader and filter) on a warm psycopg2 connection; the first `--plain-samples`
rounds also run the plain GROUP BY of the same viewport over the incidents
(layers.cells_query).

Targets (issues 8 and 24): HTTP p95 < 100 ms and ≤ 1.5 × the same statements' p95 on the
warm connection; where the kept counts answer, those statements ≤ 0.3 × the plain GROUP BY
(medians); ≤ 500 kB per viewport; first complete render
(map, countries and incidents drawn: the page's `data-ready` mark) < 2 s. A weapon category is
read from the kept counts (per set of the incident's weapon categories); dates off month
boundaries read their whole months kept and count the days at their edges from the
incidents (through an index of their moment): both judged. A category with a kind, which
the kept counts cannot answer, counts the incidents themselves: printed apart, not judged.
"""

import argparse
import http.client
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psycopg2
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.http import QueryDict
from django.test import Client
from hotspots_benchmark import generate_points, incidents_insert  # (sets up Django)

from bench.seeding import incidents_seed, weapons_seed
from geo.map import layers
from geo.models import Region
from incidents.access import incident_visibility
from incidents.derived.merging import map_changes_merge
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident, WeaponItem
from organisations.choices import Role
from organisations.models import Contingent, Membership, Mission

ROOT = Path(__file__).resolve().parent.parent
ACRONYM = "MAP-BENCH"
REGION = "map-bench-caf"
READERS = {"map-bench-admin": "exact", "map-bench-regional": "generalised"}
HOST, PORT = "127.0.0.1", 8766
SCREEN = (1366, 768)
TARGET_MS, TARGET_RATIO, TARGET_BYTES, TARGET_RENDER_S = 100.0, 1.5, 500_000, 2.0
TARGET_PLAIN_RATIO = 0.3
OTHERS = "MAP-OTHER"

# (label, centre longitude, centre latitude, zoom, filters)
YEAR_2024 = {"occurred_after": "2024-01-01T00:00:00Z", "occurred_before": "2024-12-31T23:59:59Z"}
DAYS_IN_MARCH = {
    "occurred_after": "2024-03-05T00:00:00Z",
    "occurred_before": "2024-03-25T23:59:59Z",
}
VIEWPORTS = [
    ("z4 region", 20.9, 6.6, 4, {}),
    ("z6 country", 20.9, 6.6, 6, {}),
    ("z6 kind + year", 20.9, 6.6, 6, {"kind": ["cache_discovery"], **YEAR_2024}),
    ("z6 mission + level", 20.9, 6.6, 6, {"mission": [ACRONYM], "releasability": ["3"]}),
    ("z8 district", 18.6, 4.4, 8, {}),
    ("z10 town", 18.6, 4.4, 10, {}),
    ("z12 streets", 18.58, 4.37, 12, {}),
    ("z14 points", 18.58, 4.37, 14, {}),
    ("z6 category", 20.9, 6.6, 6, {"category": ["assault_rifle"]}),
    ("z6 2 categories + year", 20.9, 6.6, 6, {"category": ["mortar", "manpads"], **YEAR_2024}),
    ("z8 category", 18.6, 4.4, 8, {"category": ["smg"]}),
    ("z10 category", 18.6, 4.4, 10, {"category": ["assault_rifle"]}),
    ("z12 category", 18.58, 4.37, 12, {"category": ["grenade_launcher"]}),
    # Dates off month boundaries: the whole months kept, the edge days counted.
    ("z6 mid-month", 20.9, 6.6, 6, {"occurred_after": "2024-01-15T00:00:00Z"}),
    ("z8 mid-month", 18.6, 4.4, 8, {"occurred_after": "2024-01-15T00:00:00Z"}),
    ("z6 days in a month", 20.9, 6.6, 6, DAYS_IN_MARCH),
]
FALLBACK = [
    # A category with a kind: the category grains sum kinds over, every incident counted.
    (
        "z6 category + kind (counted)",
        20.9,
        6.6,
        6,
        {"category": ["assault_rifle"], "kind": ["cache_discovery"]},
    ),
]


def viewport_bbox(longitude: float, latitude: float, zoom: int) -> str:
    degrees_per_pixel = 360 / (256 * 2**zoom)
    half_width, half_height = (side * degrees_per_pixel / 2 for side in SCREEN)
    box = (
        max(-180, longitude - half_width),
        max(-90, latitude - half_height),
        min(180, longitude + half_width),
        min(90, latitude + half_height),
    )
    return ",".join(f"{value:.5f}" for value in box)


def query_of(longitude, latitude, zoom, filters) -> dict[str, list[str]]:
    query = {name: value if isinstance(value, list) else [value] for name, value in filters.items()}
    query["bbox"] = [viewport_bbox(longitude, latitude, zoom)]
    query["zoom"] = [str(zoom)]
    return query


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


# --- Data ---------------------------------------------------------------------------------


def weapons_insert(mission: Mission) -> None:
    """The incidents' weapons, in one statement (the map's category counts follow)."""
    start = time.perf_counter()
    count = weapons_seed(mission.pk)
    seconds = time.perf_counter() - start
    print(f"Loaded {count:,} weapons (one INSERT, and their map cells) in {seconds:.0f} s")
    # As autovacuum would after such a load: the index-only scans (geo 0011, 0012) need the
    # tables' visibility maps.
    with connection.cursor() as cursor:
        for table in ("incidents_incident", "incidents_weaponitem", "geo_incidentmapcell"):
            cursor.execute(f"VACUUM ANALYZE {table}")


def prepare(count: int) -> Mission:
    mission = Mission.objects.filter(acronym=ACRONYM).first()
    if mission is not None and Incident.objects.filter(mission=mission).count() == count:
        print(f"Reusing the {count:,} incidents of {ACRONYM}.")
        if not WeaponItem.objects.filter(incident__mission=mission).exists():
            weapons_insert(mission)
        return mission
    remove()
    mission = Mission.objects.create(acronym=ACRONYM, name="Map benchmark")
    contingent = Contingent.objects.create(
        mission=mission, name="Map benchmark", contributing_country="RWA", kind="tcc"
    )
    start = time.perf_counter()
    longitude, latitude = generate_points(count)
    incidents_insert(longitude, latitude, contingent)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE geo_incidentmapcell")
    seconds = time.perf_counter() - start
    print(f"Loaded {count:,} incidents (and their map cells) in {seconds:.0f} s")
    weapons_insert(mission)
    return mission


def readers() -> dict[str, object]:
    users = get_user_model().objects
    admin, _ = users.get_or_create(username="map-bench-admin", defaults={"is_superuser": True})
    regional, _ = users.get_or_create(username="map-bench-regional")
    region, _ = Region.objects.get_or_create(
        code=REGION, defaults={"name": "Map benchmark (CAF)", "member_countries": ["CAF"]}
    )
    membership, _ = Membership.objects.get_or_create(user=regional, role=Role.REGIONAL_ANALYST)
    membership.regions.set([region])
    return {"map-bench-admin": admin, "map-bench-regional": regional}


def remove() -> None:
    mission = Mission.objects.filter(acronym=ACRONYM).first()
    if mission is not None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM incidents_weaponitem WHERE incident_id IN"
                " (SELECT id FROM incidents_incident WHERE mission_id = %s)",
                [mission.pk],
            )
            cursor.execute("DELETE FROM incidents_incident WHERE mission_id = %s", [mission.pk])
        Contingent.objects.filter(mission=mission).delete()
        mission.delete()
    get_user_model().objects.filter(username__in=list(READERS)).delete()
    Region.objects.filter(code=REGION).delete()


# --- The statements a request runs --------------------------------------------------------


def statements_of(user, query: dict[str, list[str]]) -> list[tuple[str, tuple]]:
    """The statements /map/incidents.geojson runs for `user` and `query` once the reader's
    visibility is known (the map code run in this process, its SQL captured)."""
    data = QueryDict(mutable=True)
    for name, values in query.items():
        data.setlist(name, values)
    visibility = incident_visibility(user)
    filterset = IncidentFilterSet(data, queryset=Incident.objects.visible_with(visibility))
    assert filterset.is_valid(), filterset.errors
    captured: list[tuple[str, tuple]] = []

    def capture(execute, sql, params, many, context):
        if sql != layers.NO_JIT and not sql.startswith(("SAVEPOINT", "RELEASE")):
            captured.append((sql, tuple(params or ())))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        layers.incidents_layer(
            filterset.qs,
            filterset.form.cleaned_data,
            visibility,
            zoom=int(query["zoom"][0]),
            bbox=filterset.form.cleaned_data["bbox"],
        )
    return captured


def plain_statement(user, query: dict[str, list[str]]) -> tuple[str, tuple]:
    """The viewport counted the plain way: a GROUP BY of the reader's filtered incidents per
    cell (layers.cells_query), whatever the kept counts hold: the reference the kept counts'
    statements are judged against."""
    visibility = incident_visibility(user)
    filterset = IncidentFilterSet(
        QueryDict(urlencode(query, doseq=True)),
        queryset=Incident.objects.visible_with(visibility),
    )
    if not filterset.is_valid():
        raise SystemExit(f"{query}: {filterset.errors}")
    zoom = min(int(query["zoom"][0]), layers.MAX_LEVEL)
    plain = layers.cells_query(filterset.qs, zoom=zoom)
    return plain.sql, plain.params


def psycopg2_seconds(raw, statements: list[tuple[str, tuple]]) -> float:
    start = time.perf_counter()
    with raw.cursor() as cursor:
        cursor.execute("SET jit = off")
        for sql, params in statements:
            cursor.execute(sql, params)
            cursor.fetchall()
    return time.perf_counter() - start


# --- Gunicorn -----------------------------------------------------------------------------


def gunicorn_start(static_root: str) -> subprocess.Popen:
    environment = {
        **os.environ,
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SECRET_KEY": settings.SECRET_KEY,
        # Required with DEBUG off: the same keys as this process's (its own or DEBUG's).
        "CUSTODY_HMAC_KEYS": ",".join(
            f"{key_id}:{secret}" for key_id, secret in settings.CUSTODY_HMAC_KEYS.items()
        ),
        "MAP_TILE_URL": "",
        "STATIC_ROOT": static_root,
    }
    try:
        get("/healthz", "")
    except OSError:
        pass  # the port is free
    else:
        raise SystemExit(f"Something already answers on {HOST}:{PORT}: stop it first.")
    # DEBUG off serves the collected, hashed static files (whitenoise): collect them into
    # a folder of the run's own.
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"],
        cwd=ROOT,
        env=environment,
        check=True,
    )
    server = subprocess.Popen(  # noqa: S603 - our own gunicorn, fixed arguments
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "armsmonitor.wsgi",
            "--bind",
            f"{HOST}:{PORT}",
            "--workers",
            "2",
            "--timeout",
            "300",
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
            get("/healthz", "")
            return server
        except OSError:
            continue
    gunicorn_stop(server)
    raise SystemExit("gunicorn did not start")


def gunicorn_stop(server: subprocess.Popen) -> None:
    server.send_signal(signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        server.kill()


def get(path: str, session: str) -> tuple[int, bytes]:
    client = http.client.HTTPConnection(HOST, PORT, timeout=300)
    try:
        client.request("GET", path, headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={session}"})
        response = client.getresponse()
        return response.status, response.read()
    finally:
        client.close()


def session_of(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


# --- Measures -----------------------------------------------------------------------------


def measure_viewport(label, viewport, user, session, requests, plain_samples, raw) -> dict:
    """In `requests` interleaved rounds: one HTTP request, then the same statements on the
    warm connection; in the first `plain_samples` rounds also the plain GROUP BY."""
    query = query_of(*viewport)
    path = f"/map/incidents.geojson?{urlencode(query, doseq=True)}"
    status, body = get(path, session)  # warm the worker's caches and the buffers
    if status != 200:
        raise SystemExit(f"{path}: {status} {body[:300]!r}")
    statements = statements_of(user, query)
    plain = [plain_statement(user, query)]
    load = os.getloadavg()[0]
    http_times, sql_times, plain_times = [], [], []
    for round_number in range(requests):
        start = time.perf_counter()
        status, body = get(path, session)
        http_times.append(time.perf_counter() - start)
        sql_times.append(psycopg2_seconds(raw, statements))
        if round_number < plain_samples:
            plain_times.append(psycopg2_seconds(raw, plain))
    collection_mode = body[:200].decode(errors="replace").split('"mode":"')[1].split('"')[0]
    return {
        "label": label,
        "mode": collection_mode,
        "kept": any("geo_incidentmapcell" in sql for sql, _ in statements),
        "bytes": len(body),
        "load": load,
        "http_p50": statistics.median(http_times) * 1000,
        "http_p95": percentile(http_times, 0.95) * 1000,
        "sql_p50": statistics.median(sql_times) * 1000,
        "sql_p95": percentile(sql_times, 0.95) * 1000,
        "plain_p50": statistics.median(plain_times) * 1000 if plain_times else None,
    }


def print_row(row: dict, *, judged: bool = True) -> bool:
    """One viewport: HTTP against its own statements on a warm connection (≤ 1.5×, p95),
    and, where the kept counts answered, those statements against the plain GROUP BY
    (≤ 0.3×, medians: the plain one is sampled fewer times, it takes seconds)."""
    ratio = row["http_p95"] / row["sql_p95"]
    met = row["http_p95"] < TARGET_MS and ratio <= TARGET_RATIO and row["bytes"] <= TARGET_BYTES
    against_plain = ""
    if row["plain_p50"]:
        plain_ratio = row["sql_p50"] / row["plain_p50"]
        if row["kept"]:
            met &= plain_ratio <= TARGET_PLAIN_RATIO
        against_plain = f" plain p50 {row['plain_p50']:7.1f} ms (×{plain_ratio:.2f})"
    print(
        f"  {row['label']:<24} {row['mode']:<6}{' kept' if row['kept'] else '     '}"
        f" load {row['load']:.2f}  HTTP p50 {row['http_p50']:6.1f} p95 {row['http_p95']:6.1f} ms"
        f"  SQL p50 {row['sql_p50']:6.1f} p95 {row['sql_p95']:6.1f} ms (×{ratio:.2f})"
        f"{against_plain}  {row['bytes'] / 1000:6.1f} kB"
        f"  {verdict(met) if judged else '(not judged)'}"
    )
    return met


def first_renders(session: str, count: int) -> list[float]:
    from playwright.sync_api import sync_playwright

    seconds = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium",
            args=["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking"],
        )
        for _ in range(count):
            context = browser.new_context(viewport={"width": SCREEN[0], "height": SCREEN[1]})
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": session,
                        "domain": HOST,
                        "path": "/",
                    }
                ]
            )
            page = context.new_page()
            page.goto(f"http://{HOST}:{PORT}/map/?c=6.6,20.9&z=6")
            page.wait_for_selector("#map[data-ready]", timeout=60_000)
            # performance.now() at the mark: milliseconds since navigation started.
            seconds.append(int(page.get_attribute("#map", "data-ready")) / 1000)
            context.close()
        browser.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=40)
    parser.add_argument("--plain-samples", type=int, default=5)
    parser.add_argument(
        "--others", type=int, default=1_000_000, help="another mission's incidents, kept"
    )
    parser.add_argument("--renders", type=int, default=5)
    parser.add_argument("--keep", action="store_true", help="keep the incidents for a next run")
    options = parser.parse_args()
    # SIGTERM as Ctrl-C: the clean-up below runs (gunicorn stopped, incidents deleted).
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    # Another mission's data beside the benchmark's own (bench/seeding.py, kept between runs).
    incidents_seed(OTHERS, options.others)
    prepare(options.incidents)
    with connection.cursor() as cursor:
        began = time.perf_counter()
        cursor.execute("SELECT count(*) FROM geo_incidentmapchange")
        pending = cursor.fetchone()[0]
    merged = map_changes_merge()
    seconds = time.perf_counter() - began
    print(f"Merged {merged:,} of {pending:,} logged map changes in {seconds:.0f} s")
    with connection.cursor() as cursor:
        for table in ("incidents_incident", "incidents_weaponitem", "geo_incidentmapcell"):
            cursor.execute(f"VACUUM ANALYZE {table}")
    users = readers()
    static_root = tempfile.mkdtemp(prefix="map-bench-static-")
    server = gunicorn_start(static_root)
    raw = psycopg2.connect(
        **{
            key: value
            for key, value in {
                "dbname": settings.DATABASES["default"]["NAME"],
                "user": settings.DATABASES["default"]["USER"],
                "host": settings.DATABASES["default"]["HOST"] or "127.0.0.1",
                "port": settings.DATABASES["default"]["PORT"] or 5432,
                "password": settings.DATABASES["default"].get("PASSWORD") or None,
            }.items()
            if value is not None
        }
    )
    raw.autocommit = True
    all_met = True
    try:
        print(
            f"\n{options.incidents:,} incidents of {ACRONYM} beside {options.others:,} of"
            f" {OTHERS}; {options.requests} interleaved rounds per viewport; targets:"
            f" p95 < {TARGET_MS:.0f} ms,"
            f" ≤ {TARGET_RATIO} × its SQL on a warm connection, kept counts ≤"
            f" {TARGET_PLAIN_RATIO} × a plain GROUP BY, ≤ {TARGET_BYTES / 1000:.0f} kB"
        )
        sessions = {name: session_of(user) for name, user in users.items()}
        for name, user in users.items():
            print(f"\n{name} ({READERS[name]} locations)")
            for label, *viewport in VIEWPORTS:
                row = measure_viewport(
                    label,
                    viewport,
                    user,
                    sessions[name],
                    options.requests,
                    options.plain_samples,
                    raw,
                )
                all_met &= print_row(row)
            for label, *viewport in FALLBACK:
                row = measure_viewport(label, viewport, user, sessions[name], 5, 2, raw)
                print_row(row, judged=False)
        renders = first_renders(sessions["map-bench-admin"], options.renders)
        worst = max(renders)
        all_met &= worst < TARGET_RENDER_S
        print(
            f"\nFirst complete render (headless Chromium, 1366×768, z6 over all incidents): "
            f"median {statistics.median(renders):.2f} s, worst {worst:.2f} s "
            f"(target < {TARGET_RENDER_S:.0f} s): {verdict(worst < TARGET_RENDER_S)}"
        )
        print(f"\nAll judged targets: {verdict(all_met)}")
    finally:
        raw.close()
        gunicorn_stop(server)
        shutil.rmtree(static_root, ignore_errors=True)
        if not options.keep:
            remove()
            print(f"Deleted the benchmark's incidents, mission {ACRONYM} and readers.")


if __name__ == "__main__":
    main()

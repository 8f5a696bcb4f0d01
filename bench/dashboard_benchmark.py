"""Dashboard speed: each of the dashboard's statements at 100,000 incidents.

    .venv/bin/python bench/dashboard_benchmark.py [--incidents 100000] [--runs 5]

Inside one transaction that is rolled back at the end (the database is left as it was), the
script loads the regional organisations and generates `--incidents` incidents of one mission
(90 % verified) over six years, with a skewed spread of kinds, contexts and countries (2 %
without a country, 5 % linked to gender-based violence), about two weapon items each (their
flow columns filled by the database's triggers) and people involved for about 60 % of them.
It ANALYZEs the tables, then times, for three readers and filters:

- administrator, no filter: every incident;
- mission analyst, no filter: the mission's verified incidents (the access policy's filter);
- mission analyst, filtered: two kinds, two years, a category (a join on the items);

each statement the dashboard runs (captured as the dashboard runs it; median of `--runs`)
against the simplest statement giving one of its figures over the same incidents (one
pass, one GROUP BY: what a pass costs on this machine, measured in the same run), the whole
of `dashboard_figures` and the whole page through Django's test client, and the ratio of
`dashboard_figures` to its statements run directly on the cursor (the platform's
overhead). The target: every statement under 100 ms.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "armsmonitor.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402

from geo.analyses.source import IncidentChoice  # noqa: E402
from geo.core.regions import regions_load  # noqa: E402
from incidents.access import incident_visibility  # noqa: E402
from incidents.filtersets import IncidentFilterSet  # noqa: E402
from incidents.models import Incident  # noqa: E402
from organisations.choices import Role  # noqa: E402
from organisations.models import Contingent, Membership, Mission  # noqa: E402
from reports.dashboard import figures as dashboard  # noqa: E402
from reports.dashboard.figures import dashboard_figures  # noqa: E402

TARGET_MS = 100.0
COUNTRIES = [
    "CAF", "COD", "MLI", "SSD", "SOM", "NGA", "SDN", "BFA", "NER", "CMR", "TCD", "LBY",
    "HTI", "COL", "LBN",
]  # fmt: skip
MANUFACTURERS = ["RUS", "CHN", "USA", "BEL", "DEU", "BGR", "ROU", "SRB", "CZE", "ITA", "TUR"]
KINDS = [
    "checkpoint_seizure", "cordon_search", "cache_discovery", "voluntary_surrender",
    "recovery_after_clash", "attack_on_peacekeepers", "loss_or_theft", "armed_violence",
]  # fmt: skip
CONTEXTS = ["armed_conflict", "criminal", "intercommunal", "other"]
CATEGORIES = [
    "assault_rifle", "revolver_pistol", "rifle_carbine", "craft_produced", "smg", "lmg",
    "grenade_launcher", "hmg", "mortar", "anti_tank_launcher", "recoilless_rifle",
]  # fmt: skip
FILTERED = {
    "kind": ["cache_discovery", "checkpoint_seizure"],
    "occurred_after": "2022-01-01T00:00:00Z",
    "occurred_before": "2023-12-31T23:59:59Z",
    "category": ["assault_rifle"],
}


class Rollback(Exception):
    pass


def _pick(values: list[str], skew: float = 2.0) -> str:
    array = "ARRAY[" + ",".join(f"'{value}'" for value in values) + "]"
    return f"({array})[1 + floor({len(values)} * power(random(), {skew}))::int]"


def generate(incidents: int, mission: Mission, contingent: Contingent) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            f"""
            INSERT INTO incidents_incident (
                kind, external_reference, occurred_at, date_precision, location,
                location_precision, country, context, mission_id, contingent_id, actor_type,
                actors, narrative, source, source_reliability, releasability, state,
                return_comment, gbv_link, withdrawn_reason, created_at, updated_at)
            SELECT {_pick(KINDS, 1.5)}, 'DASHBENCH-' || n,
                   timestamptz '2020-01-01 00:00+00' + random() * interval '2190 days', 'day',
                   ST_SetSRID(ST_MakePoint(-15 + 55 * random(), -15 + 35 * random()), 4326),
                   'exact',
                   CASE WHEN random() < 0.02 THEN '' ELSE {_pick(COUNTRIES)} END,
                   {_pick(CONTEXTS, 1.5)}, %s, %s, 'unknown', '', '', '', 'F', 3,
                   CASE WHEN random() < 0.9 THEN 'verified' ELSE 'draft' END,
                   '', random() < 0.05, '', now(), now()
            FROM generate_series(1, %s) AS n
            """,
            [mission.pk, contingent.pk, incidents],
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_incident ON COMMIT DROP AS SELECT id, "
            "row_number() OVER (ORDER BY id) AS n FROM incidents_incident "
            "WHERE contingent_id = %s",
            [contingent.pk],
        )
        cursor.execute(
            f"""
            INSERT INTO incidents_weaponitem (
                incident_id, category, make, model, calibre, serial_number, markings_altered,
                country_of_manufacture, quantity, factory_markings, import_markings,
                other_markings, condition, disposition)
            SELECT bench_incident.id, category, '', '', '', '', false, made_in, quantity,
                   '', '', '', 'unknown', 'held'
            FROM (
                SELECT 1 + floor(random() * %s)::int AS n, {_pick(CATEGORIES, 3.0)} AS category,
                       CASE WHEN random() < 0.08 THEN '' ELSE {_pick(MANUFACTURERS)} END
                           AS made_in,
                       CASE WHEN random() < 0.9 THEN 1 ELSE 2 + floor(random() * 20)::int END
                           AS quantity
                FROM generate_series(1, %s)
            ) AS drawn
            JOIN bench_incident USING (n)
            """,
            [incidents, 2 * incidents],
        )
        # One group of people for 60 % of the incidents, and victims besides for a third
        # of those (one row per role, sex and age group of an incident).
        cursor.execute(
            f"""
            INSERT INTO incidents_personsinvolved (incident_id, role, sex, age_group, count)
            SELECT id, {_pick(["suspect", "civilian", "peacekeeper"], 1.0)},
                   {_pick(["male", "female", "unknown"], 1.5)},
                   {_pick(["adult", "child", "unknown"], 2.0)}, 1 + floor(random() * 5)::int
            FROM bench_incident WHERE random() < 0.6
            UNION ALL
            SELECT id, 'victim', {_pick(["female", "male", "unknown"], 1.5)},
                   {_pick(["adult", "child", "unknown"], 2.0)}, 1 + floor(random() * 3)::int
            FROM bench_incident WHERE random() < 0.2
            """
        )
        for table in ("incidents_incident", "incidents_weaponitem", "incidents_personsinvolved"):
            cursor.execute(f"ANALYZE {table}")
        cursor.execute(
            "SELECT (SELECT count(*) FROM bench_incident), (SELECT count(*) FROM "
            "incidents_weaponitem JOIN bench_incident ON bench_incident.id = incident_id), "
            "(SELECT count(*) FROM incidents_personsinvolved JOIN bench_incident "
            "ON bench_incident.id = incident_id)"
        )
        made = cursor.fetchone()
    print(f"generated {made[0]:,} incidents, {made[1]:,} weapon items, {made[2]:,} person rows")


class Statements:
    """The statements run while it is active, with their time on the cursor."""

    def __init__(self):
        self.timings: list[tuple[str, tuple, float]] = []

    def __call__(self, execute, sql, params, many, context):
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.timings.append((sql, params, time.perf_counter() - start))


def _name(sql: str) -> str:
    # Each statement by what it groups (the chosen incidents' own SQL may join the items).
    for marker, name in (
        ("grouping(period)", "incidents: time, kind, context, country, region"),
        ("AS person", "people involved (gender)"),
        ("AS destination", "weapons: category, origins, flows"),
    ):
        if marker in sql:
            return name
    return "other: " + " ".join(sql.split())[:50]


# The simplest statement giving one figure of each of the dashboard's statements, over the
# same chosen incidents: what one pass costs on this machine, in the same run.
REFERENCES = {
    "incidents: time, kind, context, country, region": (
        "WITH chosen AS ({chosen}) SELECT kind, count(*) FROM chosen GROUP BY kind"
    ),
    "weapons: category, origins, flows": (
        "WITH chosen AS ({chosen}) SELECT category, sum(quantity) FROM incidents_weaponitem"
        " WHERE incident_id IN (SELECT id FROM chosen) GROUP BY category"
    ),
    "people involved (gender)": (
        "WITH chosen AS ({chosen}) SELECT sex, sum(count) FROM incidents_personsinvolved"
        " WHERE incident_id IN (SELECT id FROM chosen) GROUP BY sex"
    ),
}


def reference_ms(name: str, incidents, runs: int) -> float:
    chosen, params = dashboard._chosen(incidents)
    times = []
    with connection.cursor() as cursor:
        for _ in range(runs):
            start = time.perf_counter()
            cursor.execute(REFERENCES[name].format(chosen=chosen), params)
            cursor.fetchall()
            times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000


def measure(label: str, reader, query: dict, runs: int, client: Client) -> list[float]:
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    print(f"\n{label} (load average {load})")
    # As the page chooses them: the reader's visibility once, for the incidents and for the
    # counts the database keeps.
    visibility = incident_visibility(reader)
    filterset = IncidentFilterSet(query, queryset=Incident.objects.visible_with(visibility))
    assert filterset.is_valid(), filterset.errors
    incidents = filterset.qs
    choice = IncidentChoice(visibility, filterset.form.cleaned_data)
    per_statement: dict[str, list[float]] = {}
    whole: list[float] = []
    direct: list[float] = []
    for _ in range(runs):
        statements = Statements()
        start = time.perf_counter()
        with connection.execute_wrapper(statements):
            figures = dashboard_figures(incidents=incidents, choice=choice, with_gender=True)
        whole.append(time.perf_counter() - start)
        dashboard_sql = [(sql, params) for sql, params, _ in statements.timings if "chosen" in sql]
        for sql, _params, seconds in statements.timings:
            per_statement.setdefault(_name(sql), []).append(seconds)
        # The same statements on the cursor, without the platform around them.
        start = time.perf_counter()
        with connection.cursor() as cursor:
            for sql, params in dashboard_sql:
                cursor.execute(sql, params)
                cursor.fetchall()
        direct.append(time.perf_counter() - start)
    print(f"  {figures.incidents:,} incidents, {figures.weapons:,} weapons counted")
    slowest = 0.0
    for name, seconds in per_statement.items():
        if name.startswith("other"):  # the session settings
            continue
        median = statistics.median(seconds) * 1000
        slowest = max(slowest, median)
        reference = reference_ms(name, incidents, runs)
        print(
            f"  {name:<48} median {median:7.1f} ms   max {max(seconds) * 1000:7.1f} ms"
            f"   (one figure alone: {reference:6.1f} ms, ratio {median / reference:4.2f})"
        )
    figures_ms = statistics.median(whole) * 1000
    direct_ms = statistics.median(direct) * 1000
    print(
        f"  {'dashboard_figures, in all':<48} median {figures_ms:7.1f} ms"
        f"   (its statements directly: {direct_ms:.1f} ms, ratio {figures_ms / direct_ms:.2f})"
    )
    client.force_login(reader)
    query_string = "&".join(
        f"{name}={value}"
        for name, values in query.items()
        for value in (values if isinstance(values, list) else [values])
    )
    pages = []
    for _ in range(runs):
        start = time.perf_counter()
        response = client.get(f"/dashboard/?{query_string}")
        pages.append(time.perf_counter() - start)
        assert response.status_code == 200, response.status_code
    print(
        f"  {'the whole page (test client)':<48} median {statistics.median(pages) * 1000:7.1f} ms"
    )
    verdict = "met" if slowest < TARGET_MS else "NOT MET"
    print(f"  slowest statement {slowest:.1f} ms: target < {TARGET_MS:.0f} ms {verdict}")
    return [slowest]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--incidents", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    arguments = parser.parse_args()
    settings.ALLOWED_HOSTS = ["*"]
    try:
        with transaction.atomic():
            regions_load()
            mission = Mission.objects.create(name="Dashboard benchmark", acronym="DASHBENCH")
            contingent = Contingent.objects.create(
                mission=mission, name="Dashboard benchmark", contributing_country="RWA", kind="tcc"
            )
            users = get_user_model().objects
            admin = users.create_superuser("dash-bench-admin")
            analyst = users.create_user("dash-bench-analyst")
            Membership.objects.create(user=analyst, role=Role.WPS_ANALYST, mission=mission)
            start = time.perf_counter()
            generate(arguments.incidents, mission, contingent)
            print(f"  (generation took {time.perf_counter() - start:.0f} s)")
            client = Client()
            slowest = [
                *measure("administrator, no filter", admin, {}, arguments.runs, client),
                *measure("mission analyst, no filter", analyst, {}, arguments.runs, client),
                *measure("mission analyst, filtered", analyst, FILTERED, arguments.runs, client),
            ]
            print(f"\nslowest statement in all: {max(slowest):.1f} ms (target < {TARGET_MS:.0f})")
            raise Rollback
    except Rollback:
        print("(rolled back: the database is as it was)")


if __name__ == "__main__":
    main()

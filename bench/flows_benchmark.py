"""Flow aggregation speed: geo.analyses.flows against a plain GROUP BY.

    .venv/bin/python bench/flows_benchmark.py [--items 1000000] [--runs 3] [--explain] [--keep]

Inside one transaction that is rolled back at the end (the database is left as it was), the
script generates `--items` weapon items on about a third as many verified incidents, with a
skewed spread of seizure countries (about 2 % without a country), countries of manufacture
(about 8 % unknown), categories, quantities (mostly 1) and dates over six years; about 10 %
of the items have a trace request, most of them answered with an established country of
diversion (some with a point, some with transit countries, some with an older answer).
The items' flow columns (seizure country and date, established origin, its method, kind,
trace and route) are
filled by the database's triggers as the rows are written, as on every other write path; the
time of each step of the generation is printed, and the columns are checked against a
computation from scratch. The tables are ANALYZEd (VACUUM cannot run in a transaction, and
is not needed: nothing was deleted). Then, best of `--runs`:

- flows:  flows.analyse() on every incident a superuser reads, chosen as a run chooses
          them: the grouping of the items by where they were made, the items with an
          established origin (their points and routes), the documented routes, and the
          whole result (matrices, regions, routes, lines) as JSON, back in Python; twice:
          summing the counts the database keeps (incidents/derived/flow_counts.py), as a run whose
          filter they answer does, and making the pass over the items' columns, as any
          other run does;
- plain:  SELECT made_in, destination, category, period, sum(quantity) ... GROUP BY over a
          table holding those four columns already computed for the same items, three
          ways: a TEMP table and an ordinary table (which parallel workers can scan) with
          the server's settings, as a plain GROUP BY runs; and the ordinary table with the
          flows' own session settings (parallel plans made cheap, room for the hash
          tables), the strictest reference.

It also prints what telling a stored run stale costs on the same incidents (the data
fingerprint, best of three). The runs are interleaved (a round runs each once), so that
the machine's load weighs on all alike. Prints the best times, items per second and the
ratio against each reference (target: flows rate >= 0.5 x plain rate).

With `--keep`, the generated data is committed (and VACUUM ANALYZEd) instead, under a mission
"FLOWBENCH", and the next runs with `--keep` measure on it without generating it again (the
measurements themselves are still rolled back); `--drop-kept` deletes it. Only for a
database of one's own.
"""

import argparse
import importlib
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "armsmonitor.settings")

import django

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, transaction  # noqa: E402

from geo.analyses import flows  # noqa: E402
from geo.analyses.source import (  # noqa: E402
    analysis_choice,
    chosen_incidents_sql,
    data_fingerprint,
    no_progress,
)
from incidents.derived.flow_counts import KEY_COLUMNS  # noqa: E402
from incidents.models import Incident, WeaponFlowCount  # noqa: E402
from organisations.models import Contingent, Mission  # noqa: E402

# The migrations that add the items' flow columns, their established origin and the counts
# kept: their computations of them from scratch.
FLOW_COLUMNS = importlib.import_module("incidents.migrations.0008_weapon_flow_columns")
ESTABLISHED = importlib.import_module("incidents.migrations.0031_established_origins")


class Rollback(Exception):
    pass


# Earlier entries are drawn more often (index = floor(k * random()^skew)).
DESTINATIONS = [
    "CAF", "COD", "MLI", "SSD", "SOM", "NGA", "SDN", "BFA", "NER", "CMR", "TCD", "LBY",
    "ETH", "KEN", "UGA", "MOZ", "HTI", "COL", "LBN", "YEM",
]  # fmt: skip
MANUFACTURERS = [
    "RUS", "CHN", "USA", "BEL", "DEU", "BGR", "ROU", "SRB", "CZE", "ITA", "TUR", "FRA",
    "ISR", "UKR", "POL", "HUN", "BRA", "IRN", "PRK", "AUT", "ESP", "GBR", "ZAF", "EGY",
    "SDN",
]  # fmt: skip
DIVERSION = [
    "LBY", "SDN", "TCD", "UGA", "SSD", "CMR", "NGA", "ETH", "MLI", "COD", "ERI", "YEM",
    "SOM", "KEN", "NER",
]  # fmt: skip
CATEGORIES = [
    "assault_rifle", "revolver_pistol", "rifle_carbine", "craft_produced", "smg", "lmg",
    "grenade_launcher", "hmg", "mortar", "anti_tank_launcher", "recoilless_rifle",
    "anti_tank_gun", "manpads",
]  # fmt: skip


def _pick(values: list[str], skew: float = 2.0) -> str:
    array = "ARRAY[" + ",".join(f"'{value}'" for value in values) + "]"
    return f"({array})[1 + floor({len(values)} * power(random(), {skew}))::int]"


def generate(items: int, mission: Mission, contingent: Contingent) -> None:
    incidents = max(1, items // 3)
    steps = Steps()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(
            f"""
            INSERT INTO incidents_incident (
                kind, external_reference, occurred_at, date_precision, location,
                location_precision, country, context, mission_id, contingent_id, actor_type,
                actors, narrative, source, source_reliability, releasability, state,
                return_comment, gbv_link, withdrawn_reason, created_at, updated_at)
            SELECT 'checkpoint_seizure', 'FLOWBENCH-' || n,
                   timestamptz '2020-01-01 00:00+00' + random() * interval '2190 days', 'day',
                   ST_SetSRID(ST_MakePoint(-15 + 55 * random(), -15 + 35 * random()), 4326),
                   'exact',
                   CASE WHEN random() < 0.02 THEN '' ELSE {_pick(DESTINATIONS)} END,
                   'armed_conflict', %s, %s, 'unknown', '', '', '', 'F', 3, 'verified', '',
                   false, '', now(), now()
            FROM generate_series(1, %s) AS n
            """,
            [mission.pk, contingent.pk, incidents],
        )
        steps.done("incidents")
        cursor.execute(
            "CREATE TEMP TABLE bench_incident ON COMMIT DROP AS SELECT id, "
            "row_number() OVER (ORDER BY id) AS n FROM incidents_incident "
            "WHERE contingent_id = %s",
            [contingent.pk],
        )
        steps.done("incident numbering")
        # About three items per incident, unevenly: an incident drawn for each item. The
        # triggers fill each item's flow columns as it is written.
        cursor.execute(
            f"""
            INSERT INTO incidents_weaponitem (
                incident_id, category, make, model, calibre, serial_number, markings_altered,
                country_of_manufacture, quantity, factory_markings, import_markings,
                other_markings, condition, disposition)
            SELECT bench_incident.id, category, '', '', '', '', false, made_in, quantity,
                   '', '', '', 'unknown', 'held'
            FROM (
                SELECT 1 + floor(random() * %s)::int AS n,
                       {_pick(CATEGORIES, 3.0)} AS category,
                       CASE WHEN random() < 0.08 THEN '' ELSE {_pick(MANUFACTURERS)} END
                           AS made_in,
                       CASE WHEN random() < 0.9 THEN 1 ELSE 2 + floor(random() * 20)::int END
                           AS quantity
                FROM generate_series(1, %s)
            ) AS drawn
            JOIN bench_incident USING (n)
            """,
            [incidents, items],
        )
        steps.done("items, with their flow columns")
        # About 10 % of the items traced; 70 % of those with an established diversion,
        # half of them with a point, a third with transit countries; 10 % also have an
        # older established answer that the latest one overrides. The triggers recompute the
        # origin of the items traced, once for the whole statement.
        cursor.execute(
            f"""
            WITH traced AS (
                SELECT item.id, random() AS established, random() AS extra
                FROM incidents_weaponitem AS item
                JOIN bench_incident ON bench_incident.id = item.incident_id
                WHERE random() < 0.10
            )
            INSERT INTO incidents_tracerequest (
                weapon_id, addressee, sent_on, answered_on, status, diversion_established,
                diversion_country, diversion_point, last_legal_end_user, transit_countries)
            SELECT id, 'bench', date '2025-01-01', date '2025-03-01' + (extra * 30)::int,
                   CASE WHEN established < 0.7 THEN 'answered' ELSE 'closed_untraced' END,
                   established < 0.7,
                   CASE WHEN established < 0.7 THEN {_pick(DIVERSION)} ELSE '' END,
                   CASE WHEN established < 0.35 THEN ST_SetSRID(ST_MakePoint(
                       10 + 30 * random(), -5 + 30 * random()), 4326) END,
                   '',
                   CASE WHEN established < 0.7 AND extra < 0.33
                        THEN ARRAY[{_pick(DIVERSION)}, {_pick(DESTINATIONS)}]
                        ELSE '{{}}'::varchar[] END
            FROM traced
            UNION ALL
            SELECT id, 'bench', date '2024-01-01', date '2024-06-01', 'answered', true,
                   {_pick(DIVERSION)}, NULL, '', '{{}}'::varchar[]
            FROM traced WHERE extra < 0.1
            """
        )
        steps.done("traces, and their items' origin")
        cursor.execute(
            "SELECT (SELECT count(*) FROM bench_incident), "
            "(SELECT count(*) FROM incidents_weaponitem JOIN bench_incident "
            " ON bench_incident.id = incident_id), "
            "(SELECT count(*) FROM incidents_tracerequest WHERE addressee = 'bench')"
        )
        created = cursor.fetchone()
        for table in (
            "incidents_incident",
            "incidents_weaponitem",
            "incidents_tracerequest",
            "incidents_weaponflowcount",
        ):
            cursor.execute(f"ANALYZE {table}")
        steps.done("ANALYZE")
        # The triggers' work, checked against the migration's computation from scratch.
        cursor.execute(
            f"""
            SELECT count(*) FROM ({FLOW_COLUMNS.DERIVED_SQL}) AS seized
            JOIN ({ESTABLISHED.ORIGIN_SQL}) AS origin USING (id)
            JOIN incidents_weaponitem AS item USING (id)
            WHERE (seized.seized_in, seized.seized_at, origin.origin_country,
                   origin.origin_source, origin.origin_kind, origin.origin_trace_id,
                   origin.origin_point, origin.origin_transit)
                IS DISTINCT FROM (item.seized_in, item.seized_at, item.origin_country,
                                  item.origin_source, item.origin_kind, item.origin_trace_id,
                                  item.origin_point, item.origin_transit)
            """
        )
        wrong = cursor.fetchone()[0]
        # The counts kept per flow, against their computation from scratch.
        keys = ", ".join(KEY_COLUMNS)
        cursor.execute(
            f"""
            SELECT count(*) FROM (
                (SELECT {keys}, items, records FROM incidents_weaponflowcount
                 EXCEPT ALL {ESTABLISHED.COUNTS_SQL})
                UNION ALL
                ({ESTABLISHED.COUNTS_SQL}
                 EXCEPT ALL SELECT {keys}, items, records FROM incidents_weaponflowcount)
            ) AS differing
            """
        )
        wrong_counts = cursor.fetchone()[0]
    print(f"generated {created[0]:,} incidents, {created[1]:,} items, {created[2]:,} traces")
    print(
        f"  (generation: {steps}; items whose flow columns are wrong: {wrong:,}; "
        f"rows of kept counts that differ from a computation from scratch: {wrong_counts:,})"
    )
    if wrong or wrong_counts:
        raise SystemExit("The triggers left wrong flow columns or counts.")


class Steps:
    """The time each step of the generation took."""

    def __init__(self):
        self.times: list[tuple[str, float]] = []
        self.last = time.perf_counter()

    def done(self, step: str) -> None:
        now = time.perf_counter()
        self.times.append((step, now - self.last))
        self.last = now

    def __str__(self) -> str:
        return ", ".join(f"{step} {seconds:.1f} s" for step, seconds in self.times)


def best_of_interleaved(runs: int, contenders: dict) -> dict[str, float]:
    """The best time of each contender (label → work) over `runs` rounds of all of them."""
    times: dict[str, list[float]] = {label: [] for label in contenders}
    for _ in range(runs):
        for label, work in contenders.items():
            start = time.perf_counter()
            work()
            times[label].append(time.perf_counter() - start)
    for label, taken in times.items():
        runs_text = ", ".join(f"{t:.3f}" for t in taken)
        print(f"  {label:<40} best {min(taken):7.3f} s   (runs: {runs_text})")
    return {label: min(taken) for label, taken in times.items()}


PLAIN_SQL = (
    "SELECT made_in, destination, category, period, sum(quantity) FROM {table} "
    "GROUP BY made_in, destination, category, period"
)


def precompute(table: str, temporary: bool, incidents, period: str) -> None:
    """The four grouping columns and the quantity of every item, already computed."""
    chosen, parameters = chosen_incidents_sql(incidents, "occurred_at", "country")
    kind = "TEMP TABLE" if temporary else "TABLE"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE {kind} {table} AS
            WITH chosen AS ({chosen})
            SELECT COALESCE(NULLIF(item.country_of_manufacture, ''), 'unknown') AS made_in,
                   COALESCE(NULLIF(chosen.country, ''), 'unknown') AS destination,
                   item.category,
                   date_trunc('{period}', chosen.occurred_at AT TIME ZONE 'UTC')::date
                       AS period,
                   item.quantity
            FROM incidents_weaponitem AS item
            JOIN chosen ON chosen.id = item.incident_id
            """,
            parameters,
        )
        cursor.execute(f"ANALYZE {table}")


def plain_group_by(table: str, settings: str | None):
    def work():
        with transaction.atomic(), connection.cursor() as cursor:
            if settings:
                cursor.execute(settings)
            cursor.execute(PLAIN_SQL.format(table=table))
            cursor.fetchall()

    return work


def explain(incidents, parameters: flows.FlowParameters, chosen_by) -> None:
    sql, sql_params, read_from = flows.flows_statement(incidents, parameters, chosen_by)
    print(f"The flows' plan, reading the {read_from}:")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(flows.session_settings(cursor))
        cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", sql_params)
        print("\n".join(row[0] for row in cursor.fetchall()))


def _seconds(work, *arguments) -> float:
    start = time.perf_counter()
    work(*arguments)
    return time.perf_counter() - start


def _same_flows(first: dict, second: dict) -> bool:
    """Whether two flow results agree (rows in any order; where they were read from aside)."""

    def comparable(result: dict) -> dict:
        rows = sorted(map(tuple, result["made"]["rows"]), key=repr)
        made = {**result["made"], "rows": rows}
        return {**{k: v for k, v in result.items() if k != "read_from"}, "made": made}

    return comparable(first) == comparable(second)


KEPT_ACRONYM = "FLOWBENCH"


def kept_data(items: int) -> bool:
    """Whether a previous run with --keep left its data (of `items` items)."""
    mission = Mission.objects.filter(acronym=KEPT_ACRONYM).first()
    if mission is None:
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM incidents_weaponitem AS item JOIN incidents_incident AS "
            "incident ON incident.id = item.incident_id WHERE incident.mission_id = %s",
            [mission.pk],
        )
        kept = cursor.fetchone()[0]
    if kept != items:
        raise SystemExit(f"{kept:,} items kept, not {items:,}: run with --drop-kept first.")
    return True


def drop_kept() -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT id FROM organisations_mission WHERE acronym = %s", [KEPT_ACRONYM])
        missions = [row[0] for row in cursor.fetchall()]
        incidents = "SELECT id FROM incidents_incident WHERE mission_id = ANY(%s)"
        items = f"SELECT id FROM incidents_weaponitem WHERE incident_id IN ({incidents})"
        cursor.execute(
            f"DELETE FROM incidents_tracerequest WHERE weapon_id IN ({items})", [missions]
        )
        cursor.execute(f"DELETE FROM incidents_weaponitem WHERE id IN ({items})", [missions])
        cursor.execute(f"DELETE FROM incidents_incident WHERE id IN ({incidents})", [missions])
        Contingent.objects.filter(mission_id__in=missions).delete()
        Mission.objects.filter(pk__in=missions).delete()
        get_user_model().objects.filter(username="flows-bench-admin").delete()
    print(f"dropped the kept data of {len(missions)} mission(s)")


def create_data(items: int) -> tuple[Mission, Contingent]:
    mission = Mission.objects.create(name="Flows benchmark", acronym=KEPT_ACRONYM)
    contingent = Contingent.objects.create(
        mission=mission, name="Flows benchmark", contributing_country="RWA", kind="tcc"
    )
    if not get_user_model().objects.filter(username="flows-bench-admin").exists():
        get_user_model().objects.create_superuser("flows-bench-admin")
    start = time.perf_counter()
    generate(items, mission, contingent)
    print(f"  (generation took {time.perf_counter() - start:.0f} s in all)")
    return mission, contingent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--period", default="year", choices=["month", "quarter", "year"])
    parser.add_argument("--explain", action="store_true", help="print the flows query plan")
    parser.add_argument(
        "--keep", action="store_true", help="keep the generated data for the next runs"
    )
    parser.add_argument("--drop-kept", action="store_true", help="delete the kept data")
    arguments = parser.parse_args()
    items = arguments.items
    if arguments.drop_kept:
        drop_kept()
        return
    if arguments.keep and not kept_data(items):
        with transaction.atomic():
            create_data(items)
        with connection.cursor() as cursor:
            for table in (
                "incidents_incident",
                "incidents_weaponitem",
                "incidents_tracerequest",
                "incidents_weaponflowcount",
            ):
                cursor.execute(f"VACUUM ANALYZE {table}")

    try:
        with transaction.atomic():
            if arguments.keep:
                print(f"measuring on the kept data ({items:,} items)")
            else:
                create_data(items)
            admin = get_user_model().objects.get(username="flows-bench-admin")
            # As a run chooses its incidents: the superuser's, with no filter.
            incidents, choice = analysis_choice(
                requester=admin, mission_id=None, incident_filter={}
            )
            total = Incident.objects.count()
            print(f"{total:,} incidents in the table in all (those already there count too)")
            parameters = flows.FlowParameters(period=arguments.period)
            result = flows.analyse(incidents, parameters, no_progress, chosen_by=choice)
            from_items = flows.analyse(incidents, parameters, no_progress)
            counted = result["totals"]["records"]
            print(
                f"flows: {counted:,} item records, {len(result['made']['rows']):,} rows where "
                f"made, {len(result['origins']['matrix']):,} pairs of established origins, "
                f"{len(result['routes']):,} routes, {len(result['lines']):,} lines, "
                f"read from the {result['read_from']} "
                f"({WeaponFlowCount.objects.count():,} rows of kept counts in all); "
                f"the same from the items: {_same_flows(result, from_items)}"
            )
            # What telling a stored flows run stale costs on the same incidents.
            best_fingerprint = min(_seconds(data_fingerprint, incidents) for _ in range(3))
            print(
                f"  fingerprint of the incidents read (is a run stale?): {best_fingerprint:.3f} s"
            )
            if arguments.explain:
                explain(incidents, parameters, choice)
                explain(incidents, parameters, None)

            precompute("bench_flow_facts_temp", True, incidents, arguments.period)
            precompute("bench_flow_facts", False, incidents, arguments.period)
            best = best_of_interleaved(
                arguments.runs,
                {
                    "flows, kept counts": lambda: flows.analyse(
                        incidents, parameters, no_progress, chosen_by=choice
                    ),
                    "flows, items": lambda: flows.analyse(incidents, parameters, no_progress),
                    "plain, temp table": plain_group_by("bench_flow_facts_temp", None),
                    "plain, table": plain_group_by("bench_flow_facts", None),
                    "plain, table, flows' settings": plain_group_by(
                        "bench_flow_facts", flows.SESSION_SETTINGS
                    ),
                },
            )
            contenders = {
                label: best.pop(label) for label in ("flows, kept counts", "flows, items")
            }
            for contender, flows_seconds in contenders.items():
                print(f"  {contender}: {counted / flows_seconds:,.0f} items/s")
                for label, seconds in best.items():
                    print(
                        f"    against {label:<30} {counted / seconds:,.0f} items/s: "
                        f"ratio {seconds / flows_seconds:.2f} (target >= 0.5)"
                    )
            raise Rollback
    except Rollback:
        pass


if __name__ == "__main__":
    main()

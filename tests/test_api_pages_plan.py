"""The API's cursor pages read the reader's own rows, not the whole table (issue 24): a
reader of one mission among others, whose records all come after the others' in id order,
gets its first page without PostgreSQL walking the primary key past every other mission's
incident. Checked on the plan PostgreSQL runs (EXPLAIN ANALYZE of the page's own query), with
the index taken away inside a savepoint to show the layout does reproduce the walk."""

import json

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from incidents.models import Incident
from organisations.models import Mission

# Another mission's incidents first, then the reader's: one in ten of the table, as for a
# reader of one mission among ten.
OTHERS, OWN = 20_000, 2_000

COPY_INCIDENTS = """
INSERT INTO incidents_incident (
    kind, occurred_at, location, context, location_precision, country, actors, narrative,
    releasability, state, gbv_link, created_at, updated_at, contingent_id, mission_id,
    actor_type, date_precision, external_reference, return_comment, withdrawn_reason,
    source_reliability, source, h3_cell)
SELECT kind, occurred_at + n * interval '1 minute', location, context, location_precision,
       country, '', '', releasability, state, false, now(), now(), contingent_id, mission_id,
       actor_type, date_precision, '', '', '', source_reliability, '', h3_cell
FROM incidents_incident CROSS JOIN generate_series(1, %s) AS n
WHERE id = %s
"""


def rows_removed(plan: dict) -> int:
    """The rows every node of an EXPLAIN (ANALYZE, FORMAT JSON) plan read and threw away."""
    return plan.get("Rows Removed by Filter", 0) + sum(
        rows_removed(child) for child in plan.get("Plans", [])
    )


@pytest.mark.django_db
def test_a_readers_first_page_reads_its_missions_rows_not_the_others(client, world):
    minusca, monusco = (Mission.objects.get(acronym=name) for name in ("MINUSCA", "MONUSCO"))
    template = {
        mission: Incident.objects.filter(mission=mission, state="verified").order_by("id")[0]
        for mission in (minusca, monusco)
    }
    with connection.cursor() as cursor:
        cursor.execute(COPY_INCIDENTS, [OTHERS, template[minusca].pk])
        cursor.execute(COPY_INCIDENTS, [OWN, template[monusco].pk])
        cursor.execute("ANALYZE incidents_incident")

    client.force_login(world.users["other_mission_analyst"])
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/incidents?limit=100")
    assert response.status_code == 200
    page = response.json()["results"]
    assert len(page) == 100
    assert {row["mission"] for row in page} == {"MONUSCO"}
    (page_sql,) = [
        query["sql"]
        for query in queries.captured_queries
        if query["sql"].lstrip().startswith('SELECT "incidents_incident"."id"')
        and "LIMIT 101" in query["sql"]
    ]

    def removed() -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {page_sql}")
            plan = cursor.fetchone()[0]
        plan = json.loads(plan) if isinstance(plan, str) else plan
        return rows_removed(plan[0]["Plan"])

    assert removed() < 1_000
    # Without the index, the same page walks past the other mission's incidents.
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("DROP INDEX incident_mission_order")
        assert removed() >= OTHERS
        transaction.set_rollback(True)
    assert removed() < 1_000

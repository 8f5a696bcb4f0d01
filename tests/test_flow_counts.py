"""The counts of items per flow that the database keeps (incidents/derived/flow_counts.py): right
after every kind of write, and read by the flow analyses where they answer the filter, with
the same result as the pass over the items."""

import importlib
import threading
import time
from datetime import UTC, date, datetime

import pytest
from django.db import connection, transaction
from django.utils import timezone

from geo.analyses.flows import FlowParameters, analyse
from geo.analyses.services import analysis_run_execute, analysis_run_request
from geo.analyses.source import analysis_choice, no_progress
from geo.models import AnalysisKind
from incidents.choices import Context, IncidentKind, WorkflowState
from incidents.derived.flow_counts import KEY_COLUMNS
from incidents.models import Incident, WeaponFlowCount, WeaponItem
from organisations.choices import Releasability
from tests.test_analysis_flows import flows_layout, item, trace
from tests.waiting import SAFETY_SECONDS

FLOW_COUNTS = importlib.import_module("incidents.migrations.0014_weapon_flow_counts")
COUNTED = importlib.import_module("incidents.migrations.0031_established_origins")
COPIED = (
    "incident_mission_id",
    "incident_contingent_id",
    "incident_state",
    "incident_releasability",
    "incident_kind",
    "incident_context",
    "incident_withdrawn",
)


def assert_counts_match_a_computation_from_scratch() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(KEY_COLUMNS)}, items, records FROM incidents_weaponflowcount"
        )
        kept = sorted(cursor.fetchall())
        cursor.execute(COUNTED.COUNTS_SQL)
        assert kept == sorted(cursor.fetchall())
        # No row is left at zero.
        assert all(records > 0 for *_, records in kept)
        # Each item holds its incident's columns as the incident has them.
        derived = ", ".join(f"derived.{column}" for column in COPIED)
        held = ", ".join(f"item.{column}" for column in COPIED)
        cursor.execute(
            f"""
            SELECT item.id FROM ({FLOW_COUNTS.INCIDENT_COLUMNS_SQL}) AS derived
            JOIN incidents_weaponitem AS item USING (id)
            WHERE ({derived}) IS DISTINCT FROM ({held})
            """
        )
        assert cursor.fetchall() == []


def kept_rows() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_weaponflowcount")
        return cursor.fetchone()[0]


def test_the_counts_follow_items_incidents_and_traces_on_every_write_path(flows_world):
    a, b, c = (flows_world.records[key] for key in "abc")
    assert_counts_match_a_computation_from_scratch()

    # Items edited, added and deleted through the ORM.
    pistol = a.weapons.get(category="revolver_pistol")
    pistol.quantity, pistol.category = 5, "smg"
    pistol.save()
    item(c, category="mortar", made_in="CHN", quantity=2)
    b.weapons.get(country_of_manufacture="CAF").delete()
    assert_counts_match_a_computation_from_scratch()

    # The incident's columns the counts are keyed by, through a form-like save, a
    # queryset update and raw SQL.
    a.state = WorkflowState.SUBMITTED
    a.releasability = Releasability.MISSION_ONLY
    a.kind, a.context = IncidentKind.CACHE_DISCOVERY, Context.CRIMINAL
    a.save()
    Incident.objects.filter(pk=b.pk).update(withdrawn_at=timezone.now(), country="COD")
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_incident SET occurred_at = %s, contingent_id = %s WHERE id = %s",
            [datetime(2023, 6, 1, tzinfo=UTC), flows_world.records["c"].contingent_id, a.pk],
        )
    assert_counts_match_a_computation_from_scratch()

    # A trace answered, then withdrawn: the counts (by where the items were made) stay.
    weapon = c.weapons.get(category="smg")
    answer = trace(weapon, country="SSD", answered=date(2025, 6, 1))
    assert_counts_match_a_computation_from_scratch()
    answer.delete()
    assert_counts_match_a_computation_from_scratch()

    # A whole incident deleted: its rows go, none is left at zero.
    before = kept_rows()
    c.delete()
    assert kept_rows() < before
    assert_counts_match_a_computation_from_scratch()


def test_many_incidents_updated_in_one_statement_move_their_counts_at_once(flows_world):
    Incident.objects.filter(state=WorkflowState.VERIFIED).update(
        state=WorkflowState.SUBMITTED, releasability=Releasability.PARTNER_AGENCIES
    )

    assert not WeaponFlowCount.objects.filter(state=WorkflowState.VERIFIED).exists()
    assert_counts_match_a_computation_from_scratch()


def test_truncating_the_items_empties_the_counts(flows_world):
    with connection.cursor() as cursor:
        # (The layout's deferred foreign-key checks, run first: TRUNCATE refuses to run
        # while any are pending.)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        # The cascade reaches the custody chains, which refuse TRUNCATE unless their owner
        # switches that trigger off (for this test's transaction only).
        cursor.execute("ALTER TABLE incidents_custodyevent DISABLE TRIGGER custody_no_truncate")
        cursor.execute("TRUNCATE incidents_weaponitem CASCADE")

    assert kept_rows() == 0


def test_items_written_in_bulk_by_raw_sql_are_counted_once_per_statement(flows_world):
    c = flows_world.records["c"]
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO incidents_weaponitem (
                incident_id, category, make, model, calibre, serial_number, markings_altered,
                country_of_manufacture, quantity, factory_markings, import_markings,
                other_markings, condition, disposition)
            SELECT %s, 'assault_rifle', '', '', '', 'BULK-' || n, false,
                   CASE WHEN n %% 3 = 0 THEN 'CHN' ELSE 'RUS' END, n %% 4 + 1, '', '', '',
                   'unknown', 'held'
            FROM generate_series(1, 60) AS n
            """,
            [c.pk],
        )
        assert_counts_match_a_computation_from_scratch()
        cursor.execute(
            "UPDATE incidents_weaponitem SET quantity = quantity + 1, category = 'lmg'"
            " WHERE serial_number LIKE 'BULK-%%' AND country_of_manufacture = 'CHN'"
        )
        assert_counts_match_a_computation_from_scratch()
        cursor.execute("DELETE FROM incidents_weaponitem WHERE serial_number LIKE 'BULK-%%'")
    assert_counts_match_a_computation_from_scratch()


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_the_same_flow_at_once_both_count():
    """Two transactions writing items of a flow that has no row yet: the second waits for
    the first's row of counts, then adds to it, rather than failing or writing a second."""
    c = flows_layout().records["c"]
    first_wrote, release = threading.Event(), threading.Event()
    failures = []

    def write(quantity: int, before=None, after=None) -> None:
        try:
            if before:
                before.wait(SAFETY_SECONDS)
            with transaction.atomic():
                item(c, category="mortar", made_in="CHN", quantity=quantity)
                if after:
                    after.set()
                    release.wait(SAFETY_SECONDS)
        except Exception as error:  # reported below, in the test's own thread
            failures.append(error)
        finally:
            connection.close()

    writers = [
        threading.Thread(target=write, args=(2, None, first_wrote)),
        threading.Thread(target=write, args=(3, first_wrote)),
    ]
    for writer in writers:
        writer.start()
    waited = _a_writer_waits_for_a_lock()
    release.set()
    for writer in writers:
        writer.join(SAFETY_SECONDS)

    assert failures == []
    assert waited
    mortars = WeaponFlowCount.objects.filter(category="mortar", made_in="CHN")
    assert list(mortars.values_list("items", "records")) == [(5, 2)]
    assert_counts_match_a_computation_from_scratch()


def _a_writer_waits_for_a_lock(seconds: float = SAFETY_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
            time.sleep(0.05)
    return False


def both_ways(flows_world, persona: str, incident_filter: dict, **parameters) -> tuple[dict, dict]:
    """The flows of `persona`'s incidents chosen by `incident_filter`, from a pass over the
    items and from the kept counts."""
    incidents, choice = analysis_choice(
        requester=flows_world.users[persona], mission_id=None, incident_filter=incident_filter
    )
    chosen = FlowParameters(**parameters)
    return (
        analyse(incidents, chosen, no_progress),
        analyse(incidents, chosen, no_progress, chosen_by=choice),
    )


def comparable(result: dict) -> dict:
    """The result without what may differ between two computations: the order of rows
    with equal items, and where they were read from."""
    made = {**result["made"], "rows": sorted(map(tuple, result["made"]["rows"]), key=repr)}
    return {**{key: value for key, value in result.items() if key != "read_from"}, "made": made}


@pytest.mark.parametrize(
    ("persona", "incident_filter", "period"),
    [
        ("admin", {}, "year"),
        ("admin", {}, "month"),
        ("admin", {"mission": ["MINUSCA"]}, "quarter"),
        ("admin", {"region": "eccas-t", "kind": ["checkpoint_seizure"]}, "all"),
        (
            "admin",
            {
                "occurred_after": "2024-02-01T00:00:00Z",
                "occurred_before": "2024-12-31T23:59:59.999999Z",
            },
            "month",
        ),
        # A day's end as the map writes it: the whole last second, so December is closed.
        ("admin", {"occurred_before": "2024-12-31T23:59:59Z"}, "month"),
        ("admin", {"country": "COD", "state": ["verified"]}, "year"),
        ("mission_analyst", {}, "year"),
        ("other_mission_analyst", {"context": ["armed_conflict"]}, "month"),
        # Generalised locations: the points of diversion are snapped all the same.
        ("regional_analyst", {}, "year"),
    ],
)
def test_the_kept_counts_give_the_flows_the_items_give(
    flows_world, persona, incident_filter, period
):
    from_items, from_counts = both_ways(flows_world, persona, incident_filter, period=period)

    assert (from_items["read_from"], from_counts["read_from"]) == ("items", "kept_counts")
    assert comparable(from_counts) == comparable(from_items)
    assert from_counts["totals"]["records"] > 0


def test_withdrawn_records_are_counted_only_when_asked_for(flows_world):
    Incident.objects.filter(pk=flows_world.records["c"].pk).update(withdrawn_at=timezone.now())

    default, withdrawn = (
        both_ways(flows_world, "admin", incident_filter)
        for incident_filter in ({}, {"withdrawn": "true"})
    )
    assert comparable(default[1]) == comparable(default[0])
    assert comparable(withdrawn[1]) == comparable(withdrawn[0])
    assert withdrawn[1]["totals"]["items"] == 5  # C's smg (4) and its traced rifle (1)
    assert "COD" not in {row[1] for row in default[1]["made"]["rows"]}


@pytest.mark.parametrize(
    "incident_filter",
    [
        {"category": ["smg"]},  # incidents holding an smg: all their weapons count
        {"q": "Bangui"},
        {"bbox": "15,3,25,10"},
        {"updated_since": "2020-01-01T00:00:00Z"},
        {"occurred_after": "2024-02-05T00:00:00Z"},  # cuts February
        {"occurred_before": "2024-12-31T12:00:00Z"},  # cuts December
        {"occurred_before": "2024-12-31T23:59:59.5Z"},  # leaves out half a second
    ],
)
def test_filters_the_counts_cannot_answer_are_read_from_the_items(flows_world, incident_filter):
    Incident.objects.filter(pk=flows_world.records["a"].pk).update(narrative="Stopped at Bangui")
    incidents, choice = analysis_choice(
        requester=flows_world.users["admin"], mission_id=None, incident_filter=incident_filter
    )
    # The recovered ones: a weapon only observed was seized nowhere.
    weapons = WeaponItem.objects.filter(incident__in=incidents, recovery="recovered")
    assert weapons.exists()
    result = analyse(incidents, FlowParameters(), no_progress, chosen_by=choice)

    assert result["read_from"] == "items"
    assert result["totals"]["records"] == weapons.count()


def test_a_flows_run_reads_the_kept_counts(flows_world):
    run = analysis_run_request(
        requester=flows_world.users["mission_analyst"],
        kind=AnalysisKind.FLOWS,
        parameters={"period": "year"},
        incident_filter={},
    )
    analysis_run_execute(run_id=run.pk, worker="test")
    run.refresh_from_db()

    assert run.state == "done", run.error
    assert run.result["read_from"] == "kept_counts"
    # A, B, D and E (tests/test_analysis_flows.py): 6 + 2 + 1 + 3.
    assert run.result["totals"]["items"] == 12

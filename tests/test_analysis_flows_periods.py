"""Flows' periods and plans: the items' stored month index (incidents 0010) against a
computation from scratch, and the same flows whichever way the items' pass is planned."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from django.db import connection

from geo.analyses import flows as flows_module
from incidents.models import Incident, WeaponItem
from tests.test_analysis_flows import flows, item, seizure

# Each item's month index computed from scratch: its incident's date, in UTC.
FROM_SCRATCH_SQL = """
SELECT item.id FROM incidents_weaponitem AS item
JOIN incidents_incident AS incident ON incident.id = item.incident_id
WHERE item.seized_month IS DISTINCT FROM
      (extract(year FROM incident.occurred_at AT TIME ZONE 'UTC') * 12
       + extract(month FROM incident.occurred_at AT TIME ZONE 'UTC') - 1)::integer
"""


def assert_month_indexes_match_a_computation_from_scratch():
    with connection.cursor() as cursor:
        cursor.execute(FROM_SCRATCH_SQL)
        assert cursor.fetchall() == []
        cursor.execute("SELECT count(*) FROM incidents_weaponitem")
        assert cursor.fetchone()[0] > 0


def month_index(weapon) -> int:
    return WeaponItem.objects.filter(pk=weapon.pk).values_list("seized_month", flat=True)[0]


def test_an_items_month_index_is_its_incidents_utc_month(flows_world):
    b = flows_world.records["b"]  # 5 November 2024, 23:30 UTC
    assert {month_index(weapon) for weapon in b.weapons.all()} == {2024 * 12 + 10}
    # New Year's Eve in UTC is already January in Bangui (UTC+1): UTC counts.
    late = seizure(
        b.contingent, "CAF", datetime(2024, 1, 1, 0, 30, tzinfo=timezone(timedelta(hours=1)))
    )
    assert month_index(item(late)) == 2023 * 12 + 11
    assert_month_indexes_match_a_computation_from_scratch()


def test_an_items_month_index_follows_its_incidents_date_on_every_write_path(flows_world):
    a = flows_world.records["a"]
    a.occurred_at = datetime(2023, 12, 31, 23, 0, tzinfo=UTC)
    a.save()
    assert {month_index(weapon) for weapon in a.weapons.all()} == {2023 * 12 + 11}
    Incident.objects.filter(pk=a.pk).update(occurred_at=datetime(2022, 6, 15, tzinfo=UTC))
    assert {month_index(weapon) for weapon in a.weapons.all()} == {2022 * 12 + 5}
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_incident SET occurred_at = %s WHERE id = %s",
            [datetime(2025, 3, 31, 23, 59, tzinfo=UTC), a.pk],
        )
        # Items moved to another incident, and written by raw SQL, as much as by a form.
        cursor.execute(
            "UPDATE incidents_weaponitem SET incident_id = %s WHERE id = %s",
            [flows_world.records["c"].pk, a.weapons.first().pk],
        )
        cursor.execute(
            """
            INSERT INTO incidents_weaponitem (
                incident_id, category, make, model, calibre, serial_number, markings_altered,
                country_of_manufacture, quantity, factory_markings, import_markings,
                other_markings, condition, disposition)
            SELECT %s, 'assault_rifle', '', '', '', 'BULK-' || n, false, 'CHN', 1, '', '',
                   '', 'unknown', 'held'
            FROM generate_series(1, 5) AS n
            """,
            [a.pk],
        )
    assert set(
        WeaponItem.objects.filter(serial_number__startswith="BULK-").values_list(
            "seized_month", flat=True
        )
    ) == {2025 * 12 + 2}
    WeaponItem.objects.filter(incident=a).first().delete()
    assert_month_indexes_match_a_computation_from_scratch()


@pytest.mark.parametrize("period", ["month", "quarter", "year", "all"])
def test_the_merge_plan_and_the_hash_plan_give_the_same_flows(flows_world, period, monkeypatch):
    results = {}
    for all_visible in ("true", "false"):
        monkeypatch.setattr(flows_module, "ITEMS_ALL_VISIBLE_SQL", f"SELECT {all_visible}")
        results[all_visible] = flows(flows_world, period=period)
    assert results["true"] == results["false"]
    assert results["true"]["totals"]["records"] > 0

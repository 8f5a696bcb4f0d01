"""Illicit origins in the import file (issue 19): a row gives its weapon's origin
established without a trace request on the platform, checked as the record page's form
checks it, by row and column, all or nothing. (The export writes the same columns: the
round trip is tests/test_export_round_trip.py.)"""

import pytest

from incidents.models import IllicitOrigin, WeaponItem
from tests.test_import import HEADER, csv_file, run_import

pytestmark = pytest.mark.usefixtures("countries_110m")  # before `world`: its records fall in them

ORIGIN_HEADER = [
    *HEADER,
    "weapon_origin_method",
    "weapon_origin_kind",
    "weapon_origin_diversion_country",
    "weapon_origin_diversion_date",
    "weapon_origin_established_by",
    "weapon_origin_established_on",
]
WEAPON_ROW = [
    "OR-001",
    "2025-06-01T08:30",
    "4.394",
    "18.558",
    "checkpoint_seizure",
    "criminal",
    "1",
    "assault_rifle",
    "Norinco",
    "5600001",
    "1",
]
FINDING = ["authority", "state_stocks", "CAF", "2024-11-02", "Commission nationale", "2025-05-10"]


def test_a_row_with_an_origin_records_it_for_its_weapon_with_its_history(world):
    no_origin = [*WEAPON_ROW[:9], "5600002", "1", "", "", "", "", "", ""]

    report = run_import(world, csv_file([[*WEAPON_ROW, *FINDING], no_origin], ORIGIN_HEADER))

    assert report.ok, report.as_dict()
    origin = IllicitOrigin.objects.get()
    assert origin.weapon == WeaponItem.objects.get(serial_number="5600001")
    assert (origin.method, origin.kind, origin.diversion_country) == (
        "authority",
        "state_stocks",
        "CAF",
    )
    assert (str(origin.diversion_date), str(origin.established_on)) == ("2024-11-02", "2025-05-10")
    assert origin.recorded_by == world.users["reporter_alpha"]
    assert origin.history.get().history_type == "+"


@pytest.mark.parametrize(
    ("position", "value", "column", "says"),
    [
        (4, "", "weapon_origin_established_by", "is required when the row gives an illicit"),
        (0, "", "weapon_origin_method", "is required when the row gives an illicit origin"),
        (1, "stolen", "weapon_origin_kind", "'stolen' is not one of"),
        (3, "2025-02-30", "weapon_origin_diversion_date", "'2025-02-30' is not a date"),
        (3, "2025-06-02", "weapon_origin_diversion_date", "after the weapon was recovered"),
        (5, "2999-01-01", "weapon_origin_established_on", "is in the future"),
        (2, "XXX", "weapon_origin_diversion_country", "not an ISO 3166-1 alpha-3"),
    ],
)
def test_an_origin_that_does_not_hold_is_refused_by_row_and_column(
    world, position, value, column, says
):
    finding = list(FINDING)
    finding[position] = value

    report = run_import(world, csv_file([[*WEAPON_ROW, *finding]], ORIGIN_HEADER))

    assert not report.ok
    assert [(problem.row, problem.column) for problem in report.problems] == [(2, column)]
    assert says in report.problems[0].message
    assert not IllicitOrigin.objects.exists()
    assert not WeaponItem.objects.filter(serial_number="5600001").exists()


def test_an_origin_without_a_weapon_is_refused_naming_the_category(world):
    row = [*WEAPON_ROW[:7], "", "", "", "", *FINDING]

    report = run_import(world, csv_file([row], ORIGIN_HEADER))

    assert [(problem.row, problem.column) for problem in report.problems] == [
        (2, "weapon_category")
    ]

"""Bulk import: a clean file goes in whole, once; a file with any problem writes nothing
and lists every problem by row and column."""

import csv
import io
import json

import pytest
from openpyxl import Workbook

from incidents.imports.importer import incidents_import
from incidents.models import Incident, WeaponItem

HEADER = [
    "external_reference",
    "occurred_at",
    "latitude",
    "longitude",
    "kind",
    "context",
    "releasability",
    "weapon_category",
    "weapon_make",
    "weapon_serial_number",
    "weapon_quantity",
]
CLEAN_ROWS = [
    [
        "BGF-001",
        "2025-06-01T08:30",
        "4.394",
        "18.558",
        "checkpoint_seizure",
        "criminal",
        "1",
        "assault_rifle",
        "Norinco",
        "5611111",
        "1",
    ],
    [
        "BGF-001",
        "2025-06-01T08:30",
        "4.394",
        "18.558",
        "checkpoint_seizure",
        "criminal",
        "1",
        "craft_produced",
        "",
        "",
        "3",
    ],
    [
        "BGF-002",
        "2025-06-02",
        "6.99",
        "19.18",
        "cache_discovery",
        "armed_conflict",
        "4",
        "mortar",
        "Norinco",
        "6300042",
        "1",
    ],
    [
        "BGF-003",
        "2025-06-03",
        "7.30",
        "18.30",
        "Voluntary surrender / DDR handover",
        "other",
        "5",
        "",
        "",
        "",
        "",
    ],
]


pytestmark = pytest.mark.usefixtures("countries_110m")  # before `world`: its records fall in them


def csv_file(rows, header=HEADER) -> io.BytesIO:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(rows)
    return io.BytesIO(text.getvalue().encode())


def run_import(world, upload, file_format="csv"):
    contingent = world.records["alpha_draft_L1"].contingent
    return incidents_import(
        upload=upload,
        file_format=file_format,
        contingent=contingent,
        by=world.users["reporter_alpha"],
    )


def counts():
    return Incident.objects.count(), WeaponItem.objects.count()


def test_a_clean_csv_creates_drafts_with_weapons_derived_places_and_history(world):
    before = counts()

    report = run_import(world, csv_file(CLEAN_ROWS))

    assert report.ok, report.as_dict()
    assert (report.rows, report.incidents_created, report.weapons_created) == (4, 3, 3)
    assert counts() == (before[0] + 3, before[1] + 3)
    first = Incident.objects.get(external_reference="BGF-001")
    assert first.state == "draft" and first.country == "CAF" and first.h3_cell
    assert first.reported_by == world.users["reporter_alpha"]
    assert sorted(first.weapons.values_list("category", "quantity")) == [
        ("assault_rifle", 1),
        ("craft_produced", 3),
    ]
    assert Incident.objects.get(external_reference="BGF-003").kind == "voluntary_surrender"
    history = first.history.get()
    assert (history.history_type, history.history_user, history.history_change_reason) == (
        "+",
        world.users["reporter_alpha"],
        "import",
    )
    assert WeaponItem.history.filter(incident_id=first.pk).count() == 2


def test_importing_the_same_file_again_creates_no_duplicates(world):
    run_import(world, csv_file(CLEAN_ROWS))
    before = counts()

    again = run_import(world, csv_file(CLEAN_ROWS))

    assert again.ok
    assert (again.incidents_created, again.weapons_created, again.incidents_already_imported) == (
        0,
        0,
        3,
    )
    assert counts() == before


def bad(row_index: int, column: str, value: str) -> list[list[str]]:
    rows = [list(row) for row in CLEAN_ROWS]
    rows[row_index][HEADER.index(column)] = value
    return rows


@pytest.mark.parametrize(
    ("rows", "row", "column", "says"),
    [
        (bad(2, "latitude", "118.5"), 4, "latitude", "out of range"),
        (bad(2, "longitude", "-200"), 4, "longitude", "out of range"),
        (bad(2, "latitude", "north"), 4, "latitude", "not a number"),
        (bad(2, "occurred_at", "2999-01-01"), 4, "occurred_at", "in the future"),
        (bad(2, "occurred_at", "03/06/2025"), 4, "occurred_at", "is not a date"),
        (bad(2, "occurred_at", ""), 4, "occurred_at", "is required"),
        (bad(2, "weapon_category", "ray_gun"), 4, "weapon_category", "is not one of"),
        (bad(2, "kind", "parade"), 4, "kind", "is not one of"),
        (bad(2, "weapon_quantity", "-2"), 4, "weapon_quantity", "out of range"),
        (bad(2, "weapon_quantity", "1000000"), 4, "weapon_quantity", "out of range"),
        (bad(2, "releasability", "9"), 4, "releasability", "out of range (1 to 5)"),
        (bad(1, "latitude", "4.5"), 3, "external_reference", "other incident values"),
        ([*CLEAN_ROWS, CLEAN_ROWS[2]], 6, "(row)", "repeats row 4"),
    ],
)
def test_each_bad_cell_is_listed_by_row_and_column_and_nothing_is_written(
    world, rows, row, column, says
):
    before = counts()

    report = run_import(world, csv_file(rows))

    assert not report.ok
    assert [(p.row, p.column) for p in report.problems] == [(row, column)]
    assert says in report.problems[0].message
    assert counts() == before


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (
            b"external_reference,occurred_at\nA,2025-01-01\n",
            "Missing required columns: kind, context, latitude and longitude",
        ),
        (",".join([*HEADER, "colour"]).encode() + b"\n", "Unknown columns: colour"),
        ("\n".join([",".join(HEADER), ",".join(CLEAN_ROWS[0])]).encode("utf-16"), "not UTF-8"),
        (
            ",".join(HEADER).encode() + b"\nBGF-9,2025-01-01,4.3,18.5,cache_discovery,other,1,"
            b"mortar,Caf\xe9,1,1\n",
            "not UTF-8",
        ),
        (b"", "empty"),
    ],
)
def test_files_that_cannot_be_read_are_refused_whole(world, content, says):
    before = counts()
    report = run_import(world, io.BytesIO(content))
    assert says in report.file_error
    assert counts() == before


def test_a_truncated_csv_is_refused(world):
    content = csv_file(CLEAN_ROWS).getvalue() + b'BGF-009,2025-01-01,4.3,18.5,"cache_disc'
    report = run_import(world, io.BytesIO(content))
    assert "ends inside a quoted cell (line 6): was it cut short?" in report.file_error


def test_one_bad_row_near_the_end_of_100k_rows_stops_the_whole_file(world):
    rows = [
        [f"REF-{n}", "2025-01-01", "4.39", "18.55", "cache_discovery", "other", "1", "", "", "", ""]
        for n in range(100_000)
    ]
    rows[99_990][HEADER.index("longitude")] = "1855"
    before = counts()

    report = run_import(world, csv_file(rows))

    assert report.rows == 100_000
    assert [(p.row, p.column) for p in report.problems] == [(99_992, "longitude")]
    assert counts() == before


def test_coordinates_in_mgrs_are_accepted_in_place_of_latitude_and_longitude(world):
    header = ["external_reference", "occurred_at", "coordinates", "kind", "context"]
    report = run_import(
        world,
        csv_file([["M-1", "2025-01-01", "34NBK3182283135", "cache_discovery", "other"]], header),
    )
    assert report.ok, report.as_dict()
    incident = Incident.objects.get(external_reference="M-1")
    assert round(incident.location.y, 4) == 4.3671


def xlsx_file(rows, *, sheets=1, merge=None) -> io.BytesIO:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    if merge:
        sheet.merge_cells(merge)
    for index in range(1, sheets):
        workbook.create_sheet(f"Sheet{index + 1}")
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    return buffer


def test_a_clean_xlsx_imports_like_the_csv(world):
    report = run_import(world, xlsx_file(CLEAN_ROWS), "xlsx")
    assert report.ok, report.as_dict()
    assert (report.incidents_created, report.weapons_created) == (3, 3)


@pytest.mark.parametrize(
    ("upload", "says"),
    [
        (lambda: xlsx_file(CLEAN_ROWS, sheets=2), "2 sheets"),
        (lambda: xlsx_file(CLEAN_ROWS, merge="A2:A3"), "merged cells"),
        (lambda: io.BytesIO(xlsx_file(CLEAN_ROWS).getvalue()[:3000]), "not a complete XLSX"),
        (lambda: csv_file(CLEAN_ROWS), "not a complete XLSX"),
    ],
)
def test_unusable_workbooks_are_refused_with_a_message(world, upload, says):
    before = counts()
    report = run_import(world, upload(), "xlsx")
    assert says in report.file_error
    assert counts() == before


def test_a_geojson_feature_collection_imports_its_points(world):
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [18.558, 4.394]},
            "properties": {
                "external_reference": "G-1",
                "occurred_at": "2025-02-01",
                "kind": "cache_discovery",
                "context": "other",
                "weapon_category": "mortar",
            },
        },
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
            "properties": {
                "external_reference": "G-2",
                "occurred_at": "2025-02-01",
                "kind": "cache_discovery",
                "context": "other",
            },
        },
    ]
    upload = io.BytesIO(json.dumps({"type": "FeatureCollection", "features": features}).encode())

    report = run_import(world, upload, "geojson")

    assert [(p.row, p.message) for p in report.problems] == [(2, "the geometry is not a Point")]
    features.pop()
    upload = io.BytesIO(json.dumps({"type": "FeatureCollection", "features": features}).encode())
    assert run_import(world, upload, "geojson").incidents_created == 1

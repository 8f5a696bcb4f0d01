"""The import against files nobody tuned for: any structure a reader can be handed ends in a
report (imported, refused by row, or a file error), never an exception; an empty file, a
point written coarsely and a re-import read as a person would expect."""

import io
import json
import zipfile

import pytest
from django.db import connection
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from openpyxl import Workbook

from incidents.imports.importer import INSERT_INCIDENTS
from incidents.models import Incident
from tests.test_import import CLEAN_ROWS, HEADER, csv_file, run_import

FUZZ = hypothesis_settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
# Near-GeoJSON: the members a reader looks at, holding anything.
features = st.fixed_dictionaries(
    {},
    optional={
        "type": st.sampled_from(["Feature", "Point", 3]) | json_values,
        "properties": json_values
        | st.dictionaries(st.sampled_from([*HEADER, "x"]), json_values, max_size=4),
        "geometry": json_values
        | st.fixed_dictionaries(
            {"type": st.sampled_from(["Point", "LineString"]) | json_values},
            optional={"coordinates": json_values},
        ),
    },
)
documents = st.one_of(
    json_values,
    st.fixed_dictionaries(
        {"type": st.just("FeatureCollection")},
        optional={"features": st.lists(features | json_values, max_size=4) | json_values},
    ),
)


def _imports_or_refuses(world, content: bytes, file_format: str) -> None:
    before = Incident.objects.count()
    report = run_import(world, io.BytesIO(content), file_format)
    if not report.ok:
        # Refused whole: nothing written, and a reason a person can read.
        assert Incident.objects.count() == before
        assert report.file_error or report.problems, report.as_dict()


@FUZZ
@given(document=documents)
def test_any_json_structure_is_imported_or_refused_never_an_error(world, document):
    _imports_or_refuses(world, json.dumps(document).encode(), "geojson")


@FUZZ
@given(
    text=st.lists(
        st.sampled_from([*'abc,;"\n\r\t 1.-:\\\x00é', ",".join(HEADER) + "\n"]), max_size=80
    ).map("".join)
)
def test_any_csv_text_is_imported_or_refused_never_an_error(world, text):
    _imports_or_refuses(world, text.encode("utf-8", "surrogatepass"), "csv")


def _workbook_bytes(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# Made once: a workbook records when it was saved, and hypothesis must draw positions in
# the same file on every run.
CLEAN_WORKBOOK = _workbook_bytes([HEADER, *CLEAN_ROWS])


@FUZZ
@given(data=st.data())
def test_any_damage_to_a_workbook_is_imported_or_refused_never_an_error(world, data):
    original = bytearray(CLEAN_WORKBOOK)
    for _ in range(data.draw(st.integers(1, 8))):
        position = data.draw(st.integers(0, len(original) - 1))
        original[position] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(len(original) // 2, len(original)))
    _imports_or_refuses(world, bytes(original[:cut]), "xlsx")


def test_geojson_structures_that_are_not_features_are_file_errors_naming_the_feature(world):
    for features, expected in [
        (["not an object"], "Feature 1 of the GeoJSON is not an object."),
        (
            [{"type": "Feature", "geometry": None, "properties": {}}, {"geometry": "POINT(1 2)"}],
            "Feature 2 of the GeoJSON: its geometry must be an object or null.",
        ),
        ([{"properties": ["a"]}], "Feature 1 of the GeoJSON: its properties must be an object"),
        ({"a": 1}, "features must be a list"),
    ]:
        document = {"type": "FeatureCollection", "features": features}
        report = run_import(world, io.BytesIO(json.dumps(document).encode()), "geojson")
        assert expected in report.file_error, report.as_dict()


@pytest.mark.parametrize("file_format", ["csv", "xlsx", "geojson"])
def test_a_file_with_only_its_header_is_refused(world, file_format):
    content = {
        "csv": ",".join(HEADER).encode() + b"\n",
        "xlsx": _workbook_bytes([HEADER]),
        "geojson": json.dumps({"type": "FeatureCollection", "features": []}).encode(),
    }[file_format]
    report = run_import(world, io.BytesIO(content), file_format)
    assert not report.ok
    assert report.file_error == "The file has no rows to import, only its column names."


@pytest.mark.parametrize(
    ("latitude", "longitude", "claimed", "stored"),
    [
        ("4.3941", "18.5583", "exact", "exact"),  # 11 m
        ("4.394", "18.5583", "exact", "1km"),  # 111 m: the coarser number decides
        ("4.39", "18.56", "exact", "1km"),
        ("4.4", "18.6", "exact", "10km"),
        ("4.4", "18.6", "admin_area", "admin_area"),  # never made finer either
        ("4", "18", "1km", "admin_area"),
    ],
)
def test_a_point_is_never_stored_more_precise_than_it_was_written(
    world, latitude, longitude, claimed, stored
):
    header = [*HEADER[:4], "kind", "context", "releasability", "location_precision"]
    row = ["P-1", "2025-06-01", latitude, longitude, "cache_discovery", "criminal", "1", claimed]
    report = run_import(world, csv_file([row], header=header))
    assert report.ok, report.as_dict()
    assert Incident.objects.get(external_reference="P-1").location_precision == stored


@pytest.mark.parametrize(
    ("coordinates", "stored"),
    [
        ("34NBK3182283135", "exact"),  # a 1 m square
        ("34NBK3183", "1km"),  # 1 km
        ("4°23'N 18°33'E", "10km"),  # whole minutes: 1.9 km
        ("4°23'12\"N 18°33'05\"E", "exact"),  # whole seconds: 31 m
    ],
)
def test_coordinates_in_other_notations_keep_the_precision_they_were_written_with(
    world, coordinates, stored
):
    header = ["external_reference", "occurred_at", "coordinates", "kind", "context"]
    report = run_import(
        world, csv_file([["C-1", "2025-06-01", coordinates, "cache_discovery", "criminal"]], header)
    )
    assert report.ok, report.as_dict()
    assert Incident.objects.get(external_reference="C-1").location_precision == stored


def test_the_already_imported_check_reads_the_unique_index(world):
    """The partial unique index on (contingent, external_reference) answers "already
    imported?" only when the query repeats its condition; the plan must use it."""
    run_import(world, csv_file(CLEAN_ROWS))
    contingent = world.records["alpha_draft_L1"].contingent
    probe = INSERT_INCIDENTS.split("), created AS")[0].replace("WITH located AS (", "")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE import_incident AS SELECT 2::bigint AS row_number,"
            " 'BGF-001'::text AS external_reference, 0 AS cell_x, 0 AS cell_y,"
            " 0.0::float8 AS longitude, 0.0::float8 AS latitude"
        )
        cursor.execute(
            "CREATE TEMP TABLE import_place AS SELECT 2::bigint AS row_number,"
            " ST_SetSRID(ST_MakePoint(0, 0), 4326) AS point, ''::text AS country,"
            " false AS near_border"
        )
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            f"EXPLAIN {probe}", {"contingent": contingent.pk, "hosts": ["CAF"], "tolerance": 5000.0}
        )
        plan = "\n".join(line for (line,) in cursor.fetchall())
        cursor.execute("DROP TABLE import_incident, import_place")
    assert "unique_external_reference_per_contingent" in plan, plan


def test_a_workbook_that_is_a_zip_of_something_else_is_a_file_error(world):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    report = run_import(world, io.BytesIO(out.getvalue()), "xlsx")
    assert report.file_error


@pytest.mark.parametrize(
    ("column", "other"),
    [(1, "2025-06-09"), (2, "4.5"), (3, "18.9"), (4, "cache_discovery"), (5, "armed_conflict")],
)
def test_rows_of_one_reference_that_disagree_on_the_incident_are_refused_naming_both(
    world, column, other
):
    second = list(CLEAN_ROWS[1])
    second[column] = other
    report = run_import(world, csv_file([CLEAN_ROWS[0], second]))
    assert not report.ok
    [problem] = [p for p in report.problems if p.column == "external_reference"]
    assert problem.row == 3 and "row 2" in problem.message, report.as_dict()

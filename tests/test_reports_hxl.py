"""HXL exports: every CSV file that every report template writes with the option `hxl` is
valid HXL, as libhxl (the HXL working group's own library) validates it.

libhxl validates offline: its default schema (`hxl-default-schema.json`: dates under
#date, numbers under #affected, #indicator+num, …) is a file inside the installed package,
and the schema of our own rules below is given to it as rows in memory. Nothing is
downloaded. On top of libhxl's schema, the rules that the HXL hashtag dictionary
(https://hxlstandard.org/standard/dictionary/) sets for these files:

- every hashtag is a core hashtag of the dictionary;
- every attribute is a core attribute, or one of ours documented in docs/clients/hxl.md;
- +num columns hold numbers, +code columns hold a code and nothing else (#country+code: an
  ISO 3166-1 alpha-3 code, the dictionary's default vocabulary for #country), one value per
  cell.
"""

import csv
import io
import re
import socket
from datetime import timedelta

import hxl
import pytest
from django.contrib.gis.geos import Polygon
from django.utils import timezone

from geo.models import AnalysisCell, AnalysisKind, AnalysisRun
from incidents.choices import WeaponCategory
from incidents.models import TraceRequest
from organisations.models import Mission
from reports.documents.document import Table
from reports.documents.rendering import csv_bytes
from reports.models import Report, ReportTemplate
from reports.services import report_generate, report_request
from tests.docs_pages import docs_page
from tests.report_fixtures import MARCH_2025, build_report_world

# The core hashtags and attributes of the HXL 1.1 hashtag dictionary
# (https://hxlstandard.org/standard/dictionary/), released and pre-release alike.
CORE_HASHTAGS = frozenset(
    """
    adm1 adm2 adm3 adm4 adm5 country geo loc region
    affected beneficiary inneed population reached respondee targeted
    access activity capacity contact currency indicator item modality need operations org
    output sector service subsector value
    cause crisis event group impact severity
    date description meta status
    """.split()  # noqa: SIM905 - the dictionary's groups, read best as lines of words
)
CORE_ATTRIBUTES = frozenset(
    """
    adolescents adults children elderly f hh i ind infants m
    funder impl prog
    code type
    bounds coord dest elevation lat lon origin
    approved canceled converted end occurred reported start
    abducted displaced idps incamp infected injured killed noncamp refugees
    email label name num phone source text url
    """.split()  # noqa: SIM905 - as above
)

# Our rules, as a libhxl schema (https://github.com/HXLStandard/hxl-proxy/wiki/HXL-schemas):
# one row per rule, applied to every column that the tag pattern matches.
PROJECT_SCHEMA = [
    [
        "#valid_tag",
        "#valid_severity",
        "#valid_datatype",
        "#valid_value+regex",
        "#description",
        "#valid_value+list",
    ],
    ["#*+num", "error", "number", "", "+num: numeric information", ""],
    ["#geo+lat", "error", "number", "", "latitude in decimal degrees", ""],
    ["#geo+lon", "error", "number", "", "longitude in decimal degrees", ""],
    ["#country+code", "error", "", r"^[A-Z]{3}$", "an ISO 3166-1 alpha-3 code, nothing else", ""],
    ["#*+code", "error", "", r"^\S+$", "one code, without spaces", ""],
    # One type of arm per cell: a value of the list of categories, never a list of them.
    [
        "#item+type",
        "error",
        "",
        "",
        "a category of the UN Register / International Tracing Instrument",
        "|".join(str(label) for label in WeaponCategory.labels),
    ],
]


def documented_attributes() -> set[str]:
    """Our own attributes: the rows "| `+attribute` | meaning |" of the table in the docs."""
    return set(re.findall(r"^\| `\+(\w+)` \|", docs_page("clients/hxl.md"), flags=re.MULTILINE))


def hashtag_problems(name: str, dataset, documented: set[str]) -> list[str]:
    problems = []
    for number, column in enumerate(dataset.columns, start=1):
        where = f"{name}, column {number} ({column.header!r}, {column.display_tag})"
        if not column.tag:
            problems.append(f"{where}: no hashtag")
            continue
        if column.tag.lstrip("#") not in CORE_HASHTAGS:
            problems.append(f"{where}: {column.tag} is not a core HXL hashtag")
        for attribute in column.attributes:
            if attribute not in CORE_ATTRIBUTES | documented:
                problems.append(
                    f"{where}: +{attribute} is neither a core HXL attribute nor documented "
                    "in the README"
                )
    return problems


def validation_errors(name: str, path: str) -> list[str]:
    """libhxl's errors in one CSV file: its default schema, then ours."""
    errors = []

    def collect(issue):
        if issue.rule.severity != "error":
            return  # warnings and suggestions (e.g. "rare value") are not failures
        # Data rows start on line 3 of the file: under the header and the hashtag row.
        line = issue.row.row_number + 3 if issue.row else "-"
        column = issue.column.display_tag if issue.column else issue.rule.tag_pattern
        errors.append(f"{name}, line {line}, {column}: {issue.value!r}: {issue.message}")

    for schema in (hxl.schema(callback=collect), hxl.schema(PROJECT_SCHEMA, callback=collect)):
        with hxl.data(path, hxl.InputOptions(allow_local=True)) as dataset:
            schema.validate(dataset)
    return errors


def no_network(host, *args, **kwargs):
    raise OSError(f"no network in this test (a look-up of {host})")


# Each template, on a scope that gives every one of its tables rows in the fixtures.
REQUESTS = {
    "mission_monthly": ("mission", "MINUSCA", {}),
    "regional_overview": ("region", "test-caf", {}),
    "secretary_general": ("world", "world", {}),
    "sdg_16_4_2": ("country", "CAF", {}),
    "iafq": ("mission", "MINUSCA", {"significant_seizure_min_arms": 2}),
    "isacs_trace": ("mission", "MINUSCA", {}),
}


def store_a_hotspot_run(mission: Mission) -> None:
    """A nightly hot-spot run of the mission, so that the reports have a hot-spot table."""
    now = timezone.now()
    run = AnalysisRun.objects.create(
        kind=AnalysisKind.HOTSPOTS,
        mission=mission,
        request_key="hxl-test",
        data_fingerprint="hxl-test",
        state=AnalysisRun.State.DONE,
        started_at=now - timedelta(minutes=1),
        finished_at=now,
    )
    AnalysisCell.objects.create(
        run=run,
        cell=0x85596B53FFFFFFF,
        incidents=4,
        z_score=3.1,
        p_value=0.002,
        spot_class=3,
        boundary=Polygon.from_bbox((20.0, 6.0, 20.1, 6.1)),
    )


@pytest.mark.django_db
def test_every_hxl_csv_of_every_report_template_passes_libhxl_validation(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    assert set(REQUESTS) == set(ReportTemplate.values), "a template is missing here"
    world = build_report_world()
    store_a_hotspot_run(Mission.objects.get(acronym="MINUSCA"))
    # A route through two transit countries: a list, spread over two columns.
    TraceRequest.objects.filter(diversion_country="SDN").update(transit_countries=["CMR", "TCD"])
    documented = documented_attributes()

    files = {}  # "template/file.csv": its path
    for template, (scope_kind, scope, options) in REQUESTS.items():
        report = report_request(
            requester=world.users["admin"],  # reads everything, gender figures included
            template=template,
            scope_kind=scope_kind,
            scope=scope,
            period_start=MARCH_2025[0],
            period_end=MARCH_2025[1],
            options={"hxl": True, **options},
        )
        report_generate(report_id=report.pk, worker="test")
        report.refresh_from_db()
        assert report.state == Report.State.DONE, report.error
        csv_files = report.files.filter(file_format="csv")
        assert csv_files.count() == len(report.tables)
        files |= {f"{template}/{file.name}": file.file.path for file in csv_files}

    rows, problems, hashtags = 0, [], {}
    # Offline: a look-up of any host name fails while libhxl reads and validates.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", no_network)
        for name, path in files.items():
            with hxl.data(path, hxl.InputOptions(allow_local=True)) as dataset:
                problems += hashtag_problems(name, dataset, documented)
                hashtags[name] = [column.display_tag for column in dataset.columns]
                rows += sum(1 for _row in dataset)
            problems += validation_errors(name, path)

    assert problems == [], "\n".join(problems)
    # Every table of every template was written and validated, with rows to validate.
    for table in (
        "persons_involved",
        "people_by_sex_and_age",
        "yearly_trend",
        "regional_instruments",
        "seizures_by_area",
        "flows",
        "cross_border_flows",
        "hotspots",
        "trace_results",
        "iafq_significant_seizures",
        "isacs_05_31_trace_requests",
        "sdg_16_4_2",
    ):
        assert any(name.endswith(f"/{table}.csv") for name in files), table
    assert rows > 0
    # Three people (a small cell): an empty number, and "< 5" in a column of its own.
    assert hashtags["mission_monthly/persons_involved.csv"][-2:] == [
        "#affected+ind+num",
        "#meta+suppressed",
    ]
    # The route's two transit countries, one per cell.
    trace_form = hashtags["isacs_trace/isacs_05_31_trace_requests.csv"]
    assert trace_form.count("#country+code+transit") == 2
    print(f"libhxl {hxl.__version__}: {len(files)} files, {rows} rows, 0 errors")


def test_an_hxl_csv_gives_codes_names_and_listed_values_columns_of_their_own():
    table = Table(
        name="example",
        title="Example",
        columns=["Origin", "Types of arm", "Transit countries", "Weapons"],
        hxl=["#country+code+origin", "#item+type", "#country+code+transit", "#item+weapons+num"],
        rows=[
            ["Central African Republic (CAF)", "Assault rifles, Shotguns", "CMR TCD", 3],
            ["Unknown", "Shotguns", "", 1],
        ],
        lists={1: ", ", 2: " "},
    )

    def read(content: bytes) -> list[list[str]]:
        return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))

    assert read(csv_bytes(table, hxl=True)) == [
        [
            "Origin",
            "Origin (ISO 3166-1 alpha-3)",
            "Types of arm 1",
            "Types of arm 2",
            "Transit countries 1",
            "Transit countries 1 (ISO 3166-1 alpha-3)",
            "Transit countries 2",
            "Transit countries 2 (ISO 3166-1 alpha-3)",
            "Weapons",
        ],
        [
            "#country+name+origin",
            "#country+code+origin",
            "#item+type",
            "#item+type",
            "#country+name+transit",
            "#country+code+transit",
            "#country+name+transit",
            "#country+code+transit",
            "#item+weapons+num",
        ],
        [
            "Central African Republic",
            "CAF",
            "Assault rifles",
            "Shotguns",
            "Cameroon",
            "CMR",
            "Chad",
            "TCD",
            "3",
        ],
        ["Unknown", "", "Shotguns", "", "", "", "", "", "1"],
    ]
    # Without HXL, the CSV is the table as the PDF and the workbook show it.
    assert read(csv_bytes(table, hxl=False)) == [
        table.columns,
        *[[str(cell) for cell in row] for row in table.rows],
    ]

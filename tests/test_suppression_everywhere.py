"""Small-cell suppression wherever people are counted (issue 20), beyond the gender section
(tests/test_reports_sg.py): the IAFQ's persons of significant seizures and criminal
justice, the dashboard's people involved, and the trends analysis's people by role, sex and
age group. One helper (incidents/suppression.py) prints them all; threshold 1 turns it off.

The IAFQ records are tests/test_reports_iafq.py's (verified only; a draft never counts).
Its people, as counted: on the significant seizure alpha_verified_L1, suspects: male adult
2 arrested, female adult 1 arrested, male child 1 unharmed (4 people, 3 arrested); on
bravo_verified_L4 (a loss, no significant seizure) a male adult arrested; on the
surrender alpha_verified_L5 a man, not arrested. Arrests: female
adult 1, male adult 3; 4 in all.

For the secondary rule, `small_and_large` replaces them with, on alpha_verified_L1, female
adult suspects 3 and male adult suspects 6, all arrested: 9 people, 9 arrested; the 3
prints "< 5", so the 6 must print "x" (else 9 − 6 = 3).
"""

import json
import re
from datetime import UTC, datetime
from html import unescape

import hxl
import pytest

from incidents import suppression
from incidents.choices import AgeGroup, PersonOutcome, PersonRole, Sex
from incidents.models import PersonsInvolved
from tests.analysis_layouts import persons, seizure
from tests.test_dashboard import _table, build_dashboard_world
from tests.test_reports import in_pdf, pdf_text
from tests.test_reports_iafq import CAF, build_iafq_world, generate, rows, table

SMALL = re.compile(r"^<\s?5$")


@pytest.fixture(autouse=True)
def _files_in_a_temporary_media_root(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SMALL_CELL_THRESHOLD = 5


def small_and_large(world):
    seized = world.records["alpha_verified_L1"]
    PersonsInvolved.objects.filter(
        incident__in=[
            seized,
            world.records["bravo_verified_L4"],
            world.records["alpha_verified_L5"],
        ]
    ).delete()
    for sex, count in ((Sex.FEMALE, 3), (Sex.MALE, 6)):
        PersonsInvolved.objects.create(
            incident=seized,
            role=PersonRole.SUSPECT,
            sex=sex,
            age_group=AgeGroup.ADULT,
            count=count,
            outcome=PersonOutcome.ARRESTED,
        )
    return seized.pk


def assert_no_total_reveals_a_cell(parts: list, total) -> None:
    """A printed total is never the sum of printed cells and exactly one suppressed one."""
    if not suppression.is_suppressed(total):
        assert sum(map(suppression.is_suppressed, parts)) != 1, (parts, total)


def assert_iafq_totals_hide_their_cells(report) -> None:
    seizures = {row[0]: row for row in rows(report, "iafq_significant_seizures")}
    for pk, seizure_row in seizures.items():
        mine = [row for row in rows(report, "iafq_significant_persons") if row[0] == pk]
        assert_no_total_reveals_a_cell([row[4] for row in mine], seizure_row[-2])
        assert_no_total_reveals_a_cell([row[5] for row in mine], seizure_row[-1])
    arrests = [row[-1] for row in rows(report, "iafq_criminal_justice")]
    assert_no_total_reveals_a_cell(arrests, rows(report, "iafq_criminal_justice_stages")[0][1])


# --- IAFQ ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_iafq_small_counts_of_people_print_below_five_in_every_table_and_the_pdf():
    world = build_iafq_world()
    seized = world.records["alpha_verified_L1"].pk
    report = generate(world.users["admin"], significant_seizure_min_arms=5)

    significant = {row[0]: row for row in rows(report, "iafq_significant_seizures")}
    assert significant[seized][-2:] == ["< 5", "< 5"]  # 4 people, 3 arrested
    assert significant[world.records["alpha_verified_L3"].pk][-2:] == [0, 0]
    assert rows(report, "iafq_significant_persons") == [
        [seized, "Suspect", "Female", "Adult", "< 5", "< 5"],
        [seized, "Suspect", "Male", "Adult", "< 5", "< 5"],
        [seized, "Suspect", "Male", "Child (under 18)", "< 5", 0],
    ]
    assert rows(report, "iafq_criminal_justice") == [
        [CAF, 2025, "Female", "Adult", "< 5"],
        [CAF, 2025, "Male", "Adult", "< 5"],
    ]
    # The stage's total (4) is a count of people too.
    assert rows(report, "iafq_criminal_justice_stages")[0][1] == "< 5"
    for name in ("iafq_significant_persons", "iafq_criminal_justice"):
        assert suppression.note() in table(report, name)["note"], name
    assert_iafq_totals_hide_their_cells(report)

    text = pdf_text(report)
    # pdftotext may close up the "< 5" of a narrow cell.
    assert re.search(r"Suspect\s+Male\s+Child \(under 18\)\s+<\s?5\s+0", text)
    assert re.search(r"Female\s+Adult\s+<\s?5\s*\n", text)
    assert not in_pdf(text, "Suspect", "Male", "Adult", "2", "2")
    assert not in_pdf(text, "Male", "Adult", "3")
    assert "Counts of people from 1 to 4" in text


@pytest.mark.django_db
def test_iafq_withholds_the_other_cell_so_that_a_total_cannot_reveal_the_small_one():
    world = build_iafq_world()
    seized = small_and_large(world)
    report = generate(world.users["admin"], significant_seizure_min_arms=5)

    assert rows(report, "iafq_significant_seizures")[0][-2:] == [9, 9]
    assert rows(report, "iafq_significant_persons") == [
        [seized, "Suspect", "Female", "Adult", "< 5", "< 5"],
        [seized, "Suspect", "Male", "Adult", "x", "x"],
    ]
    assert rows(report, "iafq_criminal_justice") == [
        [CAF, 2025, "Female", "Adult", "< 5"],
        [CAF, 2025, "Male", "Adult", "x"],
    ]
    assert rows(report, "iafq_criminal_justice_stages")[0][1] == 9
    assert_iafq_totals_hide_their_cells(report)

    text = pdf_text(report)
    assert re.search(r"Suspect\s+Female\s+Adult\s+<\s?5\s+<\s?5", text)
    assert in_pdf(text, "Suspect", "Male", "Adult", "x", "x")
    assert not in_pdf(text, "Suspect", "Male", "Adult", "6", "6")
    assert not in_pdf(text, "Female", "Adult", "3")


@pytest.mark.django_db
def test_iafq_threshold_one_prints_every_count(settings):
    world = build_iafq_world()
    seized = small_and_large(world)
    settings.SMALL_CELL_THRESHOLD = 1
    report = generate(world.users["admin"], significant_seizure_min_arms=5)
    assert rows(report, "iafq_significant_persons") == [
        [seized, "Suspect", "Female", "Adult", 3, 3],
        [seized, "Suspect", "Male", "Adult", 6, 6],
    ]
    assert rows(report, "iafq_criminal_justice") == [
        [CAF, 2025, "Female", "Adult", 3],
        [CAF, 2025, "Male", "Adult", 6],
    ]
    text = pdf_text(report)
    assert in_pdf(text, "Suspect", "Female", "Adult", "3", "3")
    assert not re.search(r"<\s?5", text) and not re.search(r"<\s?1", text)


@pytest.mark.django_db
def test_iafq_suppressed_hxl_csvs_pass_libhxl_validation():
    from tests.test_reports_hxl import documented_attributes, hashtag_problems, validation_errors

    world = build_iafq_world()
    seized = small_and_large(world)
    report = generate(world.users["admin"], significant_seizure_min_arms=5, hxl=True)
    documented, problems = documented_attributes(), []
    for file in report.files.filter(file_format="csv", name__startswith="iafq_"):
        with hxl.data(file.file.path, hxl.InputOptions(allow_local=True)) as dataset:
            problems += hashtag_problems(file.name, dataset, documented)
        problems += validation_errors(file.name, file.file.path)
    assert problems == [], "\n".join(problems)
    # A suppressed cell: empty in its numeric column, how in the #meta+suppressed beside it.
    with hxl.data(
        report.files.get(name="iafq_significant_persons.csv").file.path,
        hxl.InputOptions(allow_local=True),
    ) as dataset:
        tags = [column.display_tag for column in dataset.columns]
        assert tags.count("#meta+suppressed") == 2
        people = [row.values for row in dataset]
    assert [cell for cell in people[0] if cell] == [
        str(seized), "Suspect", "Female", "Adult", "< 5", "< 5"
    ]  # fmt: skip
    assert [cell for cell in people[1] if cell] == [
        str(seized), "Suspect", "Male", "Adult", "x", "x"
    ]  # fmt: skip


# --- the dashboard ---------------------------------------------------------------------


def _chart_data(page: str, chart_id: str) -> dict:
    script = page.split(f'id="chart-{chart_id}-data" type="application/json">', 1)[1]
    return json.loads(script.split("</script>", 1)[0])


def _page(client, world, query=""):
    client.force_login(world.users["wps_analyst"])
    response = client.get(f"/dashboard/{query}")
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.django_db
def test_the_dashboard_prints_small_counts_of_people_below_five(client):
    # tests/test_dashboard.py's world: the WPS analyst reads 7 people: men 4, women 3;
    # adults 6, a child 1; suspects 4 (men), victims 2 and a civilian 1 (women).
    world = build_dashboard_world()
    page = _page(client, world)

    def printed(chart_id):
        return {label: unescape(value) for label, value in _table(page, chart_id).items()}

    assert 'id="total-persons">7<' in page
    assert printed("persons-by-sex") == {"Female": "< 5", "Male": "< 5"}
    # 7 − 6 would give the child: the adults are withheld too.
    assert printed("persons-by-age") == {"Child (under 18)": "< 5", "Adult": "x"}
    assert printed("persons-by-role") == {"Suspect": "< 5", "Victim": "< 5", "Civilian": "< 5"}
    role_table = page.split('id="persons-by-role"', 1)[1].split("</section>", 1)[0]
    assert '<td class="number">4</td>' not in role_table
    assert "Counts of people from 1 to 4" in page
    # The charts draw no bar for a suppressed count: its number never reaches the page.
    assert _chart_data(page, "persons-by-sex")["datasets"][0]["data"] == [None, None]
    assert _chart_data(page, "persons-by-age")["datasets"][0]["data"] == [None, None]
    for dataset in _chart_data(page, "persons-by-role")["datasets"]:
        assert set(dataset["data"]) <= {None, 0}, dataset
    # Incidents and weapons are not people: as counted.
    assert 'id="total-incidents">9<' in page and 'id="total-weapons">12<' in page

    # One woman in Cameroon: the total itself is small.
    page = _page(client, world, "?country=CMR")
    assert 'id="total-persons">&lt; 5<' in page


@pytest.mark.django_db
def test_the_dashboard_with_threshold_one_prints_every_count(client, settings):
    settings.SMALL_CELL_THRESHOLD = 1
    world = build_dashboard_world()
    page = _page(client, world)
    assert _table(page, "persons-by-sex") == {"Female": "3", "Male": "4"}
    assert _table(page, "persons-by-age") == {"Child (under 18)": "1", "Adult": "6"}
    assert _chart_data(page, "persons-by-sex")["datasets"][0]["data"] == [3, 4]
    assert "&lt; " not in page.split('id="gender"', 1)[1]


# --- the trends analysis ---------------------------------------------------------------


@pytest.mark.django_db
def test_trends_print_small_counts_of_people_below_five_and_store_them_as_counted(settings):
    from geo.analyses.services import result_for_reader
    from tests.personas import build_world
    from tests.test_analyses import run_now

    world = build_world()
    first = seizure(18.0, 5.0, occurred_at=datetime(2025, 1, 10, tzinfo=UTC))
    persons(first, female_adult_victim=2, male_adult_suspect=7)
    run = run_now(world.users["wps_analyst"], "trends", {"period": "month"})

    people = result_for_reader(run, world.users["wps_analyst"])["gender"]
    assert [cell["count"] for cell in people["persons_by_role_sex_age"]] == [7, "< 5"]
    # The stored run keeps the counts: another threshold prints them otherwise.
    stored = run.result["gender"]["persons_by_role_sex_age"]
    assert [cell["count"] for cell in stored] == [7, 2]
    settings.SMALL_CELL_THRESHOLD = 1
    people = result_for_reader(run, world.users["wps_analyst"])["gender"]
    assert [cell["count"] for cell in people["persons_by_role_sex_age"]] == [7, 2]

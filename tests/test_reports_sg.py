"""The Secretary-General's input (issue 20) and small-cell suppression wherever people are
counted, on hand-counted records. Reports read verified records only: every record added
here is verified, except one draft that must never be counted.

On top of tests/report_fixtures.py (March 2025; MINUSCA's verified records: alpha L1–L5
and bravo L4, 6 incidents, 15 weapons; MONUSCO's: charlie L1 and L5, 2 incidents, 2 weapons):

| record            | context  | people involved                                         |
|-------------------|----------|---------------------------------------------------------|
| alpha_verified_L1 | conflict | suspect, female, adult: 3 (outcome unknown)             |
| alpha_verified_L3 | criminal | victim, male, adult: 7, killed                          |
| alpha_verified_L5 | domestic | civilian, female, adult: 6, injured;                    |
|                   |          | victim, female, child: 3, injured                       |

People by sex and age (MINUSCA): female child 3, female adult 9, male adult 7; total 19.
Suppressed: female child "< 5", female adult "x" (else 12 − 9 = 3), the child total
"< 5" (it is 3), the adult total "x" (else 19 − 16 = 3).

Years (MINUSCA, verified): 2023: 2 incidents, 10 weapons; 2024: 3 incidents, 8 weapons
(and a draft with 50 weapons, not counted); 2025: 6 incidents, 15 weapons.
"""

import re
from datetime import UTC, date, datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from incidents import suppression
from incidents.choices import (
    AgeGroup,
    Context,
    PersonOutcome,
    PersonRole,
    Sex,
    WeaponCategory,
    WorkflowState,
)
from incidents.models import Incident, PersonsInvolved, WeaponItem
from organisations.choices import Releasability
from reports.models import Report
from reports.services import report_generate, report_request
from tests.report_fixtures import MARCH_2025, build_report_world
from tests.test_reports import in_pdf, pdf_text, rows_by_first_column, table, workbook_rows

ROMAN_HEADING = re.compile(r"^\s*((?:I|II|III|IV|V|VI|VII|VIII|IX|X)\. .+?)\s*$", re.MULTILINE)


def generate(
    user, template="secretary_general", kind="mission", scope="MINUSCA", period=MARCH_2025
):
    report = report_request(
        requester=user,
        template=template,
        scope_kind=kind,
        scope=scope,
        period_start=period[0],
        period_end=period[1],
        options={},
    )
    report_generate(report_id=report.pk, worker="test")
    report.refresh_from_db()
    assert report.state == Report.State.DONE, report.error
    return report


def people(incident, role, sex, age, count, outcome=PersonOutcome.UNKNOWN):
    PersonsInvolved.objects.create(
        incident=incident, role=role, sex=sex, age_group=age, count=count, outcome=outcome
    )


def build_people_world():
    world = build_report_world()
    records = world.records
    Incident.objects.filter(pk=records["alpha_verified_L3"].pk).update(context=Context.CRIMINAL)
    Incident.objects.filter(pk=records["alpha_verified_L5"].pk).update(context=Context.DOMESTIC)
    people(
        records["alpha_verified_L3"],
        PersonRole.VICTIM,
        Sex.MALE,
        AgeGroup.ADULT,
        7,
        PersonOutcome.KILLED,
    )
    people(
        records["alpha_verified_L5"],
        PersonRole.CIVILIAN,
        Sex.FEMALE,
        AgeGroup.ADULT,
        6,
        PersonOutcome.INJURED,
    )
    people(
        records["alpha_verified_L5"],
        PersonRole.VICTIM,
        Sex.FEMALE,
        AgeGroup.CHILD,
        3,
        PersonOutcome.INJURED,
    )
    return world


def add_record(world, occurred_at, weapons, state=WorkflowState.VERIFIED):
    template = world.records["alpha_verified_L1"]
    incident = Incident.objects.create(
        kind=template.kind,
        context=Context.CRIMINAL,
        occurred_at=occurred_at,
        location=template.location,
        country="CAF",
        mission=template.mission,
        contingent=template.contingent,
        state=state,
        releasability=Releasability.MISSION_ONLY,
    )
    WeaponItem.objects.create(
        incident=incident, category=WeaponCategory.ASSAULT_RIFLE, quantity=weapons
    )


def headings(text: str) -> list[str]:
    return ROMAN_HEADING.findall(text)


# --- suppression, the rule itself ------------------------------------------------------


def test_a_cell_of_three_prints_below_five_and_no_total_reveals_it(settings):
    settings.SMALL_CELL_THRESHOLD = 5
    printed = suppression.suppress_grid([[3, 9, 0], [0, 7, 0], [0, 0, 0]])
    assert printed[0] == ["< 5", "x", 0, 12]
    assert printed[3] == ["< 5", "x", 0, 19]
    # No row or column with a printed total has exactly one unknown cell.
    for line in [*printed, *zip(*printed, strict=True)]:
        cells, total = list(line[:-1]), line[-1]
        if not suppression.is_suppressed(total):
            assert sum(map(suppression.is_suppressed, cells)) != 1, line


def test_the_threshold_is_a_setting_and_zeros_print_as_zeros(settings):
    settings.SMALL_CELL_THRESHOLD = 10
    # 27 − 20 would give the 7, and 20 is both the second row's total and its only cell:
    # all three go.
    assert suppression.suppress_grid([[7, 0], [0, 20]]) == [
        ["< 10", 0, "< 10"],
        [0, "x", "x"],
        ["< 10", "x", 27],
    ]
    assert suppression.suppress_column([["a", 0], ["b", 9], ["c", 10]], 1) == [
        ["a", 0],
        ["b", "< 10"],
        ["c", 10],
    ]


def test_a_threshold_out_of_range_is_refused_at_start():
    from tests.test_settings import PRODUCTION_ENVIRONMENT, run_manage

    for value in ("0", "five"):
        result = run_manage(
            "check", environment={**PRODUCTION_ENVIRONMENT, "SMALL_CELL_THRESHOLD": value}
        )
        assert result.returncode != 0, value
        assert "SMALL_CELL_THRESHOLD" in result.stderr, value


# --- the gender and WPS section --------------------------------------------------------


@pytest.mark.django_db
def test_the_gender_section_keeps_its_number_for_an_analyst_without_wps_and_marks_the_restriction():
    world = build_people_world()
    wps = generate(world.users["wps_analyst"])
    analyst = generate(world.users["mission_analyst"])
    wps_text, analyst_text = pdf_text(wps), pdf_text(analyst)

    assert headings(wps_text) == headings(analyst_text)
    assert [h.split(".")[0] for h in headings(analyst_text)][:9] == [
        "I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX",
    ]  # fmt: skip
    assert "VIII. Gender dimensions: women, peace and security and small arms" in analyst_text
    assert "restricted: WPS analysts only" in analyst_text
    assert "restricted: WPS analysts only" not in wps_text
    assert rows_by_first_column(analyst, "gender_restricted") == {
        "People involved by role, sex and age group": ["restricted: WPS analysts only"],
        "Incidents linked to gender-based violence": ["restricted: WPS analysts only"],
        "Weapons in incidents linked to gender-based violence": ["restricted: WPS analysts only"],
    }
    names = {each["name"] for each in analyst.tables}
    assert "persons_involved" not in names and "gbv_weapons_by_category" not in names
    # The WPS analyst's detailed rows, suppressed with the aggregated table: the suspect
    # (3) is small; the civilian (6) may print, as the female adults (9) it would be
    # subtracted from are withheld ("x") in the table by sex and age.
    assert sorted(table(wps, "persons_involved")["rows"]) == [
        ["Civilian", "Female", "Adult", 6],
        ["Suspect", "Female", "Adult", "< 5"],
        ["Victim", "Female", "Child (under 18)", "< 5"],
        ["Victim", "Male", "Adult", 7],
    ]


@pytest.mark.django_db
def test_a_salw_analyst_gets_the_aggregated_suppressed_figures_in_every_report():
    world = build_people_world()
    for template in ("secretary_general", "mission_monthly"):
        report = generate(world.users["mission_analyst"], template)
        assert rows_by_first_column(report, "people_by_sex_and_age") == {
            "Female": ["< 5", "x", 0, 12],
            "Male": [0, 7, 0, 7],
            "Sex unknown": [0, 0, 0, 0],
            "Total": ["< 5", "x", 0, 19],
        }, template
        text = pdf_text(report)
        # pdftotext may close up the "< 5" of a narrow cell.
        assert re.search(r"Female\s+<\s?5\s+x\s+0\s+12", text), template
        assert not in_pdf(text, "Female", "3", "9", "0", "12"), template
        assert "restricted: WPS analysts only" in text, template
    # The same suppressed figures in the workbook, the CSV and the API.
    assert workbook_rows(report, "people_by_sex_and_age")[1] == ["Female", "< 5", "x", 0, 12]
    csv_file = report.files.get(name="people_by_sex_and_age.csv")
    assert "Female,< 5,x,0,12" in csv_file.file.read().decode()


@pytest.mark.django_db
def test_the_api_returns_the_suppressed_figures(client):
    world = build_people_world()
    report = generate(world.users["mission_analyst"], "mission_monthly")
    client.force_login(world.users["mission_analyst"])
    detail = client.get(f"/api/v1/reports/{report.pk}").json()
    people_table = next(t for t in detail["tables"] if t["name"] == "people_by_sex_and_age")
    assert people_table["rows"][0] == ["Female", "< 5", "x", 0, 12]


@pytest.mark.django_db
def test_people_killed_and_injured_outside_conflict_by_context_and_sex():
    world = build_people_world()
    report = generate(world.users["wps_analyst"])
    assert rows_by_first_column(report, "armed_violence_outside_conflict") == {
        "Criminal / gang": [7, 0],
        "Domestic or intimate-partner violence": [0, 9],
    }
    assert rows_by_first_column(report, "people_killed_injured_by_sex") == {
        "Female": [0, 9, 9],
        "Male": [7, 0, 7],
        "Sex unknown": [0, 0, 0],
        "Total": [7, 9, 16],
    }
    # 6 MINUSCA incidents: L1 (armed conflict, as every fixture record) and 4 others in
    # armed conflict; L3 criminal, L5 domestic.
    assert rows_by_first_column(report, "incidents_outside_conflict") == {
        "Criminal / gang": [1, 4],
        "Domestic or intimate-partner violence": [1, 1],
    }
    # WPS and SALW together: the weapons of the one incident linked to gender-based violence.
    assert rows_by_first_column(report, "gbv_weapons_by_category") == {
        "Craft-produced weapons": [1, 3],
        "Assault rifles": [1, 2],
    }


# --- the Secretary-General's input: trends, regions, world, no data --------------------


@pytest.mark.django_db
def test_year_on_year_change_on_hand_counted_records():
    world = build_people_world()
    add_record(world, datetime(2023, 2, 1, tzinfo=UTC), 4)
    add_record(world, datetime(2023, 11, 30, tzinfo=UTC), 6)
    add_record(world, datetime(2024, 1, 1, tzinfo=UTC), 2)
    add_record(world, datetime(2024, 6, 15, tzinfo=UTC), 3)
    add_record(world, datetime(2024, 12, 31, 23, 59, tzinfo=UTC), 3)
    add_record(world, datetime(2024, 7, 1, tzinfo=UTC), 50, state=WorkflowState.DRAFT)
    report = generate(world.users["mission_analyst"], period=(date(2021, 1, 1), date(2025, 12, 31)))
    assert table(report, "yearly_trend")["rows"] == [
        ["2021", "no data", "no data", "no data", "no data", "no data"],
        ["2022", "no data", "no data", "no data", "no data", "no data"],
        ["2023", 2, "no data", 10, "no data", "no data"],
        ["2024", 3, 1, 8, -2, -20.0],
        ["2025", 6, 3, 15, 7, 87.5],
    ]
    assert in_pdf(pdf_text(report), "2025", "6", "3", "15", "7", "87.5")

    # A period ending before 31 December: the last year is not compared with a whole year.
    report = generate(world.users["mission_analyst"], period=(date(2024, 1, 1), date(2025, 6, 30)))
    rows = table(report, "yearly_trend")["rows"]
    assert [row[0] for row in rows] == ["2021", "2022", "2023", "2024", "2025"]
    assert rows[-1] == ["2025", 6, "partial year", 15, "partial year", "partial year"]


@pytest.mark.django_db
def test_the_world_input_compares_regional_organisations_and_instruments():
    world = build_people_world()
    report = generate(world.users["admin"], kind="world", scope="world")
    assert report.scope_label == "World"
    instruments = {row[1]: row[2:6] for row in table(report, "regional_instruments")["rows"]}
    # 8 verified incidents in March 2025: 6 in CAF (15 weapons), 2 in COD (2 weapons).
    assert instruments == {
        "kinshasa-convention": [11, 2, 8, 17],
        "nairobi-protocol": [15, 2, 8, 17],
        "ecowas-convention": [15, 0, "no data", "no data"],
        "sadc-firearms-protocol": [14, 1, 2, 2],
    }
    organisations = {row[1]: row[2:6] for row in table(report, "regional_organisations")["rows"]}
    assert organisations["test-caf"] == [1, 1, 6, 15]
    assert organisations["test-cod"] == [1, 1, 2, 2]
    text = pdf_text(report)
    assert in_pdf(text, "Kinshasa Convention")
    assert "IV. Regional organisations and instruments" in text
    # Sentences name the scope as a sentence would ("recorded in the world").
    assert in_pdf(text, "recorded in the world") and not in_pdf(text, "in World")

    # A mission analyst's world is what it may read: MINUSCA only.
    report = generate(world.users["mission_analyst"], kind="world", scope="world")
    instruments = {row[1]: row[2:6] for row in table(report, "regional_instruments")["rows"]}
    assert instruments["kinshasa-convention"] == [11, 1, 6, 15]


@pytest.mark.django_db
def test_the_world_scope_is_for_the_secretary_generals_input_and_for_analysts_only():
    world = build_report_world()
    with pytest.raises(ValidationError) as error:
        generate(world.users["mission_analyst"], "mission_monthly", kind="world", scope="world")
    assert "scope_kind" in error.value.message_dict
    with pytest.raises(PermissionDenied):
        generate(world.users["nobody"], kind="world", scope="world")
    # A regional analyst's world: the records it may read (CAF, released to regions).
    report = generate(world.users["regional_analyst"], kind="world", scope="world")
    assert report.scope_kind == "world"


@pytest.mark.django_db
def test_no_data_where_there_are_no_records():
    world = build_people_world()
    report = generate(world.users["mission_analyst"], period=(date(2019, 1, 1), date(2019, 12, 31)))
    assert table(report, "people_by_sex_and_age")["rows"] == []
    assert table(report, "people_by_sex_and_age")["note"] == "no data"
    assert table(report, "armed_violence_outside_conflict")["rows"] == []
    needs = rows_by_first_column(report, "capacity_needs")
    assert needs["Weapons still held by the unit that seized them (storage)"] == [
        "no data",
        "no data",
    ]
    assert {row[4] for row in table(report, "regional_instruments")["rows"]} == {"no data"}
    assert {tuple(row[1:]) for row in table(report, "yearly_trend")["rows"]} == {("no data",) * 5}
    text = pdf_text(report)
    assert "No needs recorded" in text
    assert "0.0" not in text and "100 %" not in text

"""Reports are official outputs: they count verified records only, whoever asks, and each
ends with the same methodology and sources section.

On top of the hand-counted records of tests/report_fixtures.py, the records not yet verified
carry weapons, ammunition and trace requests of their own, and a verified record with
weapons is withdrawn: were any of them counted, the figures would move.

| record               | state     | extra in this module                          |
|----------------------|-----------|-----------------------------------------------|
| alpha_draft_L1       | draft     | assault rifle ×7 (traced: SDN), 100 rounds    |
| alpha_submitted_L1   | submitted | rifle ×6                                      |
| alpha_returned_L1    | returned  | pistol ×4                                     |
| bravo_draft_L5       | draft     | light machine gun ×3                          |
| bravo_submitted_L5   | submitted | assault rifle ×2 (trace sent)                 |
| withdrawn_verified   | verified  | assault rifle ×9, withdrawn                   |

In MINUSCA in March 2025: 6 verified records counted, 5 left out as not yet verified (2 in
draft, 2 submitted, 1 returned); the withdrawn one neither counted nor left out.
"""

import re
import subprocess
from datetime import UTC, date, datetime

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from incidents.choices import (
    AmmunitionCategory,
    Context,
    IncidentKind,
    WeaponCategory,
    WorkflowState,
)
from incidents.models import AmmunitionItem, Incident, WeaponItem
from organisations.choices import Releasability
from organisations.models import Contingent
from reports.models import Report, ReportTemplate
from reports.services import report_generate, report_request
from tests.report_fixtures import MARCH_2025, _trace, build_report_world

MISSION_TEMPLATES = ["mission_monthly", "secretary_general", "sdg_16_4_2", "iafq", "isacs_trace"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


def build_world_with_unverified_weapons():
    world = build_report_world()
    records = world.records
    drafted = WeaponItem.objects.create(
        incident=records["alpha_draft_L1"], category=WeaponCategory.ASSAULT_RIFLE, quantity=7
    )
    _trace(drafted, diversion_country="SDN")
    AmmunitionItem.objects.create(
        incident=records["alpha_draft_L1"],
        category=AmmunitionCategory.SMALL_ARMS_CARTRIDGE,
        calibre="7.62x39mm",
        quantity=100,
    )
    WeaponItem.objects.create(
        incident=records["alpha_submitted_L1"], category=WeaponCategory.RIFLE_CARBINE, quantity=6
    )
    WeaponItem.objects.create(
        incident=records["alpha_returned_L1"],
        category=WeaponCategory.REVOLVER_PISTOL,
        quantity=4,
    )
    WeaponItem.objects.create(
        incident=records["bravo_draft_L5"],
        category=WeaponCategory.LIGHT_MACHINE_GUN,
        quantity=3,
    )
    submitted = WeaponItem.objects.create(
        incident=records["bravo_submitted_L5"],
        category=WeaponCategory.ASSAULT_RIFLE,
        quantity=2,
    )
    _trace(submitted, answered=False)
    alpha = records["alpha_verified_L1"].contingent
    withdrawn = Incident.objects.create(
        kind=IncidentKind.CHECKPOINT_SEIZURE,
        context=Context.ARMED_CONFLICT,
        occurred_at=datetime(2025, 3, 14, 9, 30, tzinfo=UTC),
        location=Point(18.583713, 4.367141, srid=4326),
        country="CAF",
        mission=alpha.mission,
        contingent=alpha,
        state=WorkflowState.VERIFIED,
        releasability=Releasability.PUBLIC_AGGREGATES,
        withdrawn_at=timezone.now(),
        withdrawn_reason="Entered twice",
    )
    WeaponItem.objects.create(incident=withdrawn, category=WeaponCategory.ASSAULT_RIFLE, quantity=9)
    records["withdrawn_verified"] = withdrawn
    return world


def ask(user, template, scope_kind="mission", scope="MINUSCA", period=MARCH_2025) -> Report:
    return report_request(
        requester=user,
        template=template,
        scope_kind=scope_kind,
        scope=scope,
        period_start=period[0],
        period_end=period[1],
    )


def generate(report: Report) -> Report:
    report_generate(report_id=report.pk, worker="test")
    report.refresh_from_db()
    assert report.state == Report.State.DONE, report.error
    return report


def pdf_text(report: Report) -> str:
    pdf = report.files.get(file_format="pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", pdf.file.path, "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.sub(r"\s+", " ", text)


def csv_files(report: Report) -> dict[str, bytes]:
    return {file.name: file.file.read() for file in report.files.filter(file_format="csv")}


def table(report: Report, name: str) -> dict:
    return next(t for t in report.tables if t["name"] == name)


def figures(report: Report) -> dict:
    return {row[0]: row[1] for row in table(report, "methodology_records")["rows"]}


@pytest.mark.django_db
@pytest.mark.parametrize("template", MISSION_TEMPLATES)
def test_the_administrator_and_the_missions_analysts_get_identical_figures(template):
    world = build_world_with_unverified_weapons()
    users = world.users
    # With gender figures: the administrator and the WPS analyst; without: the mission
    # analyst and the verifier (who reads submitted and returned records too).
    for first, second in (("admin", "wps_analyst"), ("mission_analyst", "verifier")):
        one = generate(ask(users[first], template))
        other = generate(ask(users[second], template))
        assert one.tables == other.tables, (first, second)
        assert csv_files(one) == csv_files(other), (first, second)
        assert one.incidents_read == other.incidents_read == 6
        assert figures(one)["Left out: not yet verified"] == 5


@pytest.mark.django_db
def test_records_not_yet_verified_are_not_counted_and_are_reported_as_left_out():
    world = build_world_with_unverified_weapons()
    report = generate(ask(world.users["admin"], "mission_monthly"))

    summary = {row[0]: row[1] for row in table(report, "summary")["rows"]}
    # The fixtures' hand count of MINUSCA's verified records: none of the weapons, rounds or
    # traces of the drafts, submitted, returned or withdrawn records.
    assert summary["Incidents"] == 6
    assert summary["Weapons (items)"] == 15
    assert summary["Rounds of ammunition"] == 0
    tracing = {row[0]: row[1] for row in table(report, "tracing")["rows"]}
    assert tracing["Sent in the period"] == 3
    counted = figures(report)
    assert counted["Verified records counted"] == 6
    assert counted["Left out: not yet verified"] == 5
    assert counted["Of which in draft"] == 2
    assert counted["Of which submitted"] == 2
    assert counted["Of which returned for correction"] == 1
    assert counted["Missions reporting"] == 1
    assert counted["Contingents reporting"] == 2
    assert counted["Contingents of the missions working in the scope"] == 2
    assert counted["Months with at least one record"] == 1
    assert counted["Months in the period"] == 1
    assert table(report, "methodology_reporting_units")["rows"] == [
        ["MINUSCA", "Alpha", "RWA", 5],
        ["MINUSCA", "Bravo", "BGD", 1],
    ]
    text = pdf_text(report)
    assert (
        "Verified records counted: 6. Left out because not yet verified: 5 records in the "
        "scope and period (in draft: 2; submitted: 2; returned for correction: 1)."
    ) in text
    assert (
        "Contingents reporting the records counted: 2 of the 2 contingents of the missions "
        "working in the scope (Alpha, MINUSCA; Bravo, MINUSCA). Missions reporting: 1 "
        "(MINUSCA)."
    ) in text


@pytest.mark.django_db
def test_the_sdg_indicator_counts_no_weapon_of_an_unverified_or_withdrawn_record():
    world = build_world_with_unverified_weapons()
    report = generate(ask(world.users["admin"], "sdg_16_4_2", "country", "CAF"))
    # As in tests/test_reports.py: 10 arms of verified records, 7 with a trace, 3 traced.
    assert [row[2:7] for row in table(report, "sdg_16_4_2")["rows"]] == [[2025, 10, 7, 3, 30.0]]


@pytest.mark.django_db
def test_a_regional_analyst_is_told_only_of_records_released_to_regional_organisations():
    world = build_world_with_unverified_weapons()
    report = generate(
        ask(world.users["regional_analyst"], "regional_overview", "region", "test-caf")
    )
    # Of the five records of CAF not yet verified, only Bravo's two are released to
    # regional organisations (level 5); Alpha's three are mission only.
    counted = figures(report)
    assert counted["Left out: not yet verified"] == 2
    assert counted["Of which in draft"] == counted["Of which submitted"] == 1


@pytest.mark.django_db
def test_every_templates_pdf_has_its_methodology_and_sources_section():
    world = build_world_with_unverified_weapons()
    admin = world.users["admin"]
    reports = [ask(admin, template) for template in MISSION_TEMPLATES]
    reports.append(ask(admin, "regional_overview", "region", "test-caf"))
    assert {report.template for report in reports} == set(ReportTemplate.values)
    for report in reports:
        text = pdf_text(generate(report))
        assert "Official output: only verified records are counted, whoever asks" in text
        section = text.split("Methodology and sources")[-1]
        assert "These are mission records" in section
        assert "They are not national statistics" in section
        assert "Only verified records are counted, whoever asks for the report" in section
        assert "Left out because not yet verified: 5 records" in section
        assert "Definitions." in section
        assert "Reliability and credibility of the sources" in section
        assert "Contingents reporting" in section
        assert "Coverage: records in 1 of the 1 calendar months of the period." in section
        assert re.search(r"Data as of \d{4}-\d\d-\d\d \d\d:\d\d UTC", section)
        assert re.search(r"report generated at \d{4}-\d\d-\d\d \d\d:\d\d UTC", section)


@pytest.mark.django_db
def test_with_no_record_in_the_period_the_section_says_no_data():
    world = build_world_with_unverified_weapons()
    report = generate(
        ask(world.users["admin"], "sdg_16_4_2", period=(date(2020, 1, 1), date(2020, 12, 31)))
    )
    counted = figures(report)
    assert counted["Verified records counted"] == 0
    assert counted["Left out: not yet verified"] == 0
    assert counted["Missions reporting"] == "no data"
    assert counted["Contingents reporting"] == "no data"
    assert counted["Months with at least one record"] == "no data"
    assert counted["Months in the period"] == 12
    assert counted["Data as of (UTC)"] == "no data"
    assert table(report, "methodology_sources")["rows"] == []
    assert table(report, "methodology_reporting_units")["rows"] == []
    section = pdf_text(report).split("Methodology and sources")[-1]
    assert "Coverage: no data" in section
    assert "Data as of: no data (no verified record in the period)" in section
    assert "No data: no verified record in the period." in section
    assert "%" not in section.split("Reliability and credibility of the sources")[1].split(
        "Contingents reporting"
    )[0].replace("Share of records (%)", "")


@pytest.mark.django_db
def test_shares_of_no_weapons_are_no_data_in_the_secretary_generals_input():
    world = build_world_with_unverified_weapons()
    report = generate(
        ask(
            world.users["admin"],
            "secretary_general",
            period=(date(2020, 1, 1), date(2020, 12, 31)),
        )
    )
    needs = {row[0]: row[1:] for row in table(report, "capacity_needs")["rows"]}
    held = needs["Weapons still held by the unit that seized them (storage)"]
    # No weapons: neither a count nor a share, "no data" (tests/test_reports_sg.py).
    assert held == ["no data", "no data"]


@pytest.mark.django_db
def test_a_draft_submitted_changes_no_figure_but_the_count_left_out_so_the_report_is_stale():
    from reports.services import report_is_stale

    world = build_world_with_unverified_weapons()
    report = generate(ask(world.users["mission_analyst"], "sdg_16_4_2"))
    assert not report_is_stale(report)
    Incident.objects.filter(pk=world.records["alpha_draft_L1"].pk).update(
        state=WorkflowState.SUBMITTED
    )
    assert report_is_stale(report)
    again = generate(ask(world.users["mission_analyst"], "sdg_16_4_2"))
    assert again.pk != report.pk
    assert table(again, "sdg_16_4_2") == table(report, "sdg_16_4_2")
    assert figures(again)["Of which in draft"] == 1
    assert figures(again)["Of which submitted"] == 3


@pytest.mark.django_db
def test_a_contingent_of_another_mission_reporting_in_the_scope_is_counted_among_its_contingents():
    world = build_report_world()
    template = world.records["alpha_verified_L1"]
    visitor = next(
        contingent
        for contingent in Contingent.objects.exclude(mission=template.mission)
        if contingent.mission.acronym == "MONUSCO"
    )
    Incident.objects.create(
        kind=template.kind,
        context=template.context,
        occurred_at=template.occurred_at,
        location=template.location,
        country="CAF",
        mission=visitor.mission,
        contingent=visitor,
        state=template.state,
        releasability=template.releasability,
    )

    counted = figures(generate(ask(world.users["admin"], "sdg_16_4_2", "country", "CAF")))

    assert counted["Missions reporting"] == 2
    assert (
        counted["Contingents reporting"]
        <= counted["Contingents of the missions working in the scope"]
    )


@pytest.mark.django_db
def test_one_incident_is_counted_in_the_singular():
    world = build_report_world()
    template = world.records["alpha_verified_L1"]
    Incident.objects.create(
        kind=template.kind,
        context=template.context,
        occurred_at=template.occurred_at,
        location=Point(14.5, 10.6, srid=4326),
        country="CMR",
        mission=template.mission,
        contingent=template.contingent,
        state=template.state,
        releasability=template.releasability,
    )

    text = pdf_text(generate(ask(world.users["admin"], "secretary_general", "country", "CMR")))

    assert "1 incident with 0 weapons and 0 rounds of ammunition was recorded in" in " ".join(
        text.split()
    )


@pytest.mark.django_db
def test_flows_list_established_origins_apart_from_where_weapons_were_made():
    """Issue 20: the country of manufacture is not a movement. The flows table lists the
    illicit origins established (by trace or otherwise) with their kind; where every weapon
    was made is listed in a table of its own."""
    from django.db.models import Sum

    from reports.documents.sections import _origin_kind, country_label, country_names

    world = build_report_world()
    # Made in China, its origin not established: where it was made, not whence it came.
    WeaponItem.objects.create(
        incident=world.records["alpha_verified_L1"],
        category="assault_rifle",
        country_of_manufacture="CHN",
        quantity=45,
    )
    report = generate(ask(world.users["admin"], "mission_monthly"))
    counted = WeaponItem.objects.filter(incident__in=Incident.objects.official()).filter(
        incident__mission__acronym="MINUSCA",
        incident__occurred_at__date__range=MARCH_2025,
        recovery="recovered",
    )

    names = country_names(
        {
            code
            for pair in counted.values_list("origin_country", "country_of_manufacture", "seized_in")
            for code in pair
        }
    )
    established = (
        counted.exclude(origin_source="")
        .values_list("origin_country", "origin_kind", "seized_in")
        .annotate(items=Sum("quantity"))
    )
    made = counted.values_list("country_of_manufacture", "seized_in").annotate(
        items=Sum("quantity")
    )

    flows = sorted(table(report, "flows")["rows"])
    assert flows == sorted(
        [country_label(origin, names), _origin_kind(kind), country_label(dest, names), items]
        for origin, kind, dest, items in established
    )
    assert flows
    assert sorted(table(report, "made_in")["rows"]) == sorted(
        [country_label(made_in, names), country_label(dest, names), items]
        for made_in, dest, items in made
    )
    # The Chinese rifles are where made, never an origin.
    assert not any("(CHN)" in row[0] for row in flows)
    text = " ".join(pdf_text(report).split())
    assert "Illicit origins established: country of diversion" in text
    assert "country of manufacture (not a movement)" in text

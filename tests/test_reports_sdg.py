"""SDG 16.4.2 per the UNODC metadata: recovered arms only; the numerator counts the arms
whose illicit origin was established whatever the method, each weapon once; by country
and year, type of arm and kind of origin; every published figure stored with its as-of date
and revision; low-n rows flagged.

Hand-counted records of MINUSCA (tests/personas.py; its own records carry no weapons),
all verified unless said otherwise:

| record (kind, country, date)      | weapons (quantity)                                       |
|-----------------------------------|----------------------------------------------------------|
| seizure_2024 (checkpoint, CAF,    | W1 assault rifle ×1: trace established, no origin record |
| 2024-06)                          | W2 assault rifle ×1: partially traced (diversion), and a |
|                                   |   follow-up establishing it again (chained traces)       |
|                                   | W3 pistol ×3, craft: origin by investigation, illicit    |
|                                   |   manufacture                                            |
|                                   | W4 rifle ×2: nothing                                     |
|                                   | W5 assault rifle ×4, observed only: origin by authority  |
| cache_2024 (cache, CAF, 2024-09)  | W6 light machine gun ×1: origin by authority, State stocks |
|                                   | W7 assault rifle ×1: trace established and an origin by  |
|                                   |   trace, State stocks                                    |
|                                   | W8 rifle ×1: trace sent, unanswered                      |
| theft_2024 (loss, CAF, 2024-10)   | W9 assault rifle ×5: origin (arms leaving control)       |
| draft_2024 (in draft, CAF)        | W10 assault rifle ×2: origin (not verified)              |
| surrender_2025 (CAF, 2025-02)     | W11 pistol ×1: origin by marking, civilian holdings      |
|                                   | W12 shotgun ×1: nothing                                  |
|                                   | W13 craft-produced ×2: origin by authority, illicit      |
|                                   |   manufacture                                            |
| seizure_chad_2025 (TCD, 2025-05)  | W14 rifle ×1: nothing                                    |

Hand counts, 2024-01-01 to 2025-12-31:
- CAF 2024: 10 arms (W1 1, W2 1, W3 3, W4 2, W6 1, W7 1, W8 1), 4 with a trace requested
  (W1, W2, W7, W8), 7 established (W1, W2, W3, W6, W7): 70.0 %;
- CAF 2025: 4 arms (W11, W12, W13 ×2), 3 established: low n (below 10);
- TCD 2025: 1 arm, 0 established: low n.
"""

import re
import subprocess
from datetime import UTC, date, datetime

import pytest
from django.contrib.gis.geos import Point
from django.utils import timezone

from incidents.choices import (
    Context,
    IncidentKind,
    ManufactureMode,
    OriginKind,
    OriginMethod,
    Recovery,
    TraceStatus,
    WeaponCategory,
    WorkflowState,
)
from incidents.models import Incident, TraceRequest, WeaponItem
from incidents.services import illicit_origin_record, trace_request_answer
from organisations.choices import Releasability
from organisations.models import Contingent
from reports.models import IndicatorFigure, Report
from reports.services import report_generate, report_request
from tests.personas import build_world

PERIOD = (date(2024, 1, 1), date(2025, 12, 31))
CAF, TCD = "Central African Republic", "Chad"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.SDG_LOW_N = 10


def _incident(name, kind, when, country="CAF", state=WorkflowState.VERIFIED):
    alpha = Contingent.objects.get(name="Alpha")
    point = Point(18.58, 4.37, srid=4326) if country == "CAF" else Point(15.04, 12.13, srid=4326)
    incident = Incident.objects.create(
        kind=kind,
        context=Context.ARMED_CONFLICT,
        occurred_at=datetime(*when, 10, 0, tzinfo=UTC),
        location=point,
        country=country,
        mission=alpha.mission,
        contingent=alpha,
        state=state,
        releasability=Releasability.PUBLIC_AGGREGATES,
    )
    assert Incident.objects.get(pk=incident.pk).country == country, name
    return incident


def _weapon(incident, category, quantity=1, **fields) -> WeaponItem:
    return WeaponItem.objects.create(
        incident=incident, category=category, quantity=quantity, **fields
    )


def _trace(weapon, *, established, status=None, follows=None, answered=True) -> TraceRequest:
    return TraceRequest.objects.create(
        weapon=weapon,
        follows=follows,
        addressee="Ministry of Defence",
        sent_on=date(2024, 12, 1),
        answered_on=date(2025, 1, 15) if answered else None,
        status=status or (TraceStatus.ANSWERED if established else TraceStatus.SENT),
        diversion_established=established,
        diversion_country="SDN" if established else "",
    )


def _origin(by, weapon, method, kind, trace=None):
    return illicit_origin_record(
        weapon=weapon,
        by=by,
        method=method,
        kind=kind,
        trace=trace,
        established_by="National commission on small arms",
        established_on=date(2025, 6, 1),
    )


def build_sdg_world():
    world = build_world()
    verifier = world.users["verifier"]  # MINUSCA's: records traces and origins
    w = {}
    seizure = _incident("seizure_2024", IncidentKind.CHECKPOINT_SEIZURE, (2024, 6, 10))
    w[1] = _weapon(seizure, WeaponCategory.ASSAULT_RIFLE, serial_number="A-1")
    _trace(w[1], established=True)
    w[2] = _weapon(seizure, WeaponCategory.ASSAULT_RIFLE, serial_number="A-2")
    first = _trace(w[2], established=True, status=TraceStatus.PARTIALLY_TRACED)
    _trace(w[2], established=True, follows=first)
    w[3] = _weapon(
        seizure, WeaponCategory.REVOLVER_PISTOL, 3, manufacture_mode=ManufactureMode.CRAFT
    )
    _origin(verifier, w[3], OriginMethod.INVESTIGATION, OriginKind.ILLICIT_MANUFACTURE)
    w[4] = _weapon(seizure, WeaponCategory.RIFLE_CARBINE, 2)
    w[5] = _weapon(seizure, WeaponCategory.ASSAULT_RIFLE, 4, recovery=Recovery.OBSERVED)
    _origin(verifier, w[5], OriginMethod.AUTHORITY_FINDING, OriginKind.STATE_STOCKS)

    cache = _incident("cache_2024", IncidentKind.CACHE_DISCOVERY, (2024, 9, 1))
    w[6] = _weapon(cache, WeaponCategory.LIGHT_MACHINE_GUN)
    _origin(verifier, w[6], OriginMethod.AUTHORITY_FINDING, OriginKind.STATE_STOCKS)
    w[7] = _weapon(cache, WeaponCategory.ASSAULT_RIFLE, serial_number="A-7")
    trace = _trace(w[7], established=True)
    _origin(verifier, w[7], OriginMethod.TRACE, OriginKind.STATE_STOCKS, trace=trace)
    w[8] = _weapon(cache, WeaponCategory.RIFLE_CARBINE, serial_number="R-8")
    world.pending_trace = _trace(w[8], established=False, answered=False)

    theft = _incident("theft_2024", IncidentKind.LOSS_OR_THEFT, (2024, 10, 1))
    w[9] = _weapon(theft, WeaponCategory.ASSAULT_RIFLE, 5)
    _origin(verifier, w[9], OriginMethod.AUTHORITY_FINDING, OriginKind.STATE_STOCKS)
    draft = _incident(
        "draft_2024", IncidentKind.CHECKPOINT_SEIZURE, (2024, 11, 1), state=WorkflowState.DRAFT
    )
    w[10] = _weapon(draft, WeaponCategory.ASSAULT_RIFLE, 2)
    _origin(verifier, w[10], OriginMethod.AUTHORITY_FINDING, OriginKind.STATE_STOCKS)

    surrender = _incident("surrender_2025", IncidentKind.VOLUNTARY_SURRENDER, (2025, 2, 1))
    w[11] = _weapon(surrender, WeaponCategory.REVOLVER_PISTOL)
    _origin(verifier, w[11], OriginMethod.MARKING_EVIDENCE, OriginKind.CIVILIAN_HOLDINGS)
    w[12] = _weapon(surrender, WeaponCategory.SHOTGUN)
    w[13] = _weapon(
        surrender, WeaponCategory.CRAFT_PRODUCED, 2, manufacture_mode=ManufactureMode.CRAFT
    )
    _origin(verifier, w[13], OriginMethod.AUTHORITY_FINDING, OriginKind.ILLICIT_MANUFACTURE)

    chad = _incident(
        "seizure_chad_2025", IncidentKind.CHECKPOINT_SEIZURE, (2025, 5, 1), country="TCD"
    )
    w[14] = _weapon(chad, WeaponCategory.RIFLE_CARBINE)
    world.weapons = w
    return world


def ask(user, period=PERIOD, **options) -> Report:
    return report_request(
        requester=user,
        template="sdg_16_4_2",
        scope_kind="mission",
        scope="MINUSCA",
        period_start=period[0],
        period_end=period[1],
        options=options,
    )


def generate(report: Report) -> Report:
    report_generate(report_id=report.pk, worker="test")
    report.refresh_from_db()
    assert report.state == Report.State.DONE, report.error
    return report


def table(report: Report, name: str) -> list[list]:
    return next(t for t in report.tables if t["name"] == name)["rows"]


def pdf_text(report: Report) -> str:
    pdf = report.files.get(file_format="pdf")
    text = subprocess.run(
        ["pdftotext", "-layout", pdf.file.path, "-"], capture_output=True, text=True, check=True
    ).stdout
    return re.sub(r"\s+", " ", text)


@pytest.mark.django_db
def test_the_indicator_counts_established_origins_whatever_the_method_each_weapon_once():
    world = build_sdg_world()
    report = generate(ask(world.users["admin"]))
    today = f"{timezone.now():%Y-%m-%d}"
    low_n = "low n (fewer than 10 arms)"

    # country, code, year, arms, trace requested, established, %, revision, published, note
    assert table(report, "sdg_16_4_2") == [
        [CAF, "CAF", 2024, 10, 4, 7, 70.0, 1, today, ""],
        [CAF, "CAF", 2025, 4, 0, 3, 75.0, 1, today, low_n],
        [TCD, "TCD", 2025, 1, 0, 0, 0.0, 1, today, low_n],
    ]
    assert table(report, "sdg_16_4_2_by_type") == [
        [CAF, "CAF", 2024, "Assault rifles", 3, 3, 100.0, low_n],
        [CAF, "CAF", 2024, "Revolvers and self-loading pistols", 3, 3, 100.0, low_n],
        [CAF, "CAF", 2024, "Rifles and carbines", 3, 0, 0.0, low_n],
        [CAF, "CAF", 2024, "Light machine guns", 1, 1, 100.0, low_n],
        [CAF, "CAF", 2025, "Craft-produced weapons", 2, 2, 100.0, low_n],
        [CAF, "CAF", 2025, "Revolvers and self-loading pistols", 1, 1, 100.0, low_n],
        [CAF, "CAF", 2025, "Shotguns", 1, 0, 0.0, low_n],
        [TCD, "TCD", 2025, "Rifles and carbines", 1, 0, 0.0, low_n],
    ]
    assert table(report, "sdg_16_4_2_by_origin") == [
        [CAF, "CAF", 2024, "Illicit manufacture", "Investigation", 3],
        [CAF, "CAF", 2024, "Diversion from State stocks", "Finding of a competent authority", 1],
        [CAF, "CAF", 2024, "Diversion from State stocks", "Trace", 1],
        [CAF, "CAF", 2024, "Diversion established by trace, kind not stated", "Trace", 2],
        [CAF, "CAF", 2025, "Diversion from civilian holdings", "Marking evidence", 1],
        [CAF, "CAF", 2025, "Illicit manufacture", "Finding of a competent authority", 2],
    ]
    text = pdf_text(report)
    assert "Over the whole table: 10 of 15 arms (66.7 %)." in text
    assert f"Figures as of {today}" in text
    # Every stored figure is revision 1, as of this report.
    stored = IndicatorFigure.objects.order_by("country", "year")
    assert [(f.country, f.year, f.numerator, f.denominator, f.revision) for f in stored] == [
        ("CAF", 2024, 7, 10, 1),
        ("CAF", 2025, 3, 4, 1),
        ("TCD", 2025, 0, 1, 1),
    ]
    assert {f.report_id for f in stored} == {report.pk}
    assert {(f.span_start, f.span_end) for f in stored} == {
        (date(2024, 1, 1), date(2024, 12, 31)),
        (date(2025, 1, 1), date(2025, 12, 31)),
    }


@pytest.mark.django_db
def test_a_low_n_row_never_prints_a_bare_zero_and_an_empty_table_says_no_data(settings):
    world = build_sdg_world()
    text = pdf_text(generate(ask(world.users["admin"])))
    # Chad's one rifle: its proportion stands with the flag on its line.
    assert re.search(r"Chad TCD 2025 1 0 0 0\.0 1 \S+ low n \(fewer than 10 arms\)", text)

    empty = generate(ask(world.users["admin"], period=(date(2020, 1, 1), date(2020, 12, 31))))
    assert table(empty, "sdg_16_4_2") == []
    text = pdf_text(empty)
    assert "Over the whole table: no data (no recovered arms in the period)." in text
    assert "0.0" not in text

    settings.SDG_LOW_N = 2
    rows = table(generate(ask(world.users["mission_analyst"])), "sdg_16_4_2")
    assert [row[-1] for row in rows] == ["", "", "low n (fewer than 2 arms)"]


@pytest.mark.django_db
def test_a_late_answer_revises_a_past_year_and_the_report_says_from_what():
    world = build_sdg_world()
    admin = world.users["admin"]
    first = generate(ask(admin))
    # Published on 1 March 2026, say.
    IndicatorFigure.objects.update(as_of=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    # Asked again on unchanged records: the stored report, and no new revision.
    assert ask(admin).reused

    # The late answer to W8's trace establishes its point of diversion: CAF 2024 moves.
    trace_request_answer(
        trace=world.pending_trace,
        by=world.users["verifier"],
        answered_on=timezone.localdate(),
        diversion_established=True,
        diversion_country="SDN",
    )
    second = ask(admin)
    assert not second.reused
    second = generate(second)
    rows = {(row[1], row[2]): row[3:] for row in table(second, "sdg_16_4_2")}
    today = f"{timezone.now():%Y-%m-%d}"
    assert rows[("CAF", 2024)] == [
        10,
        4,
        8,
        80.0,
        2,
        today,
        "revised from 7 of 10 on 2026-03-01",
    ]
    # Unchanged figures keep their revision and its date.
    assert rows[("CAF", 2025)][4:6] == [1, "2026-03-01"]
    assert rows[("TCD", 2025)][4:6] == [1, "2026-03-01"]
    text = pdf_text(second)
    assert (
        "Central African Republic, 2024: 8 of 10 (revision 2), revised from 7 of 10 on 2026-03-01."
    ) in text
    revisions = IndicatorFigure.objects.filter(country="CAF", year=2024).order_by("revision")
    assert [(f.numerator, f.revision, f.report_id) for f in revisions] == [
        (7, 1, first.pk),
        (8, 2, second.pk),
    ]
    assert IndicatorFigure.objects.count() == 4

    # Generated again (a retried task): the same revision, not a third one.
    Report.objects.filter(pk=second.pk).update(state=Report.State.QUEUED)
    generate(second)
    assert IndicatorFigure.objects.count() == 4
    assert table(Report.objects.get(pk=second.pk), "sdg_16_4_2") == table(second, "sdg_16_4_2")

    # A report that failed after storing its figures published nothing: the next one's
    # revision replaces its revision, and it is revised from what readers saw.
    Report.objects.filter(pk=second.pk).update(state=Report.State.FAILED)
    third = generate(ask(admin))
    assert IndicatorFigure.objects.count() == 4
    assert IndicatorFigure.objects.get(country="CAF", year=2024, revision=2).report_id == third.pk
    rows = {(row[1], row[2]): row[3:] for row in table(third, "sdg_16_4_2")}
    assert rows[("CAF", 2024)][-1] == "revised from 7 of 10 on 2026-03-01"


@pytest.mark.django_db
def test_an_origin_recorded_late_makes_the_stored_report_stale_and_revises_the_year():
    world = build_sdg_world()
    admin = world.users["admin"]
    generate(ask(admin))
    assert ask(admin).reused
    # The shotgun surrendered in 2025 (W12): a competent authority finds it was imported
    # illicitly.
    _origin(
        world.users["verifier"],
        world.weapons[12],
        OriginMethod.AUTHORITY_FINDING,
        OriginKind.ILLICIT_IMPORT,
    )
    report = ask(admin)
    assert not report.reused
    rows = {(row[1], row[2]): row for row in table(generate(report), "sdg_16_4_2")}
    assert rows[("CAF", 2025)][3:8] == [4, 0, 4, 100.0, 2]
    assert "revised from 3 of 4 on" in rows[("CAF", 2025)][-1]
    assert rows[("CAF", 2024)][7] == 1
    # And an item found to have been recovered after all (observed → recovered).
    generate(ask(admin))
    WeaponItem.objects.filter(pk=world.weapons[5].pk).update(recovery=Recovery.RECOVERED)
    assert not ask(admin).reused


@pytest.mark.django_db
def test_readers_of_the_whole_mission_share_the_published_series_others_keep_their_own():
    world = build_sdg_world()
    users = world.users
    generate(ask(users["admin"]))
    generate(ask(users["mission_analyst"]))
    # The administrator and the mission's analyst read the same records: one series.
    assert IndicatorFigure.objects.count() == 3
    assert set(IndicatorFigure.objects.values_list("audience", flat=True)) == {"whole"}
    # A report over part of a year is a series of its own (its figures cover that part).
    generate(ask(users["admin"], period=(date(2024, 1, 1), date(2024, 6, 30))))
    partial = IndicatorFigure.objects.get(span_end=date(2024, 6, 30))
    assert (partial.numerator, partial.denominator, partial.revision) == (5, 7, 1)
    assert IndicatorFigure.objects.count() == 4


@pytest.mark.django_db
def test_the_sdg_hxl_files_pass_libhxl_validation():
    import hxl

    from tests.test_reports_hxl import documented_attributes, hashtag_problems, validation_errors

    world = build_sdg_world()
    report = generate(ask(world.users["admin"], hxl=True))
    problems, names = [], set()
    for file in report.files.filter(file_format="csv"):
        if file.name.startswith("methodology"):
            continue  # the shared section's files: tests/test_reports_hxl.py
        names.add(file.name)
        with hxl.data(file.file.path, hxl.InputOptions(allow_local=True)) as dataset:
            problems += hashtag_problems(file.name, dataset, documented_attributes())
        problems += validation_errors(file.name, file.file.path)
    assert names == {"sdg_16_4_2.csv", "sdg_16_4_2_by_type.csv", "sdg_16_4_2_by_origin.csv"}
    assert problems == []


@pytest.mark.django_db
def test_the_published_figures_are_listed_read_only_in_the_admin(client):
    world = build_sdg_world()
    generate(ask(world.users["admin"]))
    client.force_login(world.users["admin"])
    page = client.get("/admin/reports/indicatorfigure/")
    assert page.status_code == 200
    assert page.content.decode().count("whole") == 3
    figure = IndicatorFigure.objects.get(country="TCD")
    assert client.get(f"/admin/reports/indicatorfigure/{figure.pk}/change/").status_code == 200
    assert client.get("/admin/reports/indicatorfigure/add/").status_code == 403

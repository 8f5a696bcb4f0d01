"""The reports API and pages: bad requests get 400 naming the field and write nothing; an
identical request on unchanged records returns the stored report; files are downloads,
only for those who may read the report; the monthly schedule asks for each mission's
report of the month before."""

from datetime import date

import pytest
from django.conf import settings as django_settings

from incidents.choices import WeaponCategory
from incidents.models import WeaponItem
from organisations.models import AuditEvent
from reports.models import Report
from reports.services import monthly_reports_request, report_generate
from tests.report_fixtures import build_report_world

pytestmark = pytest.mark.django_db

GOOD = {
    "template": "mission_monthly",
    "scope_kind": "mission",
    "scope": "MINUSCA",
    "period_start": "2025-03-01",
    "period_end": "2025-03-31",
}


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)


@pytest.fixture
def report_world():
    return build_report_world()


def signed_in(client, report_world, name):
    client.force_login(report_world.users[name])
    return client


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"period_start": "2025-04-01", "period_end": "2025-03-01"}, "period_end"),
        ({"period_start": "2025-13-01"}, "period_start"),
        ({"period_start": "9999-12-30", "period_end": "9999-12-31"}, "period_start"),
        ({"period_start": "2015-01-01", "period_end": "2025-12-31"}, "period_end"),  # > 10 y
        ({"scope": "99999999999999999999999"}, "scope"),
        ({"scope_kind": "galaxy"}, "scope_kind"),
        ({"scope": "NOSUCH"}, "scope"),
        ({"scope": "MONUSCO"}, "scope"),  # a mission the analyst does not work on
        ({"template": "regional_overview"}, "scope_kind"),  # a region's template
        ({"template": "annual"}, "template"),
        ({"options": {"colour": "red"}}, "options.colour"),
        ({"options": {"hxl": "yes"}}, "options.hxl"),
        ({"scope_kind": "country", "scope": "XYZ", "template": "iafq"}, "scope"),
        ({"scope_kind": "country", "scope": "COD", "template": "iafq"}, "scope"),
        ({"scope_kind": "region", "scope": "test-caf", "template": "sdg_16_4_2"}, "scope"),
    ],
)
def test_bad_parameters_get_400_naming_the_field_and_write_nothing(
    client, report_world, change, field
):
    response = signed_in(client, report_world, "mission_analyst").post(
        "/api/v1/reports", {**GOOD, **change}, content_type="application/json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert not Report.objects.exists()


def test_the_html_form_names_the_field_too_and_writes_nothing(client, report_world):
    response = signed_in(client, report_world, "mission_analyst").post(
        "/reports/", {**GOOD, "period_start": "2025-04-01", "period_end": "2025-03-01"}
    )

    assert response.status_code == 400
    assert "The period ends before it starts." in response.content.decode()
    assert not Report.objects.exists()


def test_people_who_may_not_analyse_may_not_ask_for_reports(client, report_world):
    for name in ("reporter_alpha", "nobody"):
        response = signed_in(client, report_world, name).post(
            "/api/v1/reports", GOOD, content_type="application/json"
        )
        assert response.status_code == 403
    assert client.logout() is None
    assert client.get("/api/v1/reports").status_code in (401, 403)
    assert not Report.objects.exists()


def test_an_identical_request_on_unchanged_records_returns_the_stored_report(client, report_world):
    api = signed_in(client, report_world, "mission_analyst")
    first = api.post("/api/v1/reports", GOOD, content_type="application/json")
    again = api.post("/api/v1/reports", GOOD, content_type="application/json")

    assert first.status_code == 202 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Report.objects.count() == 1

    # Generated, then asked again: still the stored report, with the same figures.
    report_generate(report_id=first.json()["id"], worker="test")
    stored = api.post("/api/v1/reports", GOOD, content_type="application/json")
    assert stored.status_code == 200 and stored.json()["state"] == "done"
    assert api.get(f"/api/v1/reports/{first.json()['id']}").json()["stale"] is False

    # Changed records: a new report.
    WeaponItem.objects.create(
        incident=report_world.records["alpha_verified_L3"],
        category=WeaponCategory.MORTAR,
        quantity=1,
    )
    assert api.get(f"/api/v1/reports/{first.json()['id']}").json()["stale"] is True
    fresh = api.post("/api/v1/reports", GOOD, content_type="application/json")
    assert fresh.status_code == 202 and fresh.json()["id"] != first.json()["id"]


def test_files_are_downloads_with_nosniff_for_readers_only_and_leave_an_audit_row(
    client, report_world
):
    api = signed_in(client, report_world, "mission_analyst")
    asked = api.post(
        "/api/v1/reports", {**GOOD, "template": "sdg_16_4_2"}, content_type="application/json"
    ).json()
    report_generate(report_id=asked["id"], worker="test")
    detail = api.get(f"/api/v1/reports/{asked['id']}").json()
    files = {file["name"]: file for file in detail["files"]}
    assert set(files) == {
        "sdg_16_4_2.pdf",
        "sdg_16_4_2.xlsx",
        "sdg_16_4_2.csv",
        "sdg_16_4_2_by_type.csv",
        "sdg_16_4_2_by_origin.csv",
        # Every report's methodology and sources section (reports/documents/methodology.py).
        "methodology_records.csv",
        "methodology_sources.csv",
        "methodology_reporting_units.csv",
    }
    assert detail["tables"][0]["name"] == "sdg_16_4_2"

    pdf = api.get(files["sdg_16_4_2.pdf"]["url"])
    assert pdf.status_code == 200
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf["Content-Disposition"].startswith("attachment;")
    assert pdf["X-Content-Type-Options"] == "nosniff"
    assert b"".join(pdf.streaming_content).startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="report.download.pdf").exists()
    assert AuditEvent.objects.filter(action="report.detail").exists()
    assert AuditEvent.objects.filter(action="report.request").exists()
    page = api.get(f"/reports/{asked['id']}/files/sdg_16_4_2.csv")
    assert page.status_code == 200 and page["Content-Disposition"].startswith("attachment;")

    # Another mission's analyst, and the regional analyst, do not see it at all.
    for name in ("other_mission_analyst", "regional_analyst"):
        other = signed_in(client, report_world, name)
        assert other.get(f"/api/v1/reports/{asked['id']}").status_code == 404
        assert other.get(files["sdg_16_4_2.pdf"]["url"]).status_code == 404
        assert other.get(f"/reports/{asked['id']}/files/sdg_16_4_2.pdf").status_code == 404
        assert other.get("/api/v1/reports").json()["results"] == []


def test_the_report_pages_list_ask_and_show_progress(client, report_world):
    page = signed_in(client, report_world, "mission_analyst").get("/reports/")
    assert page.status_code == 200
    assert 'id="report-request"' in page.content.decode()

    asked = client.post("/reports/", {**GOOD, "hxl": "on"})
    assert asked.status_code == 302
    report = Report.objects.get()
    assert report.options == {"hxl": True}
    detail = client.get(asked["Location"]).content.decode()
    assert "js/job-progress.js" in detail and "<script>" not in detail
    assert client.get(f"/reports/{report.pk}.json").json()["state"] == "queued"


def test_the_monthly_schedule_asks_for_each_missions_report_of_the_month_before(report_world):
    assert (
        django_settings.CELERY_BEAT_SCHEDULE["monthly-mission-reports"]["task"]
        == "reports.tasks.request_monthly_reports"
    )
    reports = monthly_reports_request(today=date(2025, 4, 1))
    again = monthly_reports_request(today=date(2025, 4, 1))

    assert {report.scope_label for report in reports} == {"MINUSCA", "MONUSCO"}
    assert {(r.period_start, r.period_end) for r in reports} == {
        (date(2025, 3, 1), date(2025, 3, 31))
    }
    assert all(r.requested_by is None and not r.with_gender for r in reports)
    assert [r.pk for r in again] == [r.pk for r in reports]
    # The mission's analysts read their mission's scheduled report; others do not.
    minusca = next(r for r in reports if r.scope_label == "MINUSCA")
    assert (
        Report.objects.visible_to(report_world.users["mission_analyst"])
        .filter(pk=minusca.pk)
        .exists()
    )
    assert (
        not Report.objects.visible_to(report_world.users["other_mission_analyst"])
        .filter(pk=minusca.pk)
        .exists()
    )


def test_a_report_that_cannot_be_generated_fails_and_says_why(report_world):
    from geo.models import Region
    from reports.services import report_request

    report = report_request(
        requester=report_world.users["admin"],
        template="regional_overview",
        scope_kind="region",
        scope="test-caf",
        period_start=date(2025, 3, 1),
        period_end=date(2025, 3, 31),
    )
    Region.objects.filter(code="test-caf").delete()  # between the request and the work

    report_generate(report_id=report.pk, worker="test")
    report.refresh_from_db()

    assert report.state == "failed"
    assert "scope: No regional organisation test-caf." in report.error
    assert not report.files.exists()
    # Asked again: a failed report is not reused.
    report_generate(report_id=report.pk, worker="test")
    report.refresh_from_db()
    assert report.attempts == 1


def test_reports_are_read_only_in_the_admin(client, report_world):
    client.force_login(report_world.users["admin"])
    assert client.get("/admin/reports/report/").status_code == 200
    assert client.get("/admin/reports/report/add/").status_code == 403

"""The pages of running jobs in a real headless Chromium, under the Content-Security-Policy:
the one poller (static/js/job-progress.js) shows an analysis run's and an import's progress
while the session's real Celery worker runs them, and reloads the page with the result once
they end. (The report's page: tests/test_reports_browser.py.)

To hold a job at a known point, the test locks a table the job must write (as
tests/test_faults.py does); the browser waits on the page's elements with long safety
timeouts.
"""

import pytest
from django.core.files.base import ContentFile
from playwright.sync_api import Page, expect

from armsmonitor.jobs import job_enqueue
from geo.analyses.services import analysis_run_request
from incidents.models import ImportJob
from tests.analysis_layouts import north_of, seizure
from tests.browser.pages import sign_in
from tests.personas import build_world
from tests.test_faults import import_file, table_locked
from tests.waiting import SAFETY_MS

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def refusals(page: Page) -> list[str]:
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


def test_an_analysis_page_shows_the_runs_progress_then_its_result(
    page: Page, live_server, celery_worker_process, refusals
):
    world = build_world()
    for metres in (0, 50, 100):
        seizure(*north_of(15.6, 5.93, metres))
    sign_in(page, live_server, "admin")

    # The run computes, then waits for the lock to store its clusters.
    with table_locked("geo_incidentcluster", mode="EXCLUSIVE"):
        run = analysis_run_request(
            requester=world.users["admin"],
            kind="clusters",
            parameters={"distance_m": 150, "min_incidents": 3},
            incident_filter={"kind": ["cache_discovery"]},
        )
        page.goto(f"{live_server.url}/analyses/{run.pk}")
        expect(page.locator("#run-state")).to_have_text("Running", timeout=SAFETY_MS)
        expect(page.locator("#run-progress-text")).to_have_text("70", timeout=SAFETY_MS)
        assert page.locator("#run-progress").evaluate("bar => bar.value") == 70
        expect(page.locator("#run-summary")).to_have_count(0)

    expect(page.locator("#run-summary")).to_be_visible(timeout=SAFETY_MS)
    expect(page.locator("#run-state")).to_have_text("Done")
    expect(page.locator("#run-progress-text")).to_have_text("100")
    assert refusals == []


def test_an_import_page_shows_the_rows_read_then_the_imports_report(
    page: Page, live_server, celery_worker_process, refusals
):
    world = build_world()
    sign_in(page, live_server, "reporter_alpha")
    job = ImportJob(
        file_format="csv",
        original_name="twelve-thousand.csv",
        contingent=world.records["alpha_draft_L1"].contingent,
        requested_by=world.users["reporter_alpha"],
    )
    job.file.save("import.csv", ContentFile(import_file(12_000, prefix="PAGE")), save=False)
    job.save()

    # The import reads the file (its count shown as it goes), then waits to write; the page
    # still reads the incidents (its top bar counts what waits for the reader).
    with table_locked("incidents_incident", mode="EXCLUSIVE"):
        job_enqueue(job=job)
        page.goto(f"{live_server.url}/incidents/import/{job.pk}")
        expect(page.locator("#job-state")).to_have_text("Running", timeout=SAFETY_MS)
        expect(page.locator("#job-rows")).to_have_text("12,000", timeout=SAFETY_MS)

    expect(page.locator("#job-report .message")).to_contain_text(
        "12000 incidents", timeout=SAFETY_MS
    )
    expect(page.locator("#job-state")).to_have_text("Imported")
    assert refusals == []

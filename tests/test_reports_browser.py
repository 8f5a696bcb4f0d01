"""The reports page in a real headless Chromium, under the Content-Security-Policy: an
analyst asks for a report, follows its progress (static/js/job-progress.js) while a
real worker generates it, and downloads its PDF; the browser refuses no script."""

import os

import pytest
from playwright.sync_api import Page, expect

from tests.conftest import start_celery_worker, stop_celery_worker
from tests.personas import PASSWORD
from tests.report_fixtures import build_report_world

# Playwright's sync API runs an event loop in the test thread (see tests/browser).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

pytestmark = pytest.mark.django_db(transaction=True)
QUEUE = f"armsmonitor-reports-browser-{os.getpid()}"


@pytest.fixture
def report_worker(settings, tmp_path, transactional_db):
    settings.MEDIA_ROOT = str(tmp_path)
    settings.REPORTS_QUEUE = QUEUE
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MEDIA_ROOT", str(tmp_path))
        patch.setenv("CELERY_QUEUE", QUEUE)
        worker = start_celery_worker("report-browser")
    yield worker
    stop_celery_worker(worker)


def test_an_analyst_asks_for_a_report_follows_it_and_downloads_the_pdf(
    page: Page, live_server, report_worker
):
    build_report_world()
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", "mission_analyst")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.click("nav >> text=Reports")
    page.select_option("#id_template", "sdg_16_4_2")
    page.select_option("#id_scope_kind", "mission")
    page.fill("#id_scope", "MINUSCA")
    page.fill("#id_period_start", "2025-03-01")
    page.fill("#id_period_end", "2025-03-31")
    page.click("#report-request button[type=submit]")

    # The page follows the worker and reloads with the files once the report is done.
    expect(page.locator("#report-files")).to_be_visible()
    expect(page.locator("#report-state")).to_have_text("Done")
    with page.expect_download() as download:
        page.click("#report-files >> text=sdg_16_4_2.pdf")
    path = download.value.path()
    with open(path, "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert download.value.suggested_filename.endswith("sdg_16_4_2.pdf")
    assert refused == []

"""In a real headless Chromium, under the Content-Security-Policy: the pages that need
script still work (API docs, ReDoc, the admin's map widget, the language menu), and the
browser reports no refused script or style."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def refusals(page: Page) -> list[str]:
    """What the browser refused because of the policy, as it says in its console."""
    refused: list[str] = []
    page.on(
        "console",
        lambda message: (
            refused.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return refused


def test_swagger_ui_draws_the_api_under_the_policy(page: Page, live_server, world, refusals):
    page.goto(f"{live_server.url}/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("ArmsMonitor API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert refusals == []


def test_redoc_draws_the_api_under_the_policy(page: Page, live_server, world, refusals):
    page.goto(f"{live_server.url}/api/v1/redoc")
    expect(page.locator("h1").first).to_contain_text("ArmsMonitor API")
    # ReDoc's page asks for Google's fonts and a logo on cdn.redoc.ly: outside hosts are
    # not allowed (nor reachable here), and the page works without them. No script, style
    # or worker of its own is refused.
    outside = ("Loading the stylesheet 'https://fonts.", "Loading the image 'https://cdn.redoc")
    assert [text for text in refusals if not text.startswith(outside)] == []


def test_the_language_menu_switches_without_inline_script(page: Page, live_server, world, refusals):
    sign_in(page, live_server, "reporter_alpha")
    page.select_option("select[name=language]", "fr")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    assert refusals == []


def test_the_admin_map_widget_runs_with_the_nonce(page: Page, live_server, world, refusals):
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server.url}/admin/organisations/mission/add/")
    expect(page.locator(".leaflet-container").first).to_be_visible()
    assert refusals == []

"""In a real headless Chromium: the dashboard draws its charts with Chart.js, a filter
changes its figures, and a bar of a chart (or its table's link, by keyboard) opens the map
with the filter in the URL."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.browser.pages import sign_in

pytestmark = pytest.mark.django_db(transaction=True)

CHARTS = 9  # over time, category, kind, context, country, region, origins, flows, registry hits
GENDER_CHARTS = 3  # by sex, by age group, by role and sex


@pytest.fixture
def console_errors(page: Page):
    errors: list[str] = []

    def record(message) -> None:
        # The browser asks for a /favicon.ico the platform does not serve: not the page's.
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            errors.append(f"{message.text} ({message.location['url']})")

    page.on("console", record)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _map_query(url: str) -> dict[str, list[str]]:
    parts = urlsplit(url)
    assert parts.path == "/map/"
    return parse_qs(parts.query)


def test_the_dashboard_draws_its_charts_and_a_filter_changes_them(
    page: Page, live_server, dashboard_world, console_errors, tmp_path
):
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, "wps_analyst")
    page.click("nav >> text=Dashboard")
    expect(page).to_have_url(f"{live_server.url}/dashboard/")

    # Every chart drawn by Chart.js on its canvas; the tables fold once the charts show.
    expect(page.locator("html")).to_have_attribute("data-charts-drawn", str(CHARTS + GENDER_CHARTS))
    assert page.evaluate("typeof window.Chart") == "function"
    assert page.locator(".chart-card canvas").count() == CHARTS + GENDER_CHARTS
    assert page.evaluate("Chart.getChart('chart-by-kind').data.datasets[0].data") == [6, 2, 1]
    expect(page.locator("#by-kind details.chart-table")).not_to_have_attribute("open", "")
    expect(page.locator("#total-incidents")).to_have_text("9")
    page.screenshot(path=tmp_path / "dashboard-1366x768.png", full_page=True)
    print(f"screenshot: {tmp_path / 'dashboard-1366x768.png'}")

    # A filter: cache discoveries only.
    page.locator("details.filters summary").click()
    page.select_option("#id_kind", ["cache_discovery"])
    page.click("#dashboard-filter button[type=submit]")
    expect(page.locator("#total-incidents")).to_have_text("2")
    expect(page.locator("#total-weapons")).to_have_text("7")
    assert page.evaluate("Chart.getChart('chart-by-kind').data.datasets[0].data") == [2]
    assert page.evaluate("Chart.getChart('chart-by-category').data.labels[0]") == ("Assault rifles")
    page.screenshot(path=tmp_path / "dashboard-filtered.png", full_page=True)
    assert console_errors == []

    # A click on the first bar of the categories (assault rifles) opens the map on it,
    # within the filter.
    bar = page.evaluate(
        "(() => { const bar = Chart.getChart('chart-by-category').getDatasetMeta(0).data[0];"
        " return {x: bar.x - bar.width / 2 + 4, y: bar.y}; })()"
    )
    # (The URL asked for: the map may add its own view to it once it runs.)
    with page.expect_request(re.compile(r"/map/")) as opened:
        page.locator("#chart-by-category").click(position=bar)
    assert _map_query(opened.value.url) == {
        "kind": ["cache_discovery"],
        "category": ["assault_rifle"],
    }


def test_a_tables_link_opens_the_map_by_keyboard(
    page: Page, live_server, dashboard_world, console_errors
):
    sign_in(page, live_server, "mission_analyst")
    page.goto(f"{live_server.url}/dashboard/?context=criminal")
    expect(page.locator("html")).to_have_attribute("data-charts-drawn", str(CHARTS))
    # No gender figures for a mission analyst.
    assert page.locator("#persons-by-sex").count() == 0

    summary = page.locator("#by-country details.chart-table summary")
    summary.focus()
    page.keyboard.press("Enter")
    expect(page.locator("#by-country details.chart-table")).to_have_attribute("open", "")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Central African Republic (CAF)"
    assert console_errors == []
    with page.expect_request(re.compile(r"/map/")) as opened:
        page.keyboard.press("Enter")
    assert _map_query(opened.value.url) == {"context": ["criminal"], "country": ["CAF"]}


def test_a_category_chart_names_every_bar(page: Page, live_server, dashboard_world, console_errors):
    from incidents.choices import WeaponCategory
    from incidents.models import WeaponItem

    record = dashboard_world.records["alpha_verified_L1"]
    WeaponItem.objects.bulk_create(
        WeaponItem(incident=record, category=category) for category in WeaponCategory.values
    )
    page.set_viewport_size({"width": 1366, "height": 768})
    sign_in(page, live_server, "wps_analyst")
    page.goto(f"{live_server.url}/dashboard/")
    expect(page.locator("html")).to_have_attribute("data-charts-drawn", str(CHARTS + GENDER_CHARTS))

    named, bars = page.evaluate(
        "(() => { const chart = Chart.getChart('chart-by-category');"
        " return [chart.scales.y.ticks.length, chart.data.labels.length]; })()"
    )

    assert bars >= len(WeaponCategory.values) - 1
    assert named == bars
    assert console_errors == []

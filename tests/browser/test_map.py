"""In a real headless Chromium: an analyst's map loads on the platform's own boundaries (no
tile server), a filter changes the counts, a popup opens on an incident, a shared link
restores the same view, and "analyse this view" shows its progress then its layer (run by a
real Celery worker), a hot-spot result with its own explanation and counted legend; the
registry hits layer toggles, opens its popup and is greyed out with its reason when it has
nothing to draw (the layout of tests/test_map_hits.py). Screenshots go to
.data/artefacts/map/ (ignored by git)."""

import re
from datetime import date
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.gis.geos import MultiPolygon, Polygon
from playwright.sync_api import Page, expect

from geo.models import AnalysisRun
from incidents.choices import IncidentKind, OriginKind, OriginMethod, TraceStatus, WeaponCategory
from incidents.demo import demo_dataset_create
from incidents.models import TraceRequest, WeaponItem
from incidents.origins import IllicitOrigin
from organisations.models import Mission
from tests.analysis_layouts import north_of, seizure
from tests.browser.pages import sign_in
from tests.test_map_hits import registry_hits as registry_hits

pytestmark = pytest.mark.django_db(transaction=True)

ARTEFACTS = Path(__file__).resolve().parents[2] / ".data" / "artefacts" / "map"
BANGUI = (18.583713, 4.367141)


@pytest.fixture(autouse=True)
def map_records(settings, countries_110m, world):
    """The map's records, in the 110m countries (loaded before `world`). No tile server in
    tests: the map draws the platform's own boundaries only."""
    settings.LEAFLET_CONFIG = {**settings.LEAFLET_CONFIG, "TILES": ""}
    # MINUSCA's area of operations drawn; no contingent has an area of responsibility.
    Mission.objects.filter(acronym="MINUSCA").update(
        area_of_operations=MultiPolygon(Polygon.from_bbox((14.4, 2.2, 27.5, 11.0)), srid=4326)
    )
    # A dozen caches north of Bangui, 60 m apart: a cluster for DBSCAN.
    for step in range(12):
        cache = seizure(*north_of(18.6, 4.5, 60 * step), kind=IncidentKind.CACHE_DISCOVERY)
        # Rifles made in China and Sudan (no movement, never drawn). Those made in Sudan
        # traced to a diversion there, by way of Chad; two more an investigation found
        # diverted from Cameroon's State stocks.
        rifle = WeaponItem.objects.create(
            incident=cache,
            category=WeaponCategory.ASSAULT_RIFLE,
            country_of_manufacture="CHN" if step % 3 else "SDN",
            quantity=1 + step,
        )
        if step % 3 == 0:
            TraceRequest.objects.create(
                weapon=rifle,
                addressee="Sudan",
                sent_on=date(2025, 1, 1),
                answered_on=date(2025, 2, 1),
                status=TraceStatus.ANSWERED,
                diversion_established=True,
                diversion_country="SDN",
                transit_countries=["TCD"],
            )
        elif step in (1, 2):
            IllicitOrigin.objects.create(
                weapon=rifle,
                method=OriginMethod.INVESTIGATION,
                kind=OriginKind.STATE_STOCKS,
                diversion_country="CMR",
                established_by="a national commission",
                established_on=date(2025, 3, 1),
            )


@pytest.fixture
def browser_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def screenshot(page: Page, name: str) -> None:
    ARTEFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTEFACTS / f"{name}.png"))


@pytest.fixture
def browser_context_args(browser_context_args):
    """An analyst's laptop screen."""
    return {**browser_context_args, "viewport": {"width": 1366, "height": 768}}


def open_map(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#map[data-ready]")


def test_the_map_loads_and_a_filter_changes_the_counts(
    page: Page, live_server, world, browser_errors
):
    sign_in(page, live_server, "mission_analyst")
    page.click("text=Open the map of your records")
    expect(page).to_have_url(f"{live_server.url}/map/")
    page.wait_for_selector("#map[data-ready]")
    # The countries are drawn by the platform itself, under the incidents' cells.
    expect(page.locator("#map .leaflet-overlay-pane path").first).to_be_attached()
    # MINUSCA's six verified records and the twelve caches.
    expect(page.locator("#map-count")).to_have_text("18 incidents in view")
    expect(page.locator(".map-cell").first).to_be_visible()
    screenshot(page, "1-map-loaded")

    page.select_option("#map-kind", "checkpoint_seizure")
    expect(page.locator("#map-count")).to_have_text("6 incidents in view")
    assert parse_qs(urlsplit(page.url).query)["kind"] == ["checkpoint_seizure"]
    export = page.get_attribute("#map-export-csv", "href")
    assert export.startswith("/api/v1/incidents/export.csv?")
    assert "kind=checkpoint_seizure" in export

    # The time slider moves in months; a window without records empties the map.
    page.fill("#map-from", "2025-04-01")
    page.locator("#map-from").dispatch_event("change")
    expect(page.locator("#map-count")).to_have_text("0 incidents in view")
    screenshot(page, "2-map-filtered")
    assert browser_errors == []


def test_a_popup_gives_the_key_facts_and_a_link_to_the_record(
    page: Page, live_server, world, browser_errors
):
    sign_in(page, live_server, "mission_analyst")
    open_map(page, f"{live_server.url}/map/?c={BANGUI[1]},{BANGUI[0]}&z=14&kind=checkpoint_seizure")
    expect(page.locator("#map-count")).to_have_text("6 incidents in view")
    point = page.locator(".map-point").first
    # Keyboard: the marker takes the focus and Enter opens its popup.
    point.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content .map-popup")
    expect(popup).to_contain_text("Seizure at checkpoint or border")
    expect(popup).to_contain_text("MINUSCA")
    link = popup.locator("a.map-popup-link")
    expect(link).to_have_attribute("href", re.compile(r"^/incidents/\d+/$"))
    screenshot(page, "3-map-popup")
    link.click()
    expect(page).to_have_url(re.compile(r"/incidents/\d+/$"))
    assert browser_errors == []


def test_a_layer_with_nothing_to_draw_is_greyed_out_with_the_reason(
    page: Page, live_server, world, browser_errors
):
    sign_in(page, live_server, "mission_analyst")
    open_map(page, f"{live_server.url}/map/")

    # (Clicked, not checked: the box unchecks itself once it finds nothing to draw.)
    page.click("#map-layers input[value=contingents]")

    box = page.locator("#map-layers input[value=contingents]")
    expect(box).to_be_disabled()
    expect(box).not_to_be_checked()
    expect(page.locator("#map-layers label.unavailable")).to_contain_text(
        "No contingent area is loaded: an administrator draws it in Administration"
    )
    # The mission's area, drawn, stays on.
    page.check("#map-layers input[value=missions]")
    expect(page.locator("#map .leaflet-overlay-pane path[stroke='#1a5fb4']")).to_have_count(1)
    expect(page.locator("#map-layers input[value=missions]")).to_be_enabled()
    assert browser_errors == []


def test_the_time_slider_follows_typed_dates(page: Page, live_server, world, browser_errors):
    sign_in(page, live_server, "mission_analyst")
    open_map(page, f"{live_server.url}/map/")

    page.fill("#map-from", "2024-03-15")
    page.fill("#map-until", "2025-02-10")

    # Months counted from January 2010 (static/js/map/state.js).
    expect(page.locator("#map-slider-start")).to_have_value(str((2024 - 2010) * 12 + 2))
    expect(page.locator("#map-slider-end")).to_have_value(str((2025 - 2010) * 12 + 1))
    expect(page.locator("#map-slider-text")).to_have_text("2024-03 → 2025-02")
    assert browser_errors == []


def test_a_shared_link_restores_the_same_view(page: Page, live_server, world, browser_errors):
    sign_in(page, live_server, "mission_analyst")
    open_map(page, f"{live_server.url}/map/")
    page.select_option("#map-kind", ["cache_discovery"])
    page.select_option("#map-context", ["criminal"])
    page.check("#map-layers input[value=missions]")
    page.uncheck("#map-layers input[value=countries]")
    page.evaluate("() => window.scrollTo(0, 0)")
    page.locator("#map").focus()
    page.keyboard.press("+")  # zoom in with the keyboard
    expect(page.locator("#map-count")).to_have_text("12 incidents in view")
    page.wait_for_function("() => new URLSearchParams(location.search).get('z') === '7'")
    shared = page.url
    query = parse_qs(urlsplit(shared).query)
    assert query["kind"] == ["cache_discovery"] and query["context"] == ["criminal"]
    assert query["layers"] == ["incidents,missions"]

    other = page.context.new_page()
    open_map(other, shared)
    assert parse_qs(urlsplit(other.url).query) == query
    expect(other.locator("#map-kind")).to_have_values(["cache_discovery"])
    expect(other.locator("#map-context")).to_have_values(["criminal"])
    expect(other.locator("#map-layers input[value=missions]")).to_be_checked()
    expect(other.locator("#map-layers input[value=countries]")).not_to_be_checked()
    expect(other.locator("#map-count")).to_have_text("12 incidents in view")
    screenshot(other, "4-map-restored")
    assert browser_errors == []


def test_analysing_the_view_shows_progress_then_the_result_layer(
    page: Page, live_server, world, celery_worker_process, browser_errors
):
    sign_in(page, live_server, "mission_analyst")
    open_map(page, f"{live_server.url}/map/?c=4.5,18.6&z=9&kind=cache_discovery")
    expect(page.locator("#map-count")).to_have_text("12 incidents in view")
    page.select_option("#map-analysis-kind", "clusters")
    page.click("#map-analyse-start")
    expect(page.locator("#map-analysis-progress")).to_be_visible()
    expect(page.locator("#map-analysis-state")).to_have_text("Done: its layer is on the map.")
    run = AnalysisRun.objects.get()
    assert run.state == AnalysisRun.State.DONE
    assert run.incident_filter["kind"] == ["cache_discovery"]
    assert "bbox" in run.incident_filter
    expect(page.locator("#map-run-clusters")).to_have_value(str(run.pk))
    # The cluster's hull is drawn, and the run is kept in the address bar.
    expect(page.locator("#map")).to_have_attribute("data-run-clusters", str(run.pk))
    expect(page.locator("#map .leaflet-overlay-pane path[stroke='#6a3d9a']")).to_have_count(1)
    assert parse_qs(urlsplit(page.url).query)["clusters"] == [str(run.pk)]
    screenshot(page, "5-map-analysed")
    assert browser_errors == []


def test_density_and_flows_are_drawn_as_heat_and_arrowed_lines(
    page: Page, live_server, world, celery_worker_process, browser_errors
):
    sign_in(page, live_server, "mission_analyst")
    open_map(page, f"{live_server.url}/map/?c=10,25&z=3&kind=cache_discovery")
    for kind in ("density", "flows"):
        page.select_option("#map-analysis-kind", kind)
        page.click("#map-analyse-start")
        expect(page.locator("#map-analysis-state")).to_have_text("Done: its layer is on the map.")
    # The density as a heat layer (a canvas), the flows as lines with arrowheads: the
    # illicit origins established (SDN → CAF, CMR → CAF), not where the rifles were made
    # (no line from China), and the traced route through Chad, dashed.
    expect(page.locator("#map canvas.leaflet-heatmap-layer")).to_have_count(1)
    origins = page.locator("#map .leaflet-overlay-pane path[stroke='#08519c']")
    expect(origins).to_have_count(2)
    routes = page.locator("#map .leaflet-overlay-pane path[stroke='#b35806']")
    expect(routes).to_have_count(1)
    expect(routes.first).to_have_attribute("stroke-dasharray", "8 6")
    arrows = page.locator("#map .map-arrow span")
    expect(arrows).to_have_count(3)
    # Each line names its origin where it starts, and a legend says what lines and widths
    # mean (issue 22).
    expect(page.locator("#map .flow-label")).to_have_text(["SDN", "CMR", "SDN"], ignore_case=False)
    legend = page.locator("#map .flow-legend")
    expect(legend).to_contain_text("illicit origin established")
    expect(legend).to_contain_text("22 weapons")
    # Each arrowhead turned along its line, and still after a zoom.
    page.locator("#map .leaflet-control-zoom-in").click()
    expect(arrows.first).to_have_attribute("style", re.compile(r"rotate\(-?\d"))
    # Wider for the larger volume (SDN: 1 + 4 + 7 + 10 rifles; CMR: 2 + 3).
    widths = sorted(float(origins.nth(i).get_attribute("stroke-width")) for i in range(2))
    assert widths[0] < widths[1]
    query = parse_qs(urlsplit(page.url).query)
    assert query["density"] and query["flows"]
    screenshot(page, "6-map-density-flows")
    assert browser_errors == []


def test_one_incident_is_counted_in_the_singular(page: Page, live_server, world, browser_errors):
    seizure(*north_of(18.6, 4.6, 0), kind=IncidentKind.VOLUNTARY_SURRENDER)
    sign_in(page, live_server, "mission_analyst")

    open_map(page, f"{live_server.url}/map/?kind=voluntary_surrender")

    expect(page.locator("#map-count")).to_have_text("1 incident in view")
    assert browser_errors == []


def test_an_analysts_first_hot_spot_request_on_the_demo_data_says_what_it_found(
    page: Page, live_server, world, celery_worker_process, browser_errors
):
    demo_dataset_create(incidents=2000, seed=2026)
    sign_in(page, live_server, "mission_analyst")
    open_map(page, f"{live_server.url}/map/")

    # The analyst's first request: the mission's view as the map opens, no setting changed.
    page.select_option("#map-analysis-kind", "hotspots")
    page.click("#map-analyse-start")

    headline = page.locator("#map-hotspot-explanation [data-headline]")
    expect(headline).to_have_text(
        re.compile(r"^\d+ of [\d,]+ cells significant \(FDR-corrected\): ")
    )
    run = AnalysisRun.objects.get(kind="hotspots")
    summary = run.result["summary"]
    assert run.parameters["resolution"] is None and "bbox" in run.incident_filter
    assert summary["significant"]["hot"] > 0
    assert headline.inner_text().startswith(
        f"{summary['significant']['cells']} of {summary['cells']:,} cells significant"
    )
    expect(page.locator("#map-analysis-state")).to_have_text(headline.inner_text())
    details = page.locator("#map-hotspot-explanation [data-details] li")
    expect(details.first).to_contain_text(f"Resolution {summary['scale']['resolution']}, about")
    expect(page.locator("#map-hotspot-explanation [data-next-step]")).to_be_hidden()
    # The legend counts the cells of each class, greys the classes with none, and the map
    # draws as many hexagons of the strongest class.
    legend = page.locator("#map-legend")
    expect(legend).to_be_visible()
    per_class = summary["cells_per_class"]
    hot_99 = per_class.get("hot_99", 0)
    expect(legend.locator("li[data-class=hot_99] [data-count]")).to_have_text(
        f"({hot_99} cell{'' if hot_99 == 1 else 's'})"
    )
    for name in ("cold_90", "cold_95", "cold_99"):
        if not per_class.get(name):
            expect(legend.locator(f"li[data-class={name}]")).to_have_class("empty")
    expect(page.locator("#map .leaflet-overlay-pane path[fill='#b2182b']")).to_have_count(hot_99)
    screenshot(page, "7-map-hot-spots-explained")
    assert browser_errors == []


def test_the_hits_layer_toggles_and_says_when_the_view_holds_none(
    page: Page, live_server, registry_hits, browser_errors
):
    sign_in(page, live_server, "mission_analyst")
    open_map(page, f"{live_server.url}/map/?c={BANGUI[1]},{BANGUI[0]}&z=14&layers=incidents,hits")
    box = page.locator("#map-layers input[value=hits]")
    expect(box).to_be_checked()
    hit = page.locator(".map-hit")
    expect(hit).to_have_count(1)
    expect(hit).to_have_text("2")
    hit.focus()
    page.keyboard.press("Enter")
    popup = page.locator(".leaflet-popup-content .map-popup")
    expect(popup).to_contain_text("2 registry hits")
    seizure = registry_hits.records["alpha_verified_L3"].pk
    expect(popup.locator("a.map-popup-link")).to_have_attribute(
        "href", re.compile(rf"^/incidents/hits/\?incident={seizure}&state=$")
    )

    # A filter that leaves no hit in view: greyed out with the reason, the box kept on.
    page.select_option("#map-kind", IncidentKind.CACHE_DISCOVERY.value)
    label = page.locator("#map-layers label", has=page.locator("input[value=hits]"))
    expect(label).to_have_class(re.compile(r"\bunavailable\b"))
    expect(label).to_contain_text("No registry hits in view.")
    expect(hit).to_have_count(0)
    expect(box).to_be_enabled()
    page.select_option("#map-kind", IncidentKind.CHECKPOINT_SEIZURE.value)
    expect(hit).to_have_count(1)
    expect(label).not_to_have_class(re.compile(r"\bunavailable\b"))

    page.uncheck("#map-layers input[value=hits]")
    expect(hit).to_have_count(0)
    layers = page.evaluate("() => new URL(window.location.href).searchParams.get('layers')")
    assert "hits" not in layers.split(",")
    assert browser_errors == []


def test_the_hits_layer_turns_off_when_the_registry_is_empty(
    page: Page, live_server, world, browser_errors
):
    sign_in(page, live_server, "mission_analyst")
    open_map(page, f"{live_server.url}/map/")
    page.click("#map-layers input[value=hits]")
    box = page.locator("#map-layers input[value=hits]")
    expect(box).to_be_disabled()
    expect(box).not_to_be_checked()
    expect(
        page.locator("#map-layers label", has=page.locator("input[value=hits]"))
    ).to_contain_text("No registry entries loaded")
    assert browser_errors == []

"""In a real headless Chromium: the map's registry hits layer toggles, its popup gives the
number of hits and links to the seizure's hits, and it is greyed out with its reason when
the view holds no hit (the box stays on) or the registry holds no entry (the box turns
off). The layout is tests/test_map_hits.py's."""

import re

import pytest
from playwright.sync_api import Page, expect

from incidents.choices import IncidentKind
from tests.browser.pages import sign_in
from tests.test_map_hits import BANGUI
from tests.test_map_hits import registry_hits as registry_hits

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def no_tiles(settings):
    # No tile server in tests.
    settings.LEAFLET_CONFIG = {**settings.LEAFLET_CONFIG, "TILES": ""}


@pytest.fixture
def browser_errors(page: Page) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def open_map(page: Page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("#map[data-ready]")


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
    label = page.locator("#map-layers label", has=box)
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
    expect(page.locator("#map-layers label", has=box)).to_contain_text("No registry entries loaded")
    assert browser_errors == []

"""In a real headless Chromium: a reporter records a seizure with two weapons and a point
picked on the map, then submits it."""

import io
import re
import time

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from incidents.models import Incident
from tests.browser.pages import sign_in

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def boundaries_without_tiles(settings, countries_110m):
    """No tile server in tests: the map draws the platform's own boundaries only. They load
    before `world`, whose records fall in them."""
    settings.LEAFLET_CONFIG = {**settings.LEAFLET_CONFIG, "TILES": ""}


def test_a_reporter_records_a_seizure_with_two_weapons_on_the_map(page: Page, live_server, world):
    sign_in(page, live_server, "reporter_alpha")
    page.goto(f"{live_server.url}/incidents/new")

    # The countries drawn by the platform itself appear on the map, then a click picks
    # the point (the map opens centred on the Central African Republic).
    expect(page.locator("#point-picker path.leaflet-interactive").first).to_be_attached()
    box = page.locator("#point-picker").bounding_box()
    page.locator("#point-picker").click(position={"x": box["width"] / 2, "y": box["height"] / 2})
    expect(page.locator("#id_coordinates")).to_have_value(
        re.compile(r"^-?\d+\.\d{6}, -?\d+\.\d{6}$")
    )
    expect(page.locator("#point-picker-place")).to_contain_text("CAF")
    latitude, longitude = map(float, page.input_value("#id_coordinates").split(", "))

    page.select_option("#id_contingent", label="Alpha (MINUSCA)")
    page.select_option("#id_kind", "checkpoint_seizure")
    page.fill("#id_occurred_at", "2026-02-03T10:30")
    page.select_option("#id_context", "criminal")
    page.fill("#id_narrative", "Browser test: two weapons at a checkpoint.")
    page.select_option("#id_weapons-0-category", "assault_rifle")
    page.fill("#id_weapons-0-make", "Norinco")
    page.fill("#id_weapons-0-serial_number", "56-998877")
    page.locator("fieldset[data-prefix=weapons] button.add-item").click()
    page.select_option("#id_weapons-1-category", "craft_produced")
    page.fill("#id_weapons-1-quantity", "3")
    page.click("button[value=draft]")

    expect(page.locator("h1")).to_contain_text("Seizure at checkpoint or border")
    incident = Incident.objects.get(narrative__startswith="Browser test")
    assert incident.weapons.count() == 2
    assert (round(incident.location.y, 6), round(incident.location.x, 6)) == (latitude, longitude)
    assert incident.country == "CAF"

    page.click("text=Submit for verification")
    expect(page.locator(".state").first).to_have_text("Submitted")
    incident.refresh_from_db()
    assert incident.state == "submitted"


def test_typed_coordinates_that_are_swapped_are_explained_before_saving(
    page: Page, live_server, world
):
    sign_in(page, live_server, "reporter_alpha")
    page.goto(f"{live_server.url}/incidents/new")

    page.fill("#id_coordinates", "118.5, 18.5")
    page.locator("#id_coordinates").dispatch_event("change")

    expect(page.locator("#point-picker-place")).to_contain_text("swapped")


@pytest.mark.parametrize(
    ("language", "submitted", "confirmed"),
    [
        ("en", "Submitted", "submitted for verification"),
        ("fr", "Soumis", "soumise pour vérification"),
    ],
)
def test_on_a_phone_the_form_fits_the_screen_and_saves_and_submits_at_once(
    page: Page, live_server, world, language, submitted, confirmed
):
    """Issue 21: a 390 x 844 phone. One column, no sideways scrolling, controls at least
    44 px high, the map's boundaries those of the mission's host country, compressed, under
    200 KB; "Save and submit" sends the record for verification in one tap."""
    sign_in(page, live_server, "reporter_alpha")
    # The language chosen in the top bar, as a reporter would.
    with page.expect_navigation():
        page.select_option("select[name=language]", language)
    page.set_viewport_size({"width": 390, "height": 844})
    boundaries = []
    page.on(
        "response",
        lambda response: (
            boundaries.append(response) if "countries.geojson" in response.url else None
        ),
    )
    transferred = []
    page.on(
        "requestfinished",
        # -1: nothing came over the network (from the device's caches).
        lambda request: transferred.append(max(request.sizes()["responseBodySize"], 0)),
    )
    page.goto(f"{live_server.url}/incidents/new")
    expect(page.locator("#point-picker path.leaflet-interactive").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    first_load_bytes = sum(transferred)

    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    for control in ("#id_kind", "#id_occurred_at", "button[value=draft]", "button[value=submit]"):
        assert page.locator(control).bounding_box()["height"] >= 44, control
    (response,) = boundaries
    assert "countries=CAF" in response.url
    assert response.headers.get("content-encoding") == "gzip"
    assert response.request.sizes()["responseBodySize"] < 200_000
    assert [feature["id"] for feature in response.json()["features"]] == ["CAF"]

    # The journey of issue 21: two rifles with serials, a point picked on the map, a photo
    # from the camera, submitted; every tap and keystroke-field counted.
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(buffer, format="PNG")
    started = time.monotonic()
    journey = [
        lambda: page.locator("#point-picker").click(),
        lambda: page.select_option("#id_kind", "checkpoint_seizure"),
        lambda: page.fill("#id_occurred_at", "2026-02-03T10:30"),
        lambda: page.select_option("#id_context", "criminal"),
        lambda: page.fill("#id_narrative", "Phone test: two rifles at a checkpoint."),
        lambda: page.select_option("#id_weapons-0-category", "assault_rifle"),
        lambda: page.fill("#id_weapons-0-serial_number", "56-100001"),
        lambda: page.locator("fieldset[data-prefix=weapons] button.add-item").click(),
        lambda: page.select_option("#id_weapons-1-category", "assault_rifle"),
        lambda: page.fill("#id_weapons-1-serial_number", "56-100002"),
        lambda: page.set_input_files(
            "#id_photos",
            files=[{"name": "rifles.jpg", "mimeType": "image/png", "buffer": buffer.getvalue()}],
        ),
        lambda: page.click("button[value=submit]"),
    ]
    for step in journey:
        step()
    expect(page.locator(".state").first).to_have_text(submitted)
    journey_seconds = time.monotonic() - started

    assert len(journey) <= 20
    expect(page.locator(".message").first).to_contain_text(confirmed)

    # The next record: the scripts, styles and boundaries come from the device (the service
    # worker's caches, refreshed behind the page), the form itself from the network.
    answers = []
    page.on("response", lambda answer: answers.append(answer))
    page.goto(f"{live_server.url}/incidents/new")
    expect(page.locator("#point-picker path.leaflet-interactive").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    on_device = [answer for answer in answers if answer.from_service_worker]
    print(
        f"phone journey: {len(journey)} interactions, {journey_seconds:.1f} s; the form's "
        f"first load {first_load_bytes:,} bytes over the network; the next, {len(on_device)} "
        f"of {len(answers)} answers from the service worker"
    )
    assert any("countries.geojson" in answer.url for answer in on_device)
    incident = Incident.objects.get(narrative__startswith="Phone test")
    assert incident.state == "submitted"
    assert sorted(incident.weapons.values_list("serial_number", flat=True)) == [
        "56-100001",
        "56-100002",
    ]
    assert incident.photos.count() == 1


def _record_on_the_form(page: Page, narrative: str, photo: bytes | None = None) -> None:
    page.fill("#id_coordinates", "4.367141, 18.583713")
    page.select_option("#id_kind", "checkpoint_seizure")
    page.fill("#id_occurred_at", "2026-02-03T10:30")
    page.select_option("#id_context", "criminal")
    page.fill("#id_narrative", narrative)
    page.select_option("#id_weapons-0-category", "assault_rifle")
    if photo:
        page.set_input_files(
            "#id_photos", files=[{"name": "rifle.png", "mimeType": "image/png", "buffer": photo}]
        )
    page.click("button[value=draft]")


def _open_the_form_until_it_works_offline(page: Page, live_server) -> None:
    page.goto(f"{live_server.url}/incidents/new")
    # The service worker takes the page over, and keeps the form on the next visit.
    # (Evaluated, not polled: the page's Content-Security-Policy forbids eval.)
    assert page.evaluate(
        """() => navigator.serviceWorker.controller !== null || new Promise((resolve) => {
            navigator.serviceWorker.addEventListener("controllerchange", () => resolve(true));
            setTimeout(() => resolve(false), 60000);
        })"""
    )
    page.reload()
    expect(page.locator("#point-picker path.leaflet-interactive").first).to_be_attached()


def test_records_typed_without_a_network_wait_on_the_device_and_are_sent_once(
    page: Page, live_server, world
):
    """Issue 21: the entry form works offline (a service worker, Workbox from npm). Two
    records, one with a photo, saved without a network wait in the device's outbox, listed,
    still there when the page is closed and opened again, and go when the network returns,
    each once with its photo."""
    sign_in(page, live_server, "reporter_alpha")
    _open_the_form_until_it_works_offline(page, live_server)

    context = page.context
    context.set_offline(True)
    page.reload()
    expect(page.locator("form.entry")).to_be_visible()
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(buffer, format="PNG")
    _record_on_the_form(page, "Offline test: a rifle on patrol.", buffer.getvalue())
    expect(page.locator("#outbox [data-count]")).to_have_text("1")
    _record_on_the_form(page, "Offline test: a second rifle.")
    expect(page.locator("#outbox [data-count]")).to_have_text("2")
    expect(page.locator("#outbox li").first).to_contain_text("Offline test")
    assert not Incident.objects.filter(narrative__startswith="Offline test").exists()

    # The page closed and opened again, still without a network: the records are still there.
    page.close()
    page = context.new_page()
    page.goto(f"{live_server.url}/incidents/new")
    expect(page.locator("#outbox [data-count]")).to_have_text("2")

    context.set_offline(False)
    expect(page.locator("#outbox")).to_be_hidden()
    sent = Incident.objects.filter(narrative__startswith="Offline test")
    assert sorted(sent.values_list("narrative", flat=True)) == [
        "Offline test: a rifle on patrol.",
        "Offline test: a second rifle.",
    ]
    assert sent.get(narrative__contains="patrol").photos.count() == 1
    assert all(incident.weapons.count() == 1 for incident in sent)


def _click_and_answer_the_question(page: Page, selector: str, *, accept: bool) -> str:
    """Click, and answer the confirm() the click opens; return its question. A confirm
    holds the page until it is answered, so the answer is given by the handler itself."""
    questions: list[str] = []

    def answer(dialog) -> None:
        questions.append(dialog.message)
        if accept:
            dialog.accept()
        else:
            dialog.dismiss()

    page.once("dialog", answer)
    page.click(selector)
    for _ in range(600):  # the question comes after an asynchronous count: up to 60 s
        if questions:
            return questions[0]
        page.wait_for_timeout(100)
    raise AssertionError(f"clicking {selector} asked nothing")


def test_signing_out_asks_about_records_not_sent_then_wipes_them_from_the_device(
    page: Page, live_server, world
):
    """A lost phone must not hand records to its finder: signing out deletes the outbox,
    the service worker and its caches (Clear-Site-Data), after a warning when records typed
    without a network have not been sent."""
    sign_in(page, live_server, "reporter_alpha")
    _open_the_form_until_it_works_offline(page, live_server)
    context = page.context
    context.set_offline(True)
    page.reload()
    _record_on_the_form(page, "Sign-out test: typed on patrol, never sent.")
    expect(page.locator("#outbox [data-count]")).to_have_text("1")
    # Leave the form before the network returns, so that nothing sends the record.
    page.goto("about:blank")
    context.set_offline(False)
    page.goto(f"{live_server.url}/")

    question = _click_and_answer_the_question(page, "form[data-sign-out] button", accept=False)
    assert "has not been sent" in question
    expect(page.locator("form[data-sign-out]")).to_be_visible()  # still signed in
    assert page.evaluate(
        """async () => (await indexedDB.databases()).some((d) => d.name === "armsmonitor-outbox")"""
    )

    _click_and_answer_the_question(page, "form[data-sign-out] button", accept=True)
    expect(page.locator("header a[href='/accounts/login/']")).to_be_visible()
    left = page.evaluate(
        """async () => ({
            outbox: (await indexedDB.databases()).map((database) => database.name),
            caches: await caches.keys(),
            workers: (await navigator.serviceWorker.getRegistrations()).length,
        })"""
    )
    assert left == {"outbox": [], "caches": [], "workers": 0}

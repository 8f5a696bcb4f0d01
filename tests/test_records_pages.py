"""The record pages in the browser's place: entry with inline items, errors that name the
field and write nothing, the list with the shared filterset, the workflow buttons."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from incidents.models import Incident, TraceRequest, WeaponItem


def entry_data(world, **overrides) -> dict:
    alpha = world.records["alpha_draft_L1"].contingent
    data = {
        "contingent": alpha.pk,
        "kind": "checkpoint_seizure",
        "occurred_at": "2026-02-03T10:30",
        "date_precision": "day",
        "coordinates": "34NBK3182283135",
        "location_precision": "exact",
        "context": "criminal",
        "actor_type": "criminal_network",
        "actors": "",
        "narrative": "Two rifles in a truck at the Beloko checkpoint.",
        "source": "patrol",
        "source_reliability": "B",
        "releasability": "1",
        "external_reference": "",
    }
    for prefix in ("weapons", "ammunition", "persons"):
        data.update({f"{prefix}-TOTAL_FORMS": "0", f"{prefix}-INITIAL_FORMS": "0"})
    weapons = [
        {
            "category": "assault_rifle",
            "make": "Norinco",
            "model": "Type 56",
            "serial_number": "5612345",
            "quantity": "1",
            "condition": "serviceable",
            "disposition": "held",
            "country_of_manufacture": "CHN",
        },
        {
            "category": "craft_produced",
            "model": "shotgun",
            "quantity": "2",
            "condition": "unknown",
            "disposition": "held",
            "markings_altered": "on",
        },
    ]
    data["weapons-TOTAL_FORMS"] = str(len(weapons))
    for index, weapon in enumerate(weapons):
        data.update({f"weapons-{index}-{key}": value for key, value in weapon.items()})
    data.update(
        {
            "persons-TOTAL_FORMS": "1",
            "persons-0-role": "suspect",
            "persons-0-sex": "male",
            "persons-0-age_group": "adult",
            "persons-0-count": "2",
        }
    )
    data.update(overrides)
    return data


def test_a_reporter_records_a_seizure_with_two_weapons_and_an_mgrs_point(client, world):
    client.force_login(world.users["reporter_alpha"])

    response = client.post("/incidents/new", entry_data(world))

    assert response.status_code == 302
    incident = Incident.objects.get(narrative__startswith="Two rifles")
    assert response["Location"] == f"/incidents/{incident.pk}/"
    assert (round(incident.location.y, 4), round(incident.location.x, 4)) == (4.3671, 18.5837)
    assert sorted(incident.weapons.values_list("category", flat=True)) == [
        "assault_rifle",
        "craft_produced",
    ]
    assert incident.persons.get().count == 2
    assert incident.state == "draft" and incident.h3_cell is not None
    page = client.get(response["Location"]).content.decode()
    assert "Norinco Type 56" in page and "altered or obliterated" in page


@pytest.mark.parametrize(
    ("overrides", "field", "says"),
    [
        ({"coordinates": "118.5, 18.5"}, "coordinates", "swapped"),
        ({"coordinates": "somewhere"}, "coordinates", "Cannot read"),
        ({"occurred_at": "2999-01-01T00:00"}, "occurred_at", "in the future"),
        ({"occurred_at": "yesterday"}, "occurred_at", "Enter a valid date"),
        ({"weapons-0-category": "ray_gun"}, "weapons-0-category", "Select a valid choice"),
        ({"weapons-0-quantity": "-3"}, "weapons-0-quantity", "greater than or equal to"),
        ({"weapons-0-quantity": "5000000"}, "weapons-0-quantity", "less than or equal to"),
        ({"persons-0-count": "0"}, "persons-0-count", "greater than or equal to 1"),
    ],
)
def test_bad_entries_are_shown_on_their_field_and_nothing_is_written(
    client, world, overrides, field, says
):
    client.force_login(world.users["reporter_alpha"])
    before = (Incident.objects.count(), WeaponItem.objects.count())

    response = client.post("/incidents/new", entry_data(world, **overrides))

    assert response.status_code == 200
    page = response.content.decode()
    assert says in page
    assert f'name="{field}"' in page
    assert (Incident.objects.count(), WeaponItem.objects.count()) == before


def test_only_reporters_open_the_entry_page_and_only_for_their_contingents(client, world):
    client.force_login(world.users["verifier"])
    assert client.get("/incidents/new").status_code == 403
    client.force_login(world.users["reporter_alpha"])
    page = client.get("/incidents/new").content.decode()
    assert ">Alpha (MINUSCA)<" in page and "Bravo" not in page


def test_the_list_uses_the_shared_filterset_within_what_the_reader_may_see(client, world):
    client.force_login(world.users["reporter_alpha"])

    everything = client.get("/incidents/").context["page"].paginator.count
    drafts = client.get("/incidents/", {"state": "draft"}).context["page"]

    assert everything == 9  # own 3 in progress + 6 verified of the mission
    assert [incident.pk for incident in drafts] == [world.records["alpha_draft_L1"].pk]
    assert (
        client.get("/incidents/", {"state": "bogus"}).context["page"].paginator.count == everything
    )  # an invalid filter value filters nothing rather than failing


def test_submit_and_verify_through_the_buttons(client, world):
    incident = world.records["alpha_draft_L1"]
    client.force_login(world.users["reporter_alpha"])
    assert "Submit for verification" in client.get(f"/incidents/{incident.pk}/").content.decode()
    client.post(f"/incidents/{incident.pk}/submit")
    client.force_login(world.users["verifier"])
    client.post(f"/incidents/{incident.pk}/verify")

    incident.refresh_from_db()
    assert incident.state == "verified"
    history = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "Workflow state: Submitted → Verified" in history


def test_a_reader_cannot_post_a_transition_it_may_not_make(client, world):
    incident = world.records["alpha_submitted_L1"]
    client.force_login(world.users["mission_analyst"])
    assert client.post(f"/incidents/{incident.pk}/verify").status_code == 404  # not visible
    client.force_login(world.users["reporter_alpha"])
    assert client.post(f"/incidents/{incident.pk}/verify").status_code == 403


def test_photos_download_as_attachments_never_inline(client, world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    incident = world.records["alpha_draft_L1"]
    buffer = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(buffer, format="JPEG")
    client.force_login(world.users["reporter_alpha"])
    client.post(
        f"/incidents/{incident.pk}/photos",
        {"image": SimpleUploadedFile("truck.jpg", buffer.getvalue())},
    )
    photo = incident.photos.get()

    response = client.get(f"/incidents/photos/{photo.pk}")

    assert response["Content-Disposition"].startswith("attachment")
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    client.force_login(world.users["other_mission_analyst"])
    assert client.get(f"/incidents/photos/{photo.pk}").status_code == 404


def _weapon(world):
    from incidents.models import WeaponItem

    return WeaponItem.objects.create(
        incident=world.records["alpha_verified_L1"],
        category="assault_rifle",
        make="Norinco",
        serial_number="5600001",
    )


def test_custody_events_are_recorded_from_the_record_page(client, world):
    weapon = _weapon(world)
    incident = weapon.incident
    client.force_login(world.users["reporter_alpha"])

    client.post(
        f"/incidents/{incident.pk}/custody",
        {
            "weapon": weapon.pk,
            "kind": "stored",
            "occurred_at": "2025-03-01T09:00",
            "place": "Bangui weapons store",
        },
    )
    refused = client.post(
        f"/incidents/{incident.pk}/custody",
        {"weapon": weapon.pk, "kind": "destroyed", "occurred_at": "2025-03-05T09:00"},
        follow=True,
    )

    weapon.refresh_from_db()
    assert [e.kind for e in weapon.custody_events.all()] == ["stored"]
    assert weapon.disposition == "stored"
    assert "destruction method: Required for this event." in refused.content.decode()

    client.post(
        f"/incidents/{incident.pk}/custody",
        {
            "weapon": weapon.pk,
            "kind": "destroyed",
            "occurred_at": "2025-03-05T09:00",
            "destruction_method": "cutting",
            "witnessed_by": "UNMAS, national commission",
        },
    )
    weapon.refresh_from_db()
    assert weapon.disposition == "destroyed"
    assert weapon.custody_events.count() == 2


def test_a_trace_request_and_its_answer_are_recorded_and_checked(client, world):
    weapon = _weapon(world)
    incident = weapon.incident
    client.force_login(world.users["verifier"])

    client.post(
        f"/incidents/{incident.pk}/traces",
        {
            "weapon": weapon.pk,
            "addressee": "China (national point of contact)",
            "sent_on": "2025-04-01",
        },
    )
    trace = weapon.trace_requests.get()
    early = client.post(
        f"/incidents/{incident.pk}/traces/{trace.pk}/answer",
        {"answered_on": "2025-03-01", "diversion_established": "on", "diversion_country": "SDN"},
        follow=True,
    )
    assert "cannot come before the request was sent" in early.content.decode()
    client.post(
        f"/incidents/{incident.pk}/traces/{trace.pk}/answer",
        {
            "answered_on": "2025-06-01",
            "diversion_established": "on",
            "diversion_country": "sdn",
            "diversion_coordinates": "15.5, 32.56",
            "last_legal_end_user": "Armed forces of Sudan",
        },
    )

    trace.refresh_from_db()
    assert (trace.status, trace.diversion_established, trace.diversion_country) == (
        "answered",
        True,
        "SDN",
    )
    assert round(trace.diversion_point.y, 2) == 15.5
    client.force_login(world.users["mission_analyst"])
    assert (
        client.post(
            f"/incidents/{incident.pk}/traces",
            {"weapon": weapon.pk, "addressee": "x", "sent_on": "2025-04-01"},
        ).status_code
        == 403
    )


@pytest.mark.parametrize(
    ("coordinates", "chosen", "stored"),
    [
        ("34NBK3183", "exact", "1km"),
        ("4.4, 18.6", "exact", "10km"),
        ("4.39412, 18.55831", "exact", "exact"),
        ("4.39412, 18.55831", "10km", "10km"),
    ],
)
def test_a_coarsely_written_point_is_stored_with_its_coarse_precision(
    client, world, coordinates, chosen, stored
):
    client.force_login(world.users["reporter_alpha"])
    client.post(
        "/incidents/new", entry_data(world, coordinates=coordinates, location_precision=chosen)
    )
    assert Incident.objects.get(narrative__startswith="Two rifles").location_precision == stored


def test_each_pending_trace_gets_an_answer_form_with_ids_of_its_own(client, world):
    weapon = _weapon(world)
    first = TraceRequest.objects.create(weapon=weapon, addressee="China", sent_on="2025-04-01")
    second = TraceRequest.objects.create(weapon=weapon, addressee="Norinco", sent_on="2025-04-02")
    client.force_login(world.users["verifier"])

    page = client.get(f"/incidents/{weapon.incident.pk}/").content.decode()

    for trace in (first, second):
        assert f"/traces/{trace.pk}/answer" in page
        assert f'id="id_trace{trace.pk}_answered_on"' in page
    ids = re.findall(r'\sid="([^"]+)"', page)
    assert len(ids) == len(set(ids))


def _png(name: str, colour: str) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def test_photos_go_with_the_record_from_the_entry_form(client, world):
    client.force_login(world.users["reporter_alpha"])

    response = client.post(
        "/incidents/new",
        {**entry_data(world), "photos": [_png("a.png", "navy"), _png("b.png", "red")]},
    )

    assert response.status_code == 302
    incident = Incident.objects.get(narrative__startswith="Two rifles")
    assert incident.photos.count() == 2


def test_a_refused_photo_writes_nothing_and_names_the_photos_field(client, world):
    client.force_login(world.users["reporter_alpha"])
    not_an_image = SimpleUploadedFile("scan.png", b"%PDF-1.4 not an image", "image/png")

    response = client.post(
        "/incidents/new", {**entry_data(world), "photos": [_png("a.png", "navy"), not_an_image]}
    )

    assert response.status_code == 200
    page = response.content.decode()
    assert "Photos: scan.png: The file is not an image." in page
    assert not Incident.objects.filter(narrative__startswith="Two rifles").exists()
    assert not WeaponItem.objects.filter(serial_number="5612345").exists()


def test_save_and_submit_sends_the_record_for_verification(client, world):
    client.force_login(world.users["reporter_alpha"])

    response = client.post("/incidents/new", {**entry_data(world), "action": "submit"}, follow=True)

    incident = Incident.objects.get(narrative__startswith="Two rifles")
    assert incident.state == "submitted"
    assert "Record saved and submitted for verification." in response.content.decode()


def test_a_record_sent_twice_under_its_submission_key_exists_once(client, world):
    client.force_login(world.users["reporter_alpha"])
    data = {**entry_data(world), "submission": "6f1c0c1e-6f0e-4c1b-9d2a-1f3e5a7b9c0d"}

    first = client.post("/incidents/new", data)
    again = client.post("/incidents/new", data, HTTP_X_ENTRY_FORM="script")

    assert first.status_code == 302
    (incident,) = Incident.objects.filter(narrative__startswith="Two rifles")
    assert first["Location"] == f"/incidents/{incident.pk}/"
    assert again.status_code == 201
    assert again.json() == {"record": f"/incidents/{incident.pk}/"}
    # Another record under the same key is refused, naming why, and writes nothing.
    other = client.post("/incidents/new", {**data, "narrative": "Another seizure."})
    assert other.status_code == 200
    assert "Idempotency-Key was used for another request" in other.content.decode()
    assert not Incident.objects.filter(narrative="Another seizure.").exists()

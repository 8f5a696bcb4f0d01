"""The controlled list of manufacturers with their other names (issue 19; ISACS 05.30's
manufacturer mark, the IAFQ's counts by make), and photos that say which marks they show.

A weapon keeps its make as the reporter read it; the list names its manufacturer when the
record is read, so an alias added later names the weapons already on record, whichever way
they were written (form, import, API, admin)."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.forms import modelform_factory

from incidents import services
from incidents.forms import TraceRequestForm
from incidents.models import Manufacturer, ManufacturerAlias, Photo, WeaponItem
from tests.test_audit import png_upload


def _weapon(world, make: str) -> WeaponItem:
    return WeaponItem.objects.create(
        incident=world.records["alpha_verified_L1"], category="assault_rifle", make=make
    )


def _manufacturer_of(weapon: WeaponItem) -> tuple:
    read = WeaponItem.objects.with_manufacturer().get(pk=weapon.pk)
    return read.manufacturer_name, read.manufacturer_country


def test_the_migrated_list_names_a_make_written_in_any_of_its_spellings_and_case(world):
    assert Manufacturer.objects.count() >= 30
    for make in ["Izhmash", " IZH ", "ижмаш", "Kalashnikov Concern"]:
        assert _manufacturer_of(_weapon(world, make)) == ("Kalashnikov Concern", "RUS"), make
    assert _manufacturer_of(_weapon(world, "Workshop of Bambari")) == (None, None)
    assert _manufacturer_of(_weapon(world, "")) == (None, None)


def test_an_alias_added_later_names_the_weapons_already_on_record(world):
    weapon = _weapon(world, "Ateliers de Bangui")
    assert _manufacturer_of(weapon) == (None, None)

    workshop = Manufacturer.objects.create(name="Manufacture d'armes de Bangui", country="CAF")
    ManufacturerAlias.objects.create(manufacturer=workshop, spelling="Ateliers de Bangui")

    assert _manufacturer_of(weapon) == ("Manufacture d'armes de Bangui", "CAF")


def test_one_spelling_names_one_manufacturer_and_the_admin_form_says_which(world):
    norinco = Manufacturer.objects.get(name="Norinco")
    # The admin's inline form for other names.
    form = modelform_factory(ManufacturerAlias, fields=["manufacturer", "spelling"])(
        {"manufacturer": norinco.pk, "spelling": " izhmash"}
    )

    assert not form.is_valid()
    assert "already names Kalashnikov Concern" in form.errors["spelling"][0]
    with pytest.raises(IntegrityError), transaction.atomic():
        ManufacturerAlias.objects.create(manufacturer=norinco, spelling="IZHMASH")


def test_the_api_and_the_record_page_give_the_manufacturer(client, world):
    weapon = _weapon(world, "Crvena Zastava")
    client.force_login(world.users["verifier"])

    rows = client.get(f"/api/v1/weapons?incident={weapon.incident_id}").json()["results"]
    detail = client.get(f"/api/v1/incidents/{weapon.incident_id}").json()
    page = client.get(f"/incidents/{weapon.incident_id}/").content.decode()

    assert {row["id"]: row["manufacturer"] for row in rows}[weapon.id] == "Zastava Arms"
    assert {row["id"]: row["manufacturer"] for row in detail["weapons"]}[weapon.id] == (
        "Zastava Arms"
    )
    assert "Crvena Zastava (Zastava Arms)" in page


def test_the_entry_form_suggests_every_spelling(client, world):
    client.force_login(world.users["reporter_alpha"])

    page = client.get("/incidents/new").content.decode()

    assert 'list="manufacturer-spellings"' in page
    assert '<option value="Izhmash">' in page and '<option value="Norinco">' in page


# --- photos of marks ---------------------------------------------------------------------


def test_a_photo_says_which_marks_it_shows_and_the_trace_form_lists_it_so(client, world):
    incident = world.records["alpha_draft_L1"]
    weapon = WeaponItem.objects.create(incident=incident, category="pistol", serial_number="P7")
    client.force_login(world.users["reporter_alpha"])

    response = client.post(
        f"/incidents/{incident.pk}/photos",
        {"image": png_upload("serial.png"), "weapon": weapon.pk, "shows": ["serial", "import"]},
    )

    assert response.status_code == 302
    photo = Photo.objects.get(original_name="serial.png")
    assert (photo.weapon_id, photo.shows) == (weapon.pk, ["import", "serial"])
    page = client.get(f"/incidents/{incident.pk}/").content.decode()
    assert "serial.png</a> — Import mark, Serial number" in page
    choices = dict(TraceRequestForm(incident=incident).fields["photos"].choices)
    assert "serial.png (Import mark, Serial number)" in [str(label) for label in choices.values()]


def test_a_photo_subject_outside_the_list_is_refused(client, world):
    incident = world.records["alpha_draft_L1"]
    client.force_login(world.users["reporter_alpha"])

    client.post(
        f"/incidents/{incident.pk}/photos", {"image": png_upload("x.png"), "shows": ["selfie"]}
    )

    assert not Photo.objects.filter(original_name="x.png").exists()
    with pytest.raises(ValidationError):
        services.photo_attach(
            incident=incident,
            by=world.users["reporter_alpha"],
            upload=png_upload("y.png"),
            shows=["selfie"],
        )
    assert not Photo.objects.filter(original_name="y.png").exists()

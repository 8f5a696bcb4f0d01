"""A record's whole history (issue 21): every change to the incident and to each of its
parts listed once, with who and when, labelled in the reader's language; nothing listed
where nothing changed; and nothing in it the reader may not see of the record."""

import io
from datetime import date, timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation
from PIL import Image

from incidents.custody import custody_event_append
from incidents.models import AmmunitionItem, Incident, PersonsInvolved, WeaponItem
from incidents.origins import IllicitOrigin
from incidents.record_history import record_history
from incidents.services import photo_attach
from incidents.trace_requests import TraceRequest

pytestmark = pytest.mark.django_db


def _png() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "navy").save(buffer, format="PNG")
    return SimpleUploadedFile("rifle.png", buffer.getvalue(), content_type="image/png")


@pytest.fixture
def edited(world):
    """A record of Alpha's, edited in every part."""
    incident = world.records["alpha_draft_L1"]
    reporter = world.users["reporter_alpha"]
    rifle = WeaponItem.objects.create(
        incident=incident, category="assault_rifle", serial_number="56-100568"
    )
    WeaponItem.objects.create(incident=incident, category="revolver_pistol")
    rifle.serial_number = "56-100569"
    rifle.save()
    rifle.save()  # saved again, nothing changed
    AmmunitionItem.objects.create(incident=incident, calibre="7.62x39", quantity=30)
    people = PersonsInvolved.objects.create(
        incident=incident, role="suspect", sex="male", age_group="adult", count=2
    )
    people.count = 3
    people.save()
    trace = TraceRequest.objects.create(weapon=rifle, addressee="China", sent_on=date(2025, 4, 1))
    trace.status = "answered"
    trace.save()
    IllicitOrigin.objects.create(
        weapon=rifle,
        method="authority",
        kind="state_stocks",
        established_by="a commission",
        established_on=date(2025, 5, 1),
    )
    custody_event_append(
        weapon=rifle, by=reporter, kind="stored", occurred_at=timezone.now() - timedelta(days=1)
    )
    photo_attach(incident=incident, by=reporter, upload=_png(), weapon=rifle)
    incident.gbv_link = True
    incident.narrative = "Corrected narrative."
    incident.save()
    return incident


def _lines(entries) -> list[str]:
    return [
        f"{entry.part} | {entry.type} | "
        + "; ".join(f"{change.field}: {change.old} → {change.new}" for change in entry.fields)
        for entry in entries
    ]


def test_every_part_changed_is_listed_once_with_labels(edited):
    lines = _lines(record_history(edited, location_is_exact=True, gender_data=True))

    assert "Weapon 1 (Assault rifles) | Changed | serial number: 56-100568 → 56-100569" in lines
    # Saved again unchanged: no second change of the rifle (its other change is the custody
    # event's: stored, its disposition follows).
    assert sum("serial number" in line for line in lines) == 1
    assert (
        "Weapon 1 (Assault rifles) | Changed | current disposition: Held by the reporting unit"
        " → In storage" in lines
    )
    assert sum(line.startswith("Weapon 1 (Assault rifles) | Created") for line in lines) == 1
    assert sum(line.startswith("Weapon 2 (Revolvers") for line in lines) == 1
    assert sum(line.startswith("Ammunition 1 | Created") for line in lines) == 1
    assert "People involved (Suspect) | Changed | number of people: 2 → 3" in lines
    trace_changes = [line for line in lines if line.startswith("Trace request")]
    assert len(trace_changes) == 2
    trace = TraceRequest.objects.get(weapon__incident=edited)
    assert (
        f"Trace request {trace.pk} of weapon 1 | Changed | status: Sent → Answered: traced" in lines
    )
    assert any(line.startswith("Illicit origin of weapon 1 | Created") for line in lines)
    assert "Custody of weapon 1 | Recorded | event:  → Stored" in lines
    assert "Photo rifle.png | Added | " in lines
    (record_change,) = [line for line in lines if line.startswith("Record | Changed")]
    assert "narrative:" in record_change and "Corrected narrative." in record_change
    assert "linked to gender-based violence: no → yes" in record_change
    # Newest first.
    entries = record_history(edited, location_is_exact=True, gender_data=True)
    assert [entry.when for entry in entries] == sorted((e.when for e in entries), reverse=True)


def test_the_history_is_in_the_readers_language(edited):
    with translation.override("fr"):
        lines = _lines(record_history(edited, location_is_exact=True, gender_data=True))

    assert "Arme 1 (Fusils d'assaut) | Modifié | numéro de série: 56-100568 → 56-100569" in lines
    assert "Personnes impliquées (Suspect) | Modifié | nombre de personnes: 2 → 3" in lines
    assert "Garde de l'arme 1 | Consigné | événement:  → Stocké" in lines
    assert any(line.startswith("Fiche | Modifié") for line in lines)


def test_a_reader_without_gender_data_sees_neither_the_people_nor_the_gbv_link(edited):
    lines = _lines(record_history(edited, location_is_exact=True, gender_data=False))

    assert not any(line.startswith("People involved") for line in lines)
    assert not any("gender-based violence" in line for line in lines)
    assert any("Corrected narrative." in line for line in lines)


def test_a_reader_of_generalised_locations_sees_no_change_of_the_point(world):
    incident: Incident = world.records["alpha_draft_L1"]
    incident.location = incident.location.clone()
    incident.location.x += 0.01
    incident.save()

    exact = _lines(record_history(incident, location_is_exact=True, gender_data=True))
    generalised = _lines(record_history(incident, location_is_exact=False, gender_data=True))

    assert any("location:" in line for line in exact)
    assert not any("location" in line for line in generalised)

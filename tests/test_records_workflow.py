"""Writing records: drafts, the workflow, withdrawal, history, duplicates, custody, photos."""

import io
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction
from django.utils import timezone
from PIL import Image

from incidents.choices import WorkflowState
from incidents.custody import custody_chains_verify, custody_event_append
from incidents.models import CustodyEvent, Incident, WeaponItem
from incidents.services import (
    incident_return,
    incident_save,
    incident_submit,
    incident_verify,
    incident_withdraw,
    photo_attach,
)


def new_draft(world, by="reporter_alpha", **fields) -> Incident:
    contingent = world.records["alpha_draft_L1"].contingent
    defaults = {
        "kind": "checkpoint_seizure",
        "context": "criminal",
        "occurred_at": datetime(2026, 3, 1, 8, 0, tzinfo=UTC),
        "location": Point(18.558, 4.394, srid=4326),
    }
    incident = Incident(contingent=contingent, **{**defaults, **fields})
    return incident_save(by=world.users[by], incident=incident)


def test_a_reporter_creates_a_draft_of_its_contingent_with_derived_cell(world):
    incident = new_draft(world)

    assert incident.state == WorkflowState.DRAFT
    assert incident.mission == incident.contingent.mission
    assert incident.reported_by == world.users["reporter_alpha"]
    assert incident.h3_cell is not None
    assert incident.history.get().history_user == world.users["reporter_alpha"]


def test_a_reporter_cannot_create_for_another_contingent(world):
    contingent = world.records["bravo_draft_L5"].contingent
    incident = Incident(
        kind="cache_discovery",
        context="other",
        contingent=contingent,
        occurred_at=timezone.now(),
        location=Point(18.5, 4.4),
    )
    with pytest.raises(PermissionDenied):
        incident_save(by=world.users["reporter_alpha"], incident=incident)
    assert not Incident.objects.filter(contingent=contingent, kind="cache_discovery").exists()


@pytest.mark.parametrize("persona", ["verifier", "mission_analyst", "admin", "nobody"])
def test_only_reporters_create_records(world, persona):
    with pytest.raises(PermissionDenied):
        new_draft(world, by=persona)


def test_a_date_in_the_future_is_refused_naming_the_field(world):
    with pytest.raises(ValidationError) as raised:
        new_draft(world, occurred_at=timezone.now() + timedelta(days=2))
    assert "occurred_at" in raised.value.message_dict


def test_draft_to_submitted_to_verified_by_the_allowed_roles(world):
    incident = new_draft(world)
    with pytest.raises(PermissionDenied):
        incident_verify(incident=incident, by=world.users["verifier"])  # not submitted yet

    incident_submit(incident=incident, by=world.users["reporter_alpha"])
    with pytest.raises(PermissionDenied):
        incident_verify(incident=incident, by=world.users["reporter_alpha"])
    incident_verify(incident=incident, by=world.users["verifier"])

    incident.refresh_from_db()
    assert incident.state == WorkflowState.VERIFIED
    assert [h.state for h in incident.history.order_by("history_date")] == [
        "draft",
        "submitted",
        "verified",
    ]
    assert [h.history_user.username for h in incident.history.order_by("history_date")] == [
        "reporter_alpha",
        "reporter_alpha",
        "verifier",
    ]


def test_a_returned_record_carries_the_comment_and_can_be_corrected_and_resubmitted(world):
    incident = new_draft(world)
    incident_submit(incident=incident, by=world.users["reporter_alpha"])
    with pytest.raises(ValidationError):
        incident_return(incident=incident, by=world.users["verifier"], comment="  ")

    incident_return(incident=incident, by=world.users["verifier"], comment="Serial missing")
    incident.narrative = "Serial number added."
    incident_save(by=world.users["reporter_alpha"], incident=incident)
    incident_submit(incident=incident, by=world.users["reporter_alpha"])

    incident.refresh_from_db()
    assert incident.state == WorkflowState.SUBMITTED
    assert incident.return_comment == "Serial missing"
    changed = incident.history.order_by("history_date")
    diff = changed[3].diff_against(changed[2])
    assert [(c.field, c.old, c.new) for c in diff.changes] == [
        ("narrative", "", "Serial number added.")
    ]


def test_a_submitted_record_cannot_be_edited_by_its_reporter(world):
    incident = new_draft(world)
    incident_submit(incident=incident, by=world.users["reporter_alpha"])
    incident.narrative = "late change"
    with pytest.raises(PermissionDenied):
        incident_save(by=world.users["reporter_alpha"], incident=incident)


def test_withdrawal_needs_a_reason_and_keeps_the_record(world):
    incident = new_draft(world)
    with pytest.raises(ValidationError):
        incident_withdraw(incident=incident, by=world.users["reporter_alpha"], reason="")
    with pytest.raises(PermissionDenied):
        incident_withdraw(incident=incident, by=world.users["reporter_bravo"], reason="x")

    incident_withdraw(incident=incident, by=world.users["reporter_alpha"], reason="Duplicate")

    incident.refresh_from_db()
    assert incident.withdrawn_at is not None and incident.withdrawn_reason == "Duplicate"


def test_an_item_with_the_same_make_and_serial_is_flagged_and_linked(world):
    first = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L1"],
        category="assault_rifle",
        make="Norinco",
        serial_number="56-1234567",
    )
    second = WeaponItem.objects.create(
        incident=world.records["charlie_verified_L5"],
        category="assault_rifle",
        make="NORINCO",
        serial_number="56-1234567",
    )
    other = WeaponItem.objects.create(
        incident=world.records["charlie_verified_L5"],
        category="assault_rifle",
        make="Izhmash",
        serial_number="56-1234567",
    )

    assert list(first.possible_duplicates()) == [second]
    assert list(second.possible_duplicates()) == [first]
    assert not WeaponItem(make="X").possible_duplicates().exists()
    assert other not in first.possible_duplicates()


# --- chain of custody --------------------------------------------------------------


def _chain(world):
    weapon = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L1"], category="assault_rifle", make="Norinco"
    )
    start = timezone.now() - timedelta(days=10)
    for offset, kind, extra in [
        (0, "documented", {}),
        (1, "stored", {"place": "Bangui depot"}),
        (5, "destroyed", {"destruction_method": "cut", "witnessed_by": "UNMAS officer"}),
    ]:
        custody_event_append(
            weapon=weapon,
            by=world.users["reporter_alpha"],
            kind=kind,
            occurred_at=start + timedelta(days=offset),
            **extra,
        )
    return weapon


def test_custody_events_chain_by_hash_and_verify(world):
    weapon = _chain(world)

    events = list(weapon.custody_events.order_by("sequence"))
    assert [e.sequence for e in events] == [1, 2, 3]
    assert events[0].previous_hash == "0" * 64
    assert [e.previous_hash for e in events[1:]] == [e.hash for e in events[:-1]]
    assert custody_chains_verify() == []
    call_command("verify_custody_chains")


def test_custody_events_cannot_be_changed_or_deleted(world):
    weapon = _chain(world)
    event = weapon.custody_events.first()
    event.place = "elsewhere"
    with pytest.raises(DatabaseError), transaction.atomic():
        event.save()
    with pytest.raises(DatabaseError), transaction.atomic():
        CustodyEvent.objects.filter(pk=event.pk).delete()


def test_a_tampered_chain_is_detected(world):
    weapon = _chain(world)
    with connection.cursor() as cursor:  # someone with the database superuser's rights
        cursor.execute("SET LOCAL session_replication_role = replica")  # triggers off
        cursor.execute(
            "UPDATE incidents_custodyevent SET witnessed_by = 'nobody' "
            "WHERE weapon_id = %s AND sequence = 3",
            [weapon.pk],
        )
        cursor.execute(
            "DELETE FROM incidents_custodyevent WHERE weapon_id = %s AND sequence = 2", [weapon.pk]
        )
        cursor.execute("SET LOCAL session_replication_role = origin")

    problems = custody_chains_verify()

    assert problems == [
        f"weapon {weapon.pk}, event 3: expected event 2 (an event is missing)",
        f"weapon {weapon.pk}, event 3: does not follow the event before it",
        f"weapon {weapon.pk}, event 3: its content or hash was changed after it was recorded",
        f"weapon {weapon.pk}: event 2, which the head log recorded, is missing",
    ]
    with pytest.raises(CommandError, match="4 problems"):
        call_command("verify_custody_chains")


def test_only_the_contingent_or_verifier_records_custody(world):
    weapon = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L1"], category="mortar"
    )
    with pytest.raises(PermissionDenied):
        custody_event_append(
            weapon=weapon,
            by=world.users["reporter_bravo"],
            kind="stored",
            occurred_at=timezone.now(),
        )
    custody_event_append(
        weapon=weapon, by=world.users["verifier"], kind="stored", occurred_at=timezone.now()
    )
    assert weapon.custody_events.count() == 1


# --- photos ------------------------------------------------------------------------


def _png(width=40, height=30) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "olive").save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_photo_is_checked_reencoded_and_stored_under_its_hash(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    incident = world.records["alpha_draft_L1"]

    photo = photo_attach(
        incident=incident,
        by=world.users["reporter_alpha"],
        upload=SimpleUploadedFile("../../etc/passwd.png", _png()),
    )

    assert photo.content_type == "image/png"
    assert photo.image.name == f"photos/{photo.sha256[:2]}/{photo.sha256}.png"
    assert photo.original_name == "passwd.png"  # the path part never reaches the disk
    with Image.open(photo.image.path) as stored:
        assert stored.size == (40, 30)


def test_the_same_photo_sent_twice_is_kept_once(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    incident = world.records["alpha_draft_L1"]
    reporter = world.users["reporter_alpha"]
    photo_attach(incident=incident, by=reporter, upload=SimpleUploadedFile("a.png", _png()))

    with pytest.raises(ValidationError) as raised:
        photo_attach(incident=incident, by=reporter, upload=SimpleUploadedFile("b.png", _png()))

    assert "already attached" in raised.value.message_dict["image"][0]
    assert incident.photos.count() == 1
    assert len(list((tmp_path / "photos").rglob("*.png"))) == 1
    # Another photo, or the same one on another record, is still taken.
    photo_attach(incident=incident, by=reporter, upload=SimpleUploadedFile("c.png", _png(41)))
    other = world.records["alpha_returned_L1"]
    photo_attach(incident=other, by=reporter, upload=SimpleUploadedFile("a.png", _png()))
    assert incident.photos.count() == 2 and other.photos.count() == 1


@pytest.mark.parametrize(
    ("content", "says"),
    [
        (b"%PDF-1.7 not an image", "not an image"),
        (b"<html><script>alert(1)</script></html>", "not an image"),
        (_png()[:60], "not an image"),
    ],
)
def test_a_file_that_is_not_an_image_is_refused(world, settings, tmp_path, content, says):
    settings.MEDIA_ROOT = tmp_path
    with pytest.raises(ValidationError) as raised:
        photo_attach(
            incident=world.records["alpha_draft_L1"],
            by=world.users["reporter_alpha"],
            upload=SimpleUploadedFile("seizure.jpg", content),
        )
    assert says in raised.value.message_dict["image"][0]
    assert not list(tmp_path.rglob("*.*"))

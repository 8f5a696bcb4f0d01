"""A hit on every write: a weapon recorded through the entry service, the API or the
import is checked by a real Celery worker against the registry once its transaction
commits, and a registry entry written later against the seizures already on record. The
database queues what is written (triggers `incidents_weaponitem_serials`,
`incidents_registryserial_queue`), so a write that asks no one is found by the next check.
Who is told, and what each is shown of the other side."""

import csv
import io
import json
from datetime import UTC, date, datetime

import pytest
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from incidents.choices import Context, IncidentKind, NotificationKind, WeaponCategory
from incidents.imports.importer import import_job_create
from incidents.models import HitCheck, Incident, Notification, RegistryEntry, WeaponHit
from incidents.notifications import notifications_shown
from incidents.registry.choices import Circumstance, HitState, ReportingBodyKind
from incidents.registry.hits import hits_check
from incidents.registry.services import hit_decide, registry_entry_create
from incidents.services import incident_create_with_items
from organisations.choices import Releasability, Role
from organisations.models import Membership
from tests.waiting import wait_for

WORKER = pytest.mark.usefixtures("celery_worker_process")


def _register(world, serial: str, *, persona: str = "verifier", **fields) -> RegistryEntry:
    fields.setdefault("make", "Kalashnikov Concern")  # Izhmash and IZH are its other names
    entry = RegistryEntry(
        category=WeaponCategory.ASSAULT_RIFLE,
        circumstance=Circumstance.ATTACK,
        occurred_on=date(2025, 1, 5),
        place="Bria, MINUSCA base",
        country="CAF",
        reporting_body_kind=ReportingBodyKind.MISSION,
        reporting_body="MINUSCA JMAC",
        contact="jmac-minusca@example.org",
        mission=world.records["alpha_verified_L5"].mission,
        releasability=Releasability.MISSION_ONLY,
        **fields,
    )
    return registry_entry_create(
        by=world.users[persona], entry=entry, serials=[{"component": "frame", "serial": serial}]
    )


def _monusco_reporter(world):
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user("reporter_charlie")
    Membership.objects.create(
        user=user, role=Role.REPORTER, contingent=world.records["charlie_draft_L5"].contingent
    )
    verifier = get_user_model().objects.create_user("verifier_monusco")
    Membership.objects.create(
        user=verifier, role=Role.VERIFIER, mission=world.records["charlie_draft_L5"].mission
    )
    return user, verifier


def _seize(world, by, serial: str) -> Incident:
    contingent = by.memberships.get().contingent
    return incident_create_with_items(
        by=by,
        incident=Incident(
            kind=IncidentKind.CHECKPOINT_SEIZURE,
            context=Context.CRIMINAL,
            occurred_at=datetime(2026, 2, 1, 8, tzinfo=UTC),
            location=Point(29.22, -1.68, srid=4326),
            contingent=contingent,
            releasability=Releasability.MISSION_ONLY,
        ),
        weapons=[
            {"category": WeaponCategory.ASSAULT_RIFLE, "make": "Izhmash", "serial_number": serial}
        ],
    )


@WORKER
@pytest.mark.django_db(transaction=True)
def test_a_weapon_recorded_through_the_service_hits_the_registry_and_tells_both_sides(world):
    entry = _register(world, "AK100200")
    reporter, monusco_verifier = _monusco_reporter(world)
    incident = _seize(world, reporter, "AK1OO2OO")
    hit = wait_for(lambda: WeaponHit.objects.filter(registry_entry=entry).first(), what="the hit")
    assert hit.weapon.incident_id == incident.pk
    assert (hit.reason, hit.state, hit.score) == ("confusable", HitState.NEW, 0.9)
    told = wait_for(
        lambda: (
            set(
                Notification.objects.filter(kind=NotificationKind.HIT, hit=hit).values_list(
                    "recipient__username", flat=True
                )
            )
            >= {"verifier", "verifier_monusco"}
            and set(
                Notification.objects.filter(hit=hit).values_list("recipient__username", flat=True)
            )
        ),
        what="the notifications",
    )
    assert "reporter_charlie" not in told  # the seizing reporter is not told
    # Each side sees only what it may: MINUSCA's verifier (the entry's owner) may not read
    # MONUSCO's draft, MONUSCO's verifier may not read MINUSCA's mission-only entry.
    for persona, says in (
        (world.users["verifier"], "A weapon you reported may have been seized; contact MONUSCO."),
        (
            monusco_verifier,
            "A weapon your mission seized may have been reported lost or stolen; contact "
            "MINUSCA JMAC (jmac-minusca@example.org).",
        ),
    ):
        notice = Notification.objects.get(hit=hit, recipient=persona)
        (shown,) = notifications_shown([notice], reader=persona)
        assert shown.text == says
        assert "AK1" not in shown.text and "Bria" not in shown.text
    (shown,) = notifications_shown(
        [Notification.objects.get(hit=hit, recipient=world.users["verifier"])],
        reader=world.users["admin"],
    )
    assert "AK1OO2OO" in shown.text and f"registry entry {entry.pk}" in shown.text


@WORKER
@pytest.mark.django_db(transaction=True)
def test_a_weapon_written_through_the_api_hits_the_registry(world, client):
    entry = _register(world, "AP778899")
    client.force_login(world.users["reporter_alpha"])
    response = client.post(
        "/api/v1/incidents",
        json.dumps(
            {
                "contingent": world.records["alpha_draft_L1"].contingent_id,
                "kind": "checkpoint_seizure",
                "occurred_at": "2026-03-01T08:00:00Z",
                "coordinates": "4.394, 18.558",
                "context": "criminal",
                "releasability": 3,
                "weapons": [{"category": "assault_rifle", "make": "", "serial_number": "AP77889"}],
            }
        ),
        content_type="application/json",
        HTTP_IDEMPOTENCY_KEY="registry-hit-1",
    )
    assert response.status_code == 201, response.content
    hit = wait_for(lambda: WeaponHit.objects.filter(registry_entry=entry).first(), what="hit")
    assert (hit.reason, hit.make_agreement, hit.score) == ("missing", "unknown", 0.56)


@WORKER
@pytest.mark.django_db(transaction=True)
def test_a_weapon_imported_from_a_file_hits_the_registry(countries_110m, world):
    entry = _register(world, "IM-445566")
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(
        [
            "external_reference",
            "occurred_at",
            "latitude",
            "longitude",
            "kind",
            "context",
            "releasability",
            "weapon_category",
            "weapon_make",
            "weapon_serial_number",
            "weapon_quantity",
        ]
    )
    writer.writerow(
        [
            "REG-1",
            "2025-06-01T08:30",
            "4.394",
            "18.558",
            "checkpoint_seizure",
            "criminal",
            "1",
            "assault_rifle",
            "IZH",
            "IM44556?",
            "1",
        ]
    )
    upload = SimpleUploadedFile("seizures.csv", text.getvalue().encode())
    job = import_job_create(
        upload=upload,
        file_format="csv",
        contingent=world.records["alpha_draft_L1"].contingent,
        by=world.users["reporter_alpha"],
    )
    assert job.state == "done", job.report
    hit = wait_for(lambda: WeaponHit.objects.filter(registry_entry=entry).first(), what="hit")
    assert hit.reason == "unreadable" and hit.weapon_serial == "IM44556?"


@WORKER
@pytest.mark.django_db(transaction=True)
def test_a_registry_entry_written_later_hits_the_seizures_on_record(world):
    reporter, _verifier = _monusco_reporter(world)
    incident = _seize(world, reporter, "LT550011")
    wait_for(lambda: not HitCheck.objects.exists(), what="the seizure checked")
    entry = _register(world, "LT-55-00-11")
    hit = wait_for(lambda: WeaponHit.objects.filter(registry_entry=entry).first(), what="hit")
    assert hit.weapon.incident_id == incident.pk and hit.reason == "exact"


@pytest.mark.django_db
def test_a_raw_sql_write_is_queued_and_found_by_the_next_check(world):
    entry = _register(world, "RW123123")
    weapon_id = world.records["alpha_verified_L5"].pk
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_weaponitem SET serial_number = 'RW123123' WHERE incident_id = %s",
            [weapon_id],
        )
    assert hits_check() == 0  # the incident had no weapons: nothing written
    from incidents.models import WeaponItem

    WeaponItem.objects.create(
        incident=world.records["bravo_verified_L4"], category="shotgun", serial_number="x"
    )
    with connection.cursor() as cursor:
        cursor.execute("UPDATE incidents_weaponitem SET serial_number = 'RW123123'")
    assert HitCheck.objects.exists()
    assert hits_check() == 1
    assert WeaponHit.objects.get().registry_entry_id == entry.pk
    assert not HitCheck.objects.exists()
    assert hits_check() == 0  # found once: the pair is recorded once


@pytest.mark.django_db
def test_seizures_of_one_weapon_in_two_missions_hit_each_other_once(world):
    from incidents.models import WeaponItem

    first = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L5"], category="shotgun", serial_number="SG90817"
    )
    second = WeaponItem.objects.create(
        incident=world.records["charlie_verified_L5"], category="shotgun", serial_number="SG9O817"
    )
    assert hits_check() == 1
    hit = WeaponHit.objects.get()
    assert (hit.weapon_id, hit.other_weapon_id, hit.reason) == (second.pk, first.pk, "confusable")
    WeaponItem.objects.filter(pk=first.pk).update(model="changed")  # not its serial
    assert not HitCheck.objects.exists()


@pytest.mark.django_db
def test_bad_registry_entries_are_refused_naming_the_field_and_nothing_is_written(world):
    with pytest.raises(ValidationError) as refused:
        _register(world, "")
    assert "serials" in refused.value.message_dict
    with pytest.raises(ValidationError) as refused:
        registry_entry_create(
            by=world.users["verifier"],
            entry=RegistryEntry(
                category="not-a-category",
                circumstance=Circumstance.LOSS,
                occurred_on=date(2025, 1, 1),
                country="XXX",
                reporting_body_kind=ReportingBodyKind.MISSION,
                reporting_body="",
                contact="",
                mission=world.records["alpha_verified_L5"].mission,
                releasability=Releasability.MISSION_ONLY,
            ),
            serials=[{"component": "frame", "serial": "A1"}],
        )
    assert {"category", "country", "reporting_body", "contact"} <= set(refused.value.message_dict)
    with pytest.raises(PermissionDenied):
        _register(world, "AB123456", persona="mission_analyst")
    assert not RegistryEntry.objects.exists()


@pytest.mark.django_db
def test_a_verifier_confirms_or_dismisses_a_hit_with_a_reason(world):
    from incidents.models import WeaponItem

    _register(world, "DS445566")
    WeaponItem.objects.create(
        incident=world.records["alpha_verified_L5"], category="shotgun", serial_number="DS445566"
    )
    hits_check()
    hit = WeaponHit.objects.get()
    with pytest.raises(ValidationError) as refused:
        hit_decide(hit=hit, by=world.users["verifier"], state=HitState.DISMISSED, reason=" ")
    assert "dismissal_reason" in refused.value.message_dict
    with pytest.raises(PermissionDenied):
        hit_decide(hit=hit, by=world.users["reporter_alpha"], state=HitState.CONFIRMED)
    decided = hit_decide(
        hit=hit, by=world.users["verifier"], state=HitState.DISMISSED, reason="Another batch."
    )
    assert (decided.state, decided.dismissal_reason) == ("dismissed", "Another batch.")


@pytest.mark.django_db
def test_an_agencys_hit_event_withholds_a_seizure_it_may_not_read(world):
    from incidents.models import WeaponItem
    from incidents.registry.hits import hit_agency_events

    agency = world.agencies["partner_agency"]  # MINUSCA from partner agencies up
    entry = _register(world, "AG556677", persona="admin", agency=agency)
    for record in ("charlie_verified_L1", "alpha_verified_L4"):
        WeaponItem.objects.create(
            incident=world.records[record], category="shotgun", serial_number="AG556677"
        )
    hits_check()
    events = {
        event.payload["held_by"]: event
        for event in hit_agency_events(WeaponHit.objects.filter(registry_entry=entry))
    }
    assert set(events) == {"MONUSCO", "MINUSCA"}
    withheld, shown = events["MONUSCO"].payload, events["MINUSCA"].payload
    assert (withheld["seizure_visible"], withheld["weapon"], withheld["incident"]) == (
        False,
        None,
        None,
    )
    assert shown["seizure_visible"] and shown["incident"] == world.records["alpha_verified_L4"].pk
    assert {event.agency for event in events.values()} == {agency}
    assert {event.event_type for event in events.values()} == {"registry.hit"}


@pytest.mark.django_db
def test_a_hit_on_an_agencys_entry_is_a_signed_webhook_delivery_to_its_endpoint(world, settings):
    from incidents.models import WeaponItem
    from organisations.models import WebhookDelivery
    from organisations.webhooks import webhook_endpoint_create

    settings.WEBHOOK_ALLOW_LOCAL = True
    agency = world.agencies["partner_agency"]
    webhook_endpoint_create(
        agency=agency, url="https://customs.example.org/hits", event_types=["registry.hit"]
    )
    entry = _register(world, "AG998877", persona="admin", agency=agency)
    WeaponItem.objects.create(
        incident=world.records["charlie_verified_L1"], category="shotgun", serial_number="AG998877"
    )
    hits_check()
    (delivery,) = WebhookDelivery.objects.filter(event_type="registry.hit")
    assert delivery.endpoint.agency == agency
    # MONUSCO's seizure is not the agency's to read: who holds it, nothing more.
    payload = json.loads(delivery.body)["payload"]
    assert (payload["held_by"], payload["incident"], payload["weapon"]) == ("MONUSCO", None, None)
    assert payload["registry_entry"] == entry.pk


@WORKER
@pytest.mark.django_db(transaction=True)
def test_a_weapon_recorded_in_the_entry_form_hits_the_registry(countries_110m, world, client):
    from tests.test_records_pages import entry_data

    entry = _register(world, "5612345", make="Norinco")
    client.force_login(world.users["reporter_alpha"])
    response = client.post("/incidents/new", entry_data(world))
    assert response.status_code == 302
    hit = wait_for(lambda: WeaponHit.objects.filter(registry_entry=entry).first(), what="hit")
    assert (hit.reason, hit.weapon_serial, hit.weapon.model) == ("exact", "5612345", "Type 56")


@pytest.mark.django_db
def test_a_corrected_serial_withdraws_its_undecided_hits_and_keeps_the_decided_ones(world):
    from incidents.models import WeaponItem

    _register(world, "CS102030")
    _register(world, "CS405060")
    undecided = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L5"], category="shotgun", serial_number="CS102030"
    )
    decided = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L4"], category="shotgun", serial_number="CS405060"
    )
    assert hits_check() == 2  # each weapon its registry entry
    hit = WeaponHit.objects.get(weapon=decided, registry_entry__isnull=False)
    hit_decide(hit=hit, by=world.users["verifier"], state=HitState.CONFIRMED)
    WeaponItem.objects.filter(pk=undecided.pk).update(serial_number="ZZ999999")
    WeaponItem.objects.filter(pk=decided.pk).update(serial_number="XK357135")
    hits_check()
    assert list(WeaponHit.objects.values_list("weapon_id", "state")) == [(decided.pk, "confirmed")]


@pytest.mark.django_db
def test_an_entry_updated_is_checked_again_and_only_by_its_missions_writers(world):
    from incidents.models import WeaponItem
    from incidents.registry.services import registry_entry_update

    entry = _register(world, "UP000111")
    weapon = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L5"], category="shotgun", serial_number="UP999888"
    )
    assert hits_check() == 0
    with pytest.raises(PermissionDenied):
        registry_entry_update(
            by=world.users["other_mission_analyst"],
            entry=entry,
            serials=[{"component": "frame", "serial": "UP999888"}],
        )
    entry.country = "ZZZ"
    with pytest.raises(ValidationError) as refused:
        registry_entry_update(
            by=world.users["verifier"], entry=entry, serials=[{"component": "frame", "serial": "x"}]
        )
    assert "country" in refused.value.message_dict
    entry.country = "CAF"
    registry_entry_update(
        by=world.users["reporter_alpha"],
        entry=entry,
        serials=[{"component": "frame", "serial": "UP999888"}],
    )
    assert hits_check() == 1
    assert WeaponHit.objects.get().weapon_id == weapon.pk

"""Trace requests as ISACS 05.31 and the International Tracing Instrument describe them
(issue 19): one serial per request, chained follow-ups, every status through the API, the
failure reason of a negative answer, and migration 0020 forward and back on a seeded
database. Real PostGIS; the personas of tests/personas.py (reporter_alpha reports for the
Alpha contingent, verifier verifies MINUSCA's records, mission_analyst only reads)."""

import json
from datetime import date

import pytest
from django.core.exceptions import ValidationError

from incidents.choices import TRACE_OUTCOMES, TraceFailureReason, TraceStatus
from incidents.demo import demo_dataset_create
from incidents.forms import TraceRequestForm
from incidents.models import Photo, TraceRequest, WeaponItem
from incidents.services import (
    trace_request_answer,
    trace_request_progress,
    trace_request_send,
)
from tests.migrating import migrate_to, migrate_to_latest
from tests.personas import build_world

API = "/api/v1/trace-requests"


def _weapon(world, *, quantity=1, serial="5600001", record="alpha_verified_L1") -> WeaponItem:
    return WeaponItem.objects.create(
        incident=world.records[record],
        category="assault_rifle",
        make="Norinco",
        model="Type 56",
        serial_number=serial,
        country_of_manufacture="CHN",
        quantity=quantity,
    )


def _send(world, weapon, **fields) -> TraceRequest:
    return trace_request_send(
        weapon=weapon,
        by=world.users["verifier"],
        addressee=fields.pop("addressee", "China (national point of contact)"),
        sent_on=fields.pop("sent_on", date(2025, 4, 1)),
        **fields,
    )


def _api_post(client, world, path, data, persona="verifier"):
    client.force_login(world.users[persona])
    return client.post(path, json.dumps(data), content_type="application/json")


# --- one serial per request ----------------------------------------------------------------


def test_the_service_refuses_a_trace_of_an_item_of_several_weapons(world):
    batch = _weapon(world, quantity=3)

    with pytest.raises(ValidationError) as refusal:
        _send(world, batch)

    assert "quantity 3" in refusal.value.message_dict["weapon"][0]
    assert not TraceRequest.objects.exists()


def test_the_form_refuses_a_trace_of_an_item_of_several_weapons(client, world):
    batch = _weapon(world, quantity=2)
    incident = batch.incident
    form = TraceRequestForm(
        {"weapon": batch.pk, "addressee": "China", "sent_on": "2025-04-01"}, incident=incident
    )
    assert not form.is_valid()
    assert "one weapon with one serial number" in form.errors["weapon"][0]

    client.force_login(world.users["verifier"])
    page = client.post(
        f"/incidents/{incident.pk}/traces",
        {"weapon": batch.pk, "addressee": "China", "sent_on": "2025-04-01"},
        follow=True,
    )
    assert page.status_code == 200
    assert "weapon: This item stands for 2 weapons" in page.content.decode()
    assert not TraceRequest.objects.exists()


def test_the_api_refuses_a_trace_of_an_item_of_several_weapons_naming_the_field(client, world):
    batch = _weapon(world, quantity=5)

    response = _api_post(
        client, world, API, {"weapon": batch.pk, "addressee": "China", "sent_on": "2025-04-01"}
    )

    assert response.status_code == 400, response.content
    assert list(response.json()) == ["weapon"]
    assert "quantity 5" in response.json()["weapon"][0]
    assert not TraceRequest.objects.exists()


# --- what the request says ----------------------------------------------------------------


def test_a_request_records_contacts_basis_use_handling_serials_and_photos(client, world):
    weapon = _weapon(world)
    photo = Photo.objects.create(
        incident=weapon.incident,
        weapon=weapon,
        image="photos/aa/test.jpg",
        original_name="receiver.jpg",
        content_type="image/jpeg",
        extension="jpg",
        size=10,
        sha256="a" * 64,
        uploaded_by=world.users["verifier"],
    )
    sent = {
        "weapon": weapon.pk,
        "reference": "MINUSCA/TR/2025/017",
        "addressee": "Ministry of Public Security",
        "addressee_country": "CHN",
        "requester_contact_name": "Maj. A. Diallo",
        "requester_contact_organisation": "MINUSCA JMAC tracing cell",
        "requester_contact_email": "tracing@minusca.example.org",
        "requester_contact_phone": "+236 70 00 00 00",
        "addressee_contact_name": "Desk officer",
        "addressee_contact_organisation": "National point of contact on tracing",
        "addressee_contact_email": "poc@example.cn",
        "addressee_contact_phone": "+86 10 0000 0000",
        "illicit_nature": "Seized from an armed group at a checkpoint.",
        "legal_basis": "Arms embargo resolution; ITI paragraph 17.",
        "intended_use": "Identify the point of diversion; report to the panel of experts.",
        "confidentiality": "confidential",
        "urgency": "urgent",
        "component_serials": [
            {"component": "barrel", "serial": "B5600001"},
            {"component": "bolt", "serial": "5600001"},
        ],
        "photos_sent": [photo.pk],
        "sent_on": "2025-04-01",
        "response_due_on": "2025-06-01",
    }

    response = _api_post(client, world, API, sent)

    assert response.status_code == 201, response.content
    answer = response.json()
    for field, value in sent.items():
        assert answer[field] == value, field
    assert answer["serial_number_sent"] == "5600001"  # the weapon's, when none is given
    assert answer["status"] == "sent"
    trace = TraceRequest.objects.get(pk=answer["id"])
    assert list(trace.photos_sent.all()) == [photo]
    # The record history keeps what the request said.
    assert trace.history.latest().legal_basis == sent["legal_basis"]
    assert [row.photo_id for row in trace.history.latest().photos_sent.all()] == [photo.pk]


def test_photos_of_another_record_are_not_sent_with_a_trace(world):
    weapon = _weapon(world)
    elsewhere = Photo.objects.create(
        incident=world.records["alpha_draft_L1"],
        image="photos/bb/other.jpg",
        original_name="other.jpg",
        content_type="image/jpeg",
        extension="jpg",
        size=10,
        sha256="b" * 64,
        uploaded_by=world.users["verifier"],
    )
    with pytest.raises(ValidationError) as refusal:
        _send(world, weapon, photos=[elsewhere])
    assert "photos_sent" in refusal.value.message_dict
    assert not TraceRequest.objects.exists()


# --- chains ---------------------------------------------------------------------------------


def test_follow_up_requests_chain_manufacturer_exporter_importer(world):
    weapon = _weapon(world)
    verifier = world.users["verifier"]
    manufacturer = _send(world, weapon, addressee="Manufacturer")
    trace_request_answer(
        trace=manufacturer,
        by=verifier,
        answered_on=date(2025, 5, 1),
        status=TraceStatus.PARTIALLY_TRACED,
        last_legal_end_user="Exported to a trading company",
    )
    exporter = _send(world, weapon, addressee="Exporting State", follows=manufacturer)
    trace_request_answer(
        trace=exporter,
        by=verifier,
        answered_on=date(2025, 6, 1),
        status=TraceStatus.FORWARDED,
        forwarded_to="Importing State",
    )
    importer = _send(world, weapon, addressee="Importing State", follows=exporter)
    unrelated = _send(world, weapon, addressee="Another manufacturer")

    assert importer.chain() == [manufacturer, exporter, importer]
    assert manufacturer.chain() == [manufacturer, exporter, importer]
    assert unrelated.chain() == [unrelated]
    assert list(manufacturer.follow_ups.all()) == [exporter]


def test_the_api_lists_a_requests_follow_ups_and_failures_by_reason(client, world):
    weapon = _weapon(world)
    first = _send(world, weapon, addressee="Manufacturer")
    trace_request_answer(
        trace=first,
        by=world.users["verifier"],
        answered_on=date(2025, 5, 1),
        status=TraceStatus.FORWARDED,
        forwarded_to="Exporting State",
    )
    second = _send(world, weapon, addressee="Exporting State", follows=first)
    trace_request_answer(
        trace=second,
        by=world.users["verifier"],
        answered_on=date(2025, 6, 1),
        status=TraceStatus.REFUSED,
        failure_reason=TraceFailureReason.REFUSED,
    )
    client.force_login(world.users["mission_analyst"])

    follow_ups = client.get(API, {"follows": first.pk}).json()["results"]
    refused = client.get(API, {"failure_reason": "refused"}).json()["results"]

    assert [(row["id"], row["follows"]) for row in follow_ups] == [(second.pk, first.pk)]
    assert [row["id"] for row in refused] == [second.pk]


def test_a_follow_up_must_concern_the_same_weapon(client, world):
    first = _send(world, _weapon(world))
    other_weapon = _weapon(world, serial="5600002")

    with pytest.raises(ValidationError) as refusal:
        _send(world, other_weapon, follows=first)
    assert "same weapon" in refusal.value.message_dict["follows"][0]

    response = _api_post(
        client,
        world,
        API,
        {
            "weapon": other_weapon.pk,
            "follows": first.pk,
            "addressee": "Exporter",
            "sent_on": "2025-05-01",
        },
    )
    assert response.status_code == 400
    assert "same weapon" in response.json()["follows"][0]
    assert TraceRequest.objects.count() == 1


# --- answers --------------------------------------------------------------------------------


def test_a_negative_answer_without_a_reason_is_refused(client, world):
    trace = _send(world, _weapon(world))

    for status in (TraceStatus.NO_RECORD, TraceStatus.REFUSED, TraceStatus.CLOSED_UNTRACED):
        with pytest.raises(ValidationError) as refusal:
            trace_request_answer(
                trace=trace, by=world.users["verifier"], answered_on=date(2025, 5, 1), status=status
            )
        assert "failure_reason" in refusal.value.message_dict
    response = _api_post(
        client,
        world,
        f"{API}/{trace.pk}/answer",
        {"answered_on": "2025-05-01", "status": "no_record"},
    )
    assert response.status_code == 400
    assert list(response.json()) == ["failure_reason"]
    trace.refresh_from_db()
    assert (trace.status, trace.answered_on) == ("sent", None)

    trace_request_answer(
        trace=trace,
        by=world.users["verifier"],
        answered_on=date(2025, 5, 1),
        status=TraceStatus.NO_RECORD,
        failure_reason=TraceFailureReason.NO_RECORD,
        failure_detail="No export licence on file for this serial.",
    )
    trace.refresh_from_db()
    assert (trace.status, trace.failure_reason) == ("no_record", "no_record")


def test_an_answer_cannot_come_before_the_request(client, world):
    trace = _send(world, _weapon(world))
    response = _api_post(
        client,
        world,
        f"{API}/{trace.pk}/answer",
        {"answered_on": "2025-03-01", "diversion_established": True, "diversion_country": "SDN"},
    )
    assert response.status_code == 400
    assert "answered_on" in response.json()


def test_only_a_trace_establishes_the_point_of_diversion(world):
    trace = _send(world, _weapon(world))
    with pytest.raises(ValidationError) as refusal:
        trace_request_answer(
            trace=trace,
            by=world.users["verifier"],
            answered_on=date(2025, 5, 1),
            status=TraceStatus.REFUSED,
            failure_reason=TraceFailureReason.REFUSED,
            diversion_established=True,
            diversion_country="SDN",
        )
    assert "diversion_established" in refusal.value.message_dict


@pytest.mark.parametrize("status", [code for code, _label in TraceStatus.choices])
def test_every_status_round_trips_through_the_api(client, world, status):
    weapon = _weapon(world)
    created = _api_post(
        client,
        world,
        API,
        {"weapon": weapon.pk, "addressee": "China", "sent_on": "2025-04-01"},
    )
    assert created.status_code == 201, created.content
    trace_id = created.json()["id"]
    if status != "sent":
        acknowledged = _api_post(
            client, world, f"{API}/{trace_id}/progress", {"acknowledged_on": "2025-04-10"}
        )
        assert acknowledged.status_code == 200, acknowledged.content
        assert acknowledged.json()["status"] == "acknowledged"
    if status in TRACE_OUTCOMES:
        answer = {"answered_on": "2025-05-01", "status": status}
        if status in ("answered", "partially_traced"):
            answer |= {
                "diversion_established": True,
                "diversion_country": "sdn",
                "diversion_coordinates": "15.5, 32.56",
                "transit_countries": ["ssd"],
                "last_legal_end_user": "Armed forces of Sudan",
            }
        if status in ("no_record", "refused", "closed_untraced"):
            answer |= {"failure_reason": "marking_illegible", "failure_detail": "Ground off."}
        if status == "forwarded":
            answer["forwarded_to"] = "Norinco (manufacturer)"
        answered = _api_post(client, world, f"{API}/{trace_id}/answer", answer)
        assert answered.status_code == 200, answered.content

    client.force_login(world.users["mission_analyst"])
    read = client.get(f"{API}/{trace_id}")
    assert read.status_code == 200
    shown = read.json()
    assert shown["status"] == status
    assert TraceRequest.objects.get(pk=trace_id).status == status
    assert shown["acknowledged_on"] == (None if status == "sent" else "2025-04-10")
    if status in ("answered", "partially_traced"):
        assert (shown["diversion_country"], shown["transit_countries"]) == ("SDN", ["SSD"])
        weapon.refresh_from_db()
        assert (weapon.origin_source, weapon.origin_country) == ("trace", "SDN")
    if status in ("no_record", "refused", "closed_untraced"):
        assert shown["failure_reason"] == "marking_illegible"
    listed = client.get(API, {"status": status}).json()["results"]
    assert [row["id"] for row in listed] == [trace_id]


def test_acknowledgement_reminder_and_deadline_are_recorded_with_their_checks(world):
    trace = _send(world, _weapon(world), response_due_on=date(2025, 6, 1))
    with pytest.raises(ValidationError) as refusal:
        trace_request_progress(
            trace=trace, by=world.users["verifier"], acknowledged_on=date(2025, 3, 1)
        )
    assert "acknowledged_on" in refusal.value.message_dict

    trace_request_progress(
        trace=trace,
        by=world.users["verifier"],
        acknowledged_on=date(2025, 4, 8),
        reminder_sent_on=date(2025, 6, 2),
        response_due_on=date(2025, 7, 1),
    )
    trace.refresh_from_db()
    assert (trace.status, trace.acknowledged_on, trace.reminder_sent_on, trace.response_due_on) == (
        "acknowledged",
        date(2025, 4, 8),
        date(2025, 6, 2),
        date(2025, 7, 1),
    )
    assert trace.history.count() == 2


def test_a_reader_cannot_send_a_trace_request_through_the_api(client, world):
    weapon = _weapon(world)
    response = _api_post(
        client,
        world,
        API,
        {"weapon": weapon.pk, "addressee": "China", "sent_on": "2025-04-01"},
        persona="mission_analyst",
    )
    assert response.status_code == 403
    assert not TraceRequest.objects.exists()


def test_the_record_page_shows_the_request_and_takes_its_acknowledgement(client, world):
    weapon = _weapon(world)
    trace = _send(world, weapon, reference="TR-17", urgency="urgent")
    client.force_login(world.users["verifier"])
    client.post(
        f"/incidents/{weapon.incident_id}/traces/{trace.pk}/progress",
        {"acknowledged_on": "2025-04-09"},
    )
    page = client.get(f"/incidents/{weapon.incident_id}/").content.decode()
    assert "TR-17" in page
    assert "Acknowledged by the addressee" in page
    assert f'id="id_trace{trace.pk}_failure_reason"' in page


# --- demo data ------------------------------------------------------------------------------


def test_demo_data_has_failed_chained_and_acknowledged_traces_and_no_negative_answered(db):
    demo_dataset_create(incidents=1500, seed=7)

    traces = TraceRequest.objects.all()
    assert not traces.filter(status="answered", diversion_established=False).exists()
    assert traces.filter(status__in=["no_record", "refused"]).exists()
    assert not traces.filter(
        status__in=["no_record", "refused", "closed_untraced"], failure_reason=""
    ).exists()
    assert traces.filter(status="acknowledged", acknowledged_on__isnull=False).exists()
    follow_up = traces.filter(follows__isnull=False).first()
    assert follow_up is not None
    assert follow_up.follows.weapon_id == follow_up.weapon_id
    assert follow_up.chain()[-1] == follow_up
    assert not traces.filter(weapon__quantity__gt=1).exists()


# --- migration 0020 -------------------------------------------------------------------------

BEFORE = [("incidents", "0019_importjob_language")]
AFTER = [("incidents", "0020_trace_requests_isacs")]


_migrate = migrate_to


@pytest.mark.django_db(transaction=True)
def test_migration_0020_maps_statuses_forward_and_back_keeping_counts():
    # Records made with today's models; the traces with the models of 0019.
    world = build_world()
    weapons = [_weapon(world, serial=f"56000{index}") for index in range(5)]
    try:
        old_apps = _migrate(BEFORE)
        OldTrace = old_apps.get_model("incidents", "TraceRequest")
        seeded = {
            "sent": dict(status="sent"),
            "traced": dict(
                status="answered",
                answered_on=date(2025, 5, 1),
                diversion_established=True,
                diversion_country="SDN",
                last_legal_end_user="Armed forces of Sudan",
            ),
            "partial": dict(
                status="answered",
                answered_on=date(2025, 5, 1),
                last_legal_end_user="Exported to a trading company",
            ),
            "negative": dict(status="answered", answered_on=date(2025, 5, 1)),
            "closed": dict(status="closed_untraced", answered_on=date(2025, 5, 1)),
        }
        ids = {}
        for weapon, (name, fields) in zip(weapons, seeded.items(), strict=True):
            ids[name] = OldTrace.objects.create(
                weapon_id=weapon.pk, addressee="China", sent_on=date(2025, 4, 1), **fields
            ).pk
        origins_before = sorted(
            WeaponItem.objects.values_list("id", "origin_source", "origin_country")
        )
        count_before = OldTrace.objects.count()

        new_apps = _migrate(AFTER)
        NewTrace = new_apps.get_model("incidents", "TraceRequest")
        after = {name: NewTrace.objects.get(pk=pk) for name, pk in ids.items()}
        assert {name: trace.status for name, trace in after.items()} == {
            "sent": "sent",
            "traced": "answered",
            "partial": "partially_traced",
            "negative": "no_record",
            "closed": "closed_untraced",
        }
        assert after["negative"].failure_reason == "no_record"
        assert after["closed"].failure_reason == "other"
        assert {trace.serial_number_sent for trace in after.values()} == {
            weapon.serial_number for weapon in weapons
        }
        assert NewTrace.objects.count() == count_before
        assert (
            sorted(WeaponItem.objects.values_list("id", "origin_source", "origin_country"))
            == origins_before
        )
        # Written after the migration: new statuses, mapped back too.
        NewTrace.objects.create(
            weapon_id=weapons[0].pk,
            addressee="Exporter",
            sent_on=date(2025, 6, 1),
            status="refused",
            failure_reason="refused",
        )

        old_apps = _migrate(BEFORE)
        OldTrace = old_apps.get_model("incidents", "TraceRequest")
        back = dict(OldTrace.objects.filter(pk__in=ids.values()).values_list("pk", "status"))
        assert {name: back[pk] for name, pk in ids.items()} == {
            name: fields["status"] for name, fields in seeded.items()
        }
        assert OldTrace.objects.count() == count_before + 1
        assert OldTrace.objects.exclude(pk__in=ids.values()).get().status == "closed_untraced"
        assert (
            sorted(WeaponItem.objects.values_list("id", "origin_source", "origin_country"))
            == origins_before
        )
    finally:
        migrate_to_latest()


# --- labels ---------------------------------------------------------------------------------


def test_every_trace_vocabulary_has_a_french_label():
    from django.utils import translation

    from incidents.choices import TraceConfidentiality, TraceUrgency

    for vocabulary in (TraceStatus, TraceFailureReason, TraceConfidentiality, TraceUrgency):
        english = [str(label) for _code, label in vocabulary.choices]
        with translation.override("fr"):
            french = [str(label) for _code, label in vocabulary.choices]
        assert all(a != b for a, b in zip(english, french, strict=True)), (vocabulary, french)
    with translation.override("fr"):
        assert str(TraceStatus.NO_RECORD.label).startswith("Réponse : aucune trace")

"""Writing through the API: a draft with its items in one request, under an idempotency key
(a retried request never makes a duplicate); bad bodies refused with a message naming the
problem; withdrawn records reported to incremental sync."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from incidents.api.idempotency import IDEMPOTENCY_KEY_LIFETIME, idempotency_keys_purge_expired
from incidents.choices import WorkflowState
from incidents.models import APIIdempotencyKey, Incident
from incidents.services import incident_withdraw
from tests.personas import build_world

URL = "/api/v1/incidents"


def body(world, **changes) -> dict:
    return {
        "contingent": world.records["alpha_draft_L1"].contingent_id,
        "kind": "checkpoint_seizure",
        "occurred_at": "2026-03-01T08:00:00Z",
        "coordinates": "4.394, 18.558",
        "context": "criminal",
        "releasability": 3,
        "narrative": "Two rifles and a pistol in a truck at the PK12 checkpoint.",
        "weapons": [
            {"category": "assault_rifle", "make": "Kalashnikov", "model": "AKM", "quantity": 2},
            {
                "category": "revolver_pistol",
                "make": "Makarov",
                "serial_number": "KA 1234",
                "country_of_manufacture": "RUS",
            },
        ],
        "ammunition": [{"calibre": "7.62x39mm", "quantity": 120}],
        "persons": [{"role": "suspect", "sex": "male", "age_group": "adult", "count": 2}],
        **changes,
    }


def post(client, world, persona, data, *, key="key-1", **headers):
    client.force_login(world.users[persona])
    if key is not None:
        headers["HTTP_IDEMPOTENCY_KEY"] = key
    content = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(
        URL, content, content_type=headers.pop("content_type", "application/json"), **headers
    )


def created(world) -> set[int]:
    known = {record.pk for record in world.records.values()}
    return set(Incident.objects.exclude(pk__in=known).values_list("pk", flat=True))


# --- creating a draft with its items ----------------------------------------------------------


def test_a_reporter_creates_a_draft_with_its_items_in_one_request(client, world):
    response = post(client, world, "reporter_alpha", body(world))

    assert response.status_code == 201, response.content
    answer = response.json()
    incident = Incident.objects.get(pk=answer["id"])
    assert incident.state == WorkflowState.DRAFT == answer["state"]
    assert incident.reported_by == world.users["reporter_alpha"]
    assert incident.mission == incident.contingent.mission
    assert incident.h3_cell is not None
    assert (round(incident.location.y, 3), round(incident.location.x, 3)) == (4.394, 18.558)
    assert incident.history.get().history_user == world.users["reporter_alpha"]
    assert [(w.category, w.quantity) for w in incident.weapons.all()] == [
        ("assault_rifle", 2),
        ("revolver_pistol", 1),
    ]
    assert (
        incident.weapons.get(make="Makarov").history.get().history_user
        == (world.users["reporter_alpha"])
    )
    assert incident.ammunition.get().quantity == 120
    assert incident.persons.get().count == 2
    assert [w["id"] for w in answer["weapons"]] == list(
        incident.weapons.values_list("id", flat=True)
    )
    assert answer["withdrawn_at"] is None
    assert "Idempotent-Replayed" not in response.headers


@pytest.mark.parametrize(
    ("location", "expected", "precision"),
    [
        ({"coordinates": "4°23'38.4\"N 18°33'28.8\"E"}, (4.394, 18.558), "exact"),
        ({"coordinates": "34NBK3182283135"}, (4.367, 18.584), "exact"),
        # A 1 km MGRS square is no more precise than that, whatever precision is claimed.
        ({"coordinates": "34NBK3183", "location_precision": "exact"}, (4.37, 18.581), "1km"),
        ({"latitude": 4.394, "longitude": 18.558}, (4.394, 18.558), "exact"),
    ],
)
def test_the_location_is_taken_in_every_notation_of_the_entry_form(
    client, world, location, expected, precision
):
    data = {key: value for key, value in body(world).items() if key != "coordinates"}
    response = post(client, world, "reporter_alpha", {**data, **location})

    assert response.status_code == 201, response.content
    incident = Incident.objects.get(pk=response.json()["id"])
    assert (round(incident.location.y, 3), round(incident.location.x, 3)) == expected
    assert incident.location_precision == precision


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"coordinates": None, "latitude": 4.4}, "longitude"),
        ({"coordinates": "95, 18"}, "coordinates"),
        ({"latitude": 4.4, "longitude": 18.5}, "coordinates"),
        ({"kind": "picnic"}, "kind"),
        ({"contingent": 999999}, "contingent"),
        ({"occurred_at": "yesterday"}, "occurred_at"),
    ],
)
def test_a_faulty_incident_field_is_a_400_naming_it(client, world, changes, field):
    data = {key: value for key, value in {**body(world), **changes}.items() if value is not None}
    response = post(client, world, "reporter_alpha", data)

    assert response.status_code == 400
    assert field in response.json()
    assert not created(world)


def test_item_errors_name_the_item_and_its_field_and_nothing_is_written(client, world):
    data = body(world)
    data["weapons"][1]["category"] = "slingshot"
    data["weapons"][0]["quantity"] = 0
    data["ammunition"][0]["headstamp_year"] = 1700

    response = post(client, world, "reporter_alpha", data)

    assert response.status_code == 400
    assert set(response.json()) == {
        "weapons[0].quantity",
        "weapons[1].category",
        "ammunition[0].headstamp_year",
    }
    assert "slingshot" in response.json()["weapons[1].category"][0]
    assert not created(world)


def test_the_services_rules_apply_a_future_date_and_twice_the_same_group_of_people(client, world):
    data = body(world, occurred_at=(timezone.now() + timedelta(days=2)).isoformat())
    data["persons"].append(dict(data["persons"][0]))

    response = post(client, world, "reporter_alpha", data)

    assert response.status_code == 400
    assert set(response.json()) == {"occurred_at", "persons[1]"}
    assert not created(world)
    assert not APIIdempotencyKey.objects.exists()


def test_a_reporter_cannot_create_for_another_contingent(client, world):
    data = body(world, contingent=world.records["bravo_draft_L5"].contingent_id)

    response = post(client, world, "reporter_alpha", data)

    assert response.status_code == 403
    assert "Bravo" in response.json()["detail"]
    assert not created(world)


@pytest.mark.parametrize("persona", ["verifier", "mission_analyst", "admin", "nobody"])
def test_only_reporters_create_records(client, world, persona):
    assert post(client, world, persona, body(world)).status_code == 403
    assert not created(world)


def test_agencies_and_anonymous_callers_cannot_write(client, world):
    key = world.api_keys["partner_agency"]
    as_agency = client.post(
        URL,
        json.dumps(body(world)),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {key}",
        HTTP_IDEMPOTENCY_KEY="k",
    )
    anonymous = Client().post(
        URL, json.dumps(body(world)), content_type="application/json", HTTP_IDEMPOTENCY_KEY="k"
    )

    assert as_agency.status_code == 403
    assert anonymous.status_code in (401, 403)
    assert not created(world)


def test_a_session_write_needs_the_csrf_token(world):
    browser = Client(enforce_csrf_checks=True)
    response = post(browser, world, "reporter_alpha", body(world))

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]
    assert not created(world)


# --- idempotency -----------------------------------------------------------------------------


def test_the_same_request_again_gets_the_stored_answer_and_makes_no_duplicate(client, world):
    first = post(client, world, "reporter_alpha", body(world), key="3f1c-retry")
    # The same content, its keys in another order: the same request.
    reordered = dict(reversed(list(body(world).items())))
    again = post(client, world, "reporter_alpha", reordered, key="3f1c-retry")

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(created(world)) == 1


def test_a_key_used_for_another_request_is_a_422(client, world):
    post(client, world, "reporter_alpha", body(world), key="used")
    response = post(client, world, "reporter_alpha", body(world, narrative="Other"), key="used")

    assert response.status_code == 422
    assert "another request" in response.json()["detail"]
    assert len(created(world)) == 1


def test_a_failed_request_leaves_its_key_free_for_the_corrected_one(client, world):
    refused = post(client, world, "reporter_alpha", body(world, kind="picnic"), key="fix-me")
    corrected = post(client, world, "reporter_alpha", body(world), key="fix-me")

    assert refused.status_code == 400
    assert corrected.status_code == 201
    assert "Idempotent-Replayed" not in corrected.headers


def test_keys_belong_to_their_user(client, world):
    world.users["reporter_bravo"].memberships.create(
        role="reporter", contingent=world.records["alpha_draft_L1"].contingent
    )
    first = post(client, world, "reporter_alpha", body(world), key="shared")
    second = post(Client(), world, "reporter_bravo", body(world), key="shared")

    assert first.status_code == second.status_code == 201
    assert first.json()["id"] != second.json()["id"]


def test_a_key_older_than_24_hours_may_name_a_new_request(client, world):
    first = post(client, world, "reporter_alpha", body(world), key="daily")
    APIIdempotencyKey.objects.filter(key="daily").update(
        created_at=timezone.now() - IDEMPOTENCY_KEY_LIFETIME - timedelta(minutes=1)
    )
    second = post(client, world, "reporter_alpha", body(world, narrative="Next day"), key="daily")

    assert second.status_code == 201
    assert second.json()["id"] != first.json()["id"]
    assert APIIdempotencyKey.objects.get(key="daily").response_body["id"] == second.json()["id"]


def test_expired_keys_are_purged_and_fresh_ones_kept(client, world, settings):
    post(client, world, "reporter_alpha", body(world), key="old")
    post(client, world, "reporter_alpha", body(world, narrative="Today"), key="fresh")
    APIIdempotencyKey.objects.filter(key="old").update(
        created_at=timezone.now() - IDEMPOTENCY_KEY_LIFETIME - timedelta(minutes=1)
    )
    assert idempotency_keys_purge_expired() == 1
    assert list(APIIdempotencyKey.objects.values_list("key", flat=True)) == ["fresh"]
    # Run hourly by beat: the schedule names a task the worker knows.
    from armsmonitor.celery import app

    app.loader.import_default_modules()  # what a worker does at start: find the tasks
    task = settings.CELERY_BEAT_SCHEDULE["purge-expired-idempotency-keys"]["task"]
    assert task in app.tasks


@pytest.mark.parametrize(
    ("key", "message"), [(None, "Send an Idempotency-Key"), ("", "Send"), ("k" * 201, "201")]
)
def test_the_idempotency_key_is_required_and_bounded(client, world, key, message):
    response = post(client, world, "reporter_alpha", body(world), key=key)

    assert response.status_code == 400
    assert message in response.json()["Idempotency-Key"][0]
    assert not created(world)


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_requests_with_one_key_make_one_incident():
    world = build_world()
    start = threading.Barrier(2)
    answers = []

    def send():
        try:
            start.wait()
            answers.append(post(Client(), world, "reporter_alpha", body(world), key="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert [answer.status_code for answer in answers] == [201, 201]
    assert answers[0].json() == answers[1].json()
    assert sorted(answer.headers.get("Idempotent-Replayed", "") for answer in answers) == [
        "",
        "true",
    ]
    assert len(created(world)) == 1


# --- bad bodies ------------------------------------------------------------------------------


def test_a_body_of_several_megabytes_is_a_413_naming_the_limit(client, world, settings):
    data = body(world, narrative="x" * (3 * 1024 * 1024))

    response = post(client, world, "reporter_alpha", data)

    assert response.status_code == 413
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes" in response.json()["detail"]
    assert not created(world)


def test_a_body_that_is_not_json_is_a_415_naming_the_expected_type(client, world):
    response = post(
        client, world, "reporter_alpha", "kind=cache_discovery", content_type="text/plain"
    )

    assert response.status_code == 415
    assert "application/json" in response.json()["detail"]
    assert "text/plain" in response.json()["detail"]


@pytest.mark.parametrize("content", ['{"kind": "cache_discovery",', "[1, 2]", "null"])
def test_malformed_json_is_a_400(client, world, content):
    response = post(client, world, "reporter_alpha", content)

    assert response.status_code == 400
    assert response.json()
    assert not created(world)


# --- incremental sync of withdrawals ---------------------------------------------------------


def test_a_withdrawal_reaches_incremental_sync_with_its_time(client, world):
    incident = world.records["alpha_verified_L1"]
    before = incident.updated_at
    last_pass = timezone.now()

    incident_withdraw(incident=incident, by=world.users["verifier"], reason="Duplicate")

    incident.refresh_from_db()
    assert incident.updated_at > before
    client.force_login(world.users["mission_analyst"])
    since = {"updated_since": last_pass.isoformat()}
    live = client.get(URL, since)
    withdrawn = client.get(URL, {**since, "withdrawn": "true"})
    assert live.status_code == withdrawn.status_code == 200
    assert [row["id"] for row in live.json()["results"]] == []
    assert [
        (row["id"], row["withdrawn_at"] is not None) for row in withdrawn.json()["results"]
    ] == [(incident.pk, True)]


def test_the_entry_forms_leave_the_field_lists_they_share_with_the_api_alone(world):
    """An inline formset adds its foreign key to the field list it was built with: built on
    the shared list, the API imported after an entry page required `incident` of every item."""
    from incidents import forms

    incident = world.records["alpha_draft_L1"]
    for formset_class, prefix in (
        (forms.WeaponFormSet, "weapons"),
        (forms.AmmunitionFormSet, "ammunition"),
        (forms.PersonsFormSet, "persons"),
    ):
        formset_class(instance=incident, prefix=prefix)
    for shared in (forms.WEAPON_FIELDS, forms.AMMUNITION_FIELDS, forms.PERSONS_FIELDS):
        assert "incident" not in shared

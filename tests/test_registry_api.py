"""Agencies write registry entries through the API (`POST /api/v1/registry/entries`,
`PATCH …/{id}`) with a key given the `registry:write` scope: the agency is the reporting
body, bad input is a 400 naming the field with nothing written, other keys and signed-in
users are refused, and the entry is checked for hits like any write."""

import uuid

import pytest

from incidents.models import APIIdempotencyKey, RegistryEntry, RegistrySerial, WeaponHit, WeaponItem
from incidents.registry.choices import ReportingBodyKind
from incidents.registry.hits import hits_check
from incidents.registry.services import registry_entry_create
from organisations.access import AgencyPrincipal
from organisations.choices import APIKeyScope
from organisations.models import AuditEvent
from organisations.services import agency_api_key_create
from tests.personas import build_world
from tests.schema_driven import api_schema, generated_cases, use_key

URL = "/api/v1/registry/entries"


def body(**changes) -> dict:
    return {
        "category": "assault_rifle",
        "make": "Kalashnikov Concern",
        "model": "AKM",
        "circumstance": "theft",
        "occurred_on": "2026-01-12",
        "place": "Garoua, customs warehouse",
        "country": "CMR",
        "contact": "registry@customs.example.org",
        "releasability": 3,
        "serials": [{"component": "frame", "serial": "GA-2026-0042"}],
        **changes,
    }


def writer_key(world, persona: str = "partner_agency") -> str:
    """A second key of the agency, given the registry:write scope."""
    return agency_api_key_create(
        agency=world.agencies[persona], name="registry", scopes=[APIKeyScope.REGISTRY_WRITE]
    )[1]


def send(client, raw_key: str, data: dict, *, method: str = "post", url: str = URL, key=None):
    headers = {"HTTP_AUTHORIZATION": f"Api-Key {raw_key}"}
    if method == "post":
        headers["HTTP_IDEMPOTENCY_KEY"] = key or str(uuid.uuid4())
    return getattr(client, method)(url, data, content_type="application/json", **headers)


@pytest.mark.django_db
def test_a_key_with_the_registry_scope_records_an_entry_reported_by_its_agency(client, world):
    agency = world.agencies["partner_agency"]

    answer = send(client, writer_key(world), body())

    assert answer.status_code == 201, answer.content
    shown = answer.json()
    entry = RegistryEntry.objects.get(pk=shown["id"])
    assert (entry.agency, entry.reporting_body_kind, entry.reporting_body) == (
        agency,
        ReportingBodyKind.AGENCY,
        agency.name,
    )
    assert entry.mission_id is None and entry.reported_by_id is None
    assert shown["serials"] == [{"component": "frame", "serial": "GA-2026-0042"}]
    assert shown["reporting_body"] == agency.name and shown["agency"] == agency.pk
    assert (shown["make"], shown["country"], shown["state"]) == (
        "Kalashnikov Concern",
        "CMR",
        "verified",
    )
    event = AuditEvent.objects.get(action="registry.create")
    assert event.agency == agency and event.object_id == str(entry.pk)
    assert event.api_key_prefix == answer.wsgi_request.user.api_key.prefix


@pytest.mark.django_db
def test_a_retried_request_gets_the_stored_answer_and_makes_no_second_entry(client, world):
    raw_key = writer_key(world)

    first = send(client, raw_key, body(), key="loss-42")
    again = send(client, raw_key, body(), key="loss-42")
    other_body = send(client, raw_key, body(place="elsewhere"), key="loss-42")

    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert other_body.status_code == 422
    assert RegistryEntry.objects.count() == 1
    # Another key of the same agency has keys of its own.
    assert send(client, writer_key(world), body(), key="loss-42").status_code == 201
    assert APIIdempotencyKey.objects.filter(key="loss-42", user=None).count() == 2


@pytest.mark.django_db
def test_a_write_without_an_idempotency_key_is_a_400_naming_the_header(client, world):
    answer = client.post(
        URL,
        body(),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Api-Key {writer_key(world)}",
    )

    assert answer.status_code == 400 and "Idempotency-Key" in answer.json()
    assert not RegistryEntry.objects.exists()


@pytest.mark.django_db
def test_a_key_without_the_scope_is_refused_with_a_message_naming_it(client, world):
    answer = send(client, world.api_keys["partner_agency"], body())

    assert answer.status_code == 403
    assert "registry:write" in answer.json()["detail"]
    assert not RegistryEntry.objects.exists()


@pytest.mark.django_db
def test_signed_in_users_write_the_registry_in_its_form_not_the_api(client, world):
    client.force_login(world.users["verifier"])

    answer = client.post(URL, body(), content_type="application/json")

    assert answer.status_code == 403
    assert "agency" in answer.json()["detail"]
    assert not RegistryEntry.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"serials": [{"component": "frame", "serial": "A1"}, {"component": "barrel"}]}, None),
        (
            {
                "serials": [
                    {"component": "frame", "serial": "A1"},
                    {"component": "barrel", "serial": "B;2"},
                ]
            },
            "serials[1].serial",
        ),
        ({"serials": []}, "serials"),
        ({"country": "XXX"}, "country"),
        ({"circumstance": "misplaced"}, "circumstance"),
        ({"occurred_on": "yesterday"}, "occurred_on"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_nothing_is_written(client, world, changes, field):
    field = field or "serials[1].serial"

    answer = send(client, writer_key(world), body(**changes))

    assert answer.status_code == 400, answer.content
    assert field in answer.json()
    assert not RegistryEntry.objects.exists() and not RegistrySerial.objects.exists()
    assert not AuditEvent.objects.filter(action="registry.create").exists()


@pytest.mark.django_db
def test_an_agency_corrects_its_own_entry_and_not_another_agencys(client, world):
    key = writer_key(world)
    entry_id = send(client, key, body()).json()["id"]

    corrected = send(
        client,
        key,
        {"place": "Garoua port", "serials": [{"component": "frame", "serial": "GA-2026-0043"}]},
        method="patch",
        url=f"{URL}/{entry_id}",
    )
    assert corrected.status_code == 200, corrected.content
    assert corrected.json()["place"] == "Garoua port"
    assert corrected.json()["model"] == "AKM"  # not given: kept
    assert list(RegistrySerial.objects.values_list("serial", flat=True)) == ["GA-2026-0043"]

    other = send(
        client,
        writer_key(world, "host_agency"),
        {"place": "elsewhere"},
        method="patch",
        url=f"{URL}/{entry_id}",
    )
    assert other.status_code in (403, 404)
    assert RegistryEntry.objects.get(pk=entry_id).place == "Garoua port"


@pytest.mark.django_db
def test_a_mission_entry_is_not_an_agencys_to_update_even_when_released_to_it(client, world):
    entry = registry_entry_create(
        by=world.users["verifier"],
        entry=RegistryEntry(
            **{name: value for name, value in body(releasability=4).items() if name != "serials"},
            reporting_body_kind=ReportingBodyKind.MISSION,
            reporting_body="MINUSCA JMAC",
            mission=world.records["alpha_verified_L5"].mission,
        ),
        serials=[{"component": "frame", "serial": "MS123456"}],
    )  # MINUSCA's, released from "partner agencies" up: the partner agency reads it
    assert (
        RegistryEntry.objects.visible_to(AgencyPrincipal(agency=world.agencies["partner_agency"]))
        .filter(pk=entry.pk)
        .exists()
    )

    answer = send(
        client, writer_key(world), {"place": "taken over"}, method="patch", url=f"{URL}/{entry.pk}"
    )

    assert answer.status_code == 403
    assert RegistryEntry.objects.get(pk=entry.pk).place != "taken over"


@pytest.mark.django_db
def test_the_agency_reads_its_own_entries_and_other_agencies_do_not(client, world):
    entry_id = send(client, writer_key(world), body(releasability=1)).json()["id"]

    def visible(persona: str) -> bool:
        principal = AgencyPrincipal(agency=world.agencies[persona])
        return RegistryEntry.objects.visible_to(principal).filter(pk=entry_id).exists()

    assert visible("partner_agency")
    assert not visible("host_agency")
    assert (
        not RegistryEntry.objects.visible_to(world.users["verifier"]).filter(pk=entry_id).exists()
    )


@pytest.mark.django_db
def test_an_entry_written_through_the_api_is_checked_for_hits(client, world):
    seized = WeaponItem.objects.create(
        incident=world.records["alpha_verified_L5"],
        category="assault_rifle",
        make="Kalashnikov Concern",
        serial_number="GA20260042",
    )
    hits_check()  # the seizure's own check, before the entry exists

    entry_id = send(client, writer_key(world), body()).json()["id"]

    # The registry's trigger queued the entry; the worker's check, run here in the test's
    # transaction (delay_on_commit never fires in it).
    assert hits_check() == 1
    hit = WeaponHit.objects.get(registry_entry_id=entry_id)
    assert hit.weapon_id == seized.pk and hit.reason == "exact"


def test_the_schema_lists_the_registry_writes(client, db):
    paths = client.get("/api/v1/schema?format=json").json()["paths"]

    assert set(paths[URL]) == {"post"}
    assert set(paths[URL + "/{id}"]) == {"patch"}
    assert paths[URL]["post"]["responses"].keys() >= {"201", "400", "401", "403", "429"}


# Requests generated from the schema with a key that may write (tests/test_api_schema.py
# runs them with keys and sessions that may not): no 5xx, answers as the schema says. A
# schema-valid body may still be a 400 naming the field: a country code that is not one,
# a date the model refuses (OpenAPI cannot list the countries).
writes = api_schema(r"^(POST|PATCH) /api/v1/registry/entries", refused_beyond_schema=True)


@pytest.fixture
def registry_writer(db):
    world = build_world()
    use_key(writer_key(world))
    return world


@writes.parametrize()
@generated_cases
def test_a_key_that_may_write_is_answered_as_the_schema_says(
    case, registry_writer, wsgi_requests_keep_the_test_transaction
):
    case.call_and_validate()


@pytest.mark.django_db
def test_an_administrator_ticks_the_scopes_when_making_a_key(client, world):
    client.force_login(world.users["admin"])
    agency = world.agencies["host_agency"]

    form = client.get("/admin/organisations/agencyapikey/add/")
    made = client.post(
        "/admin/organisations/agencyapikey/add/",
        {"name": "registry", "agency": agency.pk, "scopes": [APIKeyScope.REGISTRY_WRITE]},
    )

    assert form.status_code == 200 and b'value="registry:write"' in form.content
    assert made.status_code == 302, made.content[:800]
    assert agency.api_keys.get(name="registry").scopes == ["registry:write"]
    assert agency.api_keys.get(name="test").scopes == []  # made without: reads only

"""Illicit origins established with or without a trace (issue 19): recorded on the record's
page and through the API by its contingent's reporters and its mission's verifiers, refused
with the field named when the evidence does not hold, read by whoever sees the weapon (the
point of diversion never leaves the platform), and replaced rather than doubled."""

from datetime import date

import pytest

from incidents.models import IllicitOrigin
from organisations.models import AuditEvent
from tests.test_api_records import get, results

pytestmark = pytest.mark.usefixtures("weapons_traces_and_people")

AUTHORITY_FINDING = {
    "method": "authority",
    "kind": "state_stocks",
    "diversion_country": "CAF",
    "diversion_date": "2024-11-02",
    "established_by": "Commission nationale de lutte contre les ALPC",
    "established_on": "2025-05-10",
}


def _post(client, world, persona: str, body: dict):
    if persona in world.api_keys:
        return client.post(
            "/api/v1/illicit-origins",
            body,
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Api-Key {world.api_keys[persona]}",
        )
    client.force_login(world.users[persona])
    return client.post("/api/v1/illicit-origins", body, content_type="application/json")


def test_an_origin_established_without_a_trace_is_recorded_and_read_with_the_weapon(client, world):
    weapon = world.weapons["alpha_verified_L5"]

    response = _post(client, world, "reporter_alpha", {"weapon": weapon.id, **AUTHORITY_FINDING})

    assert response.status_code == 201, response.content
    origin = IllicitOrigin.objects.get()
    assert (origin.weapon_id, origin.kind, origin.method) == (
        weapon.id,
        "state_stocks",
        "authority",
    )
    [listed] = results(get(client, world, "mission_analyst", "/api/v1/illicit-origins"))
    assert listed["diversion_country"] == "CAF" and listed["diversion_date"] == "2024-11-02"
    assert "diversion_point" not in listed
    weapons = get(
        client, world, "partner_agency", "/api/v1/weapons", f"incident={weapon.incident_id}"
    )
    [read] = results(weapons)
    assert read["illicit_origin"]["kind"] == "state_stocks"
    assert AuditEvent.objects.filter(action="origin.record").count() == 1


def test_a_second_record_replaces_the_first_and_the_history_keeps_both(client, world):
    weapon = world.weapons["alpha_verified_L5"]
    _post(client, world, "reporter_alpha", {"weapon": weapon.id, **AUTHORITY_FINDING})

    traced = {
        **AUTHORITY_FINDING,
        "method": "trace",
        "trace": world.trace.id,
        "diversion_country": "BGR",
    }
    response = _post(client, world, "verifier", {"weapon": weapon.id, **traced})

    assert response.status_code == 201, response.content
    origin = IllicitOrigin.objects.get()
    assert (origin.method, origin.trace_id, origin.diversion_country) == (
        "trace",
        world.trace.id,
        "BGR",
    )
    assert [row.diversion_country for row in origin.history.order_by("history_id")] == [
        "CAF",
        "BGR",
    ]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"trace": "the trace"}, "trace"),  # a trace named, but another method
        ({"established_on": "2999-01-01"}, "established_on"),
        ({"diversion_date": "2025-12-31"}, "diversion_date"),  # after the recovery
        ({"diversion_country": "XXX"}, "diversion_country"),
        ({"kind": "stolen"}, "kind"),
    ],
)
def test_evidence_that_does_not_hold_is_refused_with_the_field_named(client, world, change, field):
    weapon = world.weapons["alpha_verified_L5"]
    world.records["alpha_verified_L5"].__class__.objects.filter(pk=weapon.incident_id).update(
        occurred_at="2025-06-01T00:00:00Z"
    )
    if change.get("trace") == "the trace":
        change = {"trace": world.trace.id}

    response = _post(
        client, world, "reporter_alpha", {"weapon": weapon.id, **AUTHORITY_FINDING, **change}
    )

    assert response.status_code == 400, response.content
    assert field in response.json()
    assert not IllicitOrigin.objects.exists()


def test_a_trace_of_another_weapon_is_refused(client, world):
    other = world.weapons["alpha_draft_L1"]
    body = {"weapon": other.id, **AUTHORITY_FINDING, "method": "trace", "trace": world.trace.id}

    response = _post(client, world, "reporter_alpha", body)

    assert response.status_code == 400
    assert "trace" in response.json()
    assert not IllicitOrigin.objects.exists()


@pytest.mark.parametrize("persona", ["mission_analyst", "partner_agency", "reporter_bravo"])
def test_only_the_records_reporters_and_verifiers_may_record_an_origin(client, world, persona):
    weapon = world.weapons["alpha_verified_L5"]

    response = _post(client, world, persona, {"weapon": weapon.id, **AUTHORITY_FINDING})

    assert response.status_code == 403, response.content
    assert not IllicitOrigin.objects.exists()


def test_the_record_page_records_an_origin_and_shows_it(client, world):
    weapon = world.weapons["alpha_verified_L5"]
    client.force_login(world.users["reporter_alpha"])
    form = {f"{name}": value for name, value in AUTHORITY_FINDING.items()}

    response = client.post(
        f"/incidents/{weapon.incident_id}/origins", {"weapon": weapon.id, **form}, follow=True
    )

    assert "Illicit origin recorded." in response.content.decode()
    page = client.get(f"/incidents/{weapon.incident_id}/").content.decode()
    assert "Diversion from State stocks" in page
    assert IllicitOrigin.objects.get().established_on == date(2025, 5, 10)

"""The registry's pages: a mission's reporter records a weapon in the browser form (bad
input shown on the form, nothing written), readers list what they may see, and the hits
page shows each side only what its reader may read, with confirm and dismiss."""

import pytest

from incidents.models import RegistryEntry, WeaponHit, WeaponItem
from incidents.registry.hits import hits_check
from tests.personas import sign_in

FORM = {
    "category": "assault_rifle",
    "make": "Kalashnikov Concern",
    "model": "AKM",
    "calibre": "7.62x39mm",
    "marks": "",
    "circumstance": "attack",
    "occurred_on": "2025-01-05",
    "place": "Bria",
    "country": "CAF",
    "reporting_body_kind": "contingent",
    "reporting_body": "Alpha contingent",
    "contact": "alpha-s2@example.org",
    "releasability": "1",
    "serials": "frame: PG-100200\nbarrel: PG100200",
}


def _form(world, **changes):
    return {**FORM, "mission": world.records["alpha_verified_L5"].mission_id, **changes}


def test_a_reporter_records_a_weapon_and_its_serials(client, world):
    sign_in(client, world, "reporter_alpha")
    response = client.post("/incidents/registry/new", _form(world))
    assert response.status_code == 302, response.content.decode()[:3000]
    entry = RegistryEntry.objects.get()
    assert entry.reported_by == world.users["reporter_alpha"]
    assert sorted(entry.serials.values_list("component", "serial_key")) == [
        ("barrel", "PG100200"),
        ("frame", "PG100200"),
    ]
    listing = client.get("/incidents/registry/").content.decode()
    assert "PG-100200" in listing and "alpha-s2@example.org" in listing


def test_bad_input_is_shown_on_the_form_and_nothing_is_written(client, world):
    sign_in(client, world, "reporter_alpha")
    response = client.post(
        "/incidents/registry/new", _form(world, serials="barrel A1", country="", occurred_on="x")
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "write a component" in page and "Enter a valid date" in page
    assert not RegistryEntry.objects.exists()


def test_readers_without_a_mission_role_may_not_record(client, world):
    sign_in(client, world, "mission_analyst")
    assert client.get("/incidents/registry/new").status_code == 403


def test_the_hits_page_withholds_what_its_reader_may_not_read(client, world):
    sign_in(client, world, "reporter_alpha")
    client.post("/incidents/registry/new", _form(world))
    WeaponItem.objects.create(
        incident=world.records["charlie_verified_L1"],
        category="assault_rifle",
        make="IZH",
        serial_number="PG1OO2OO",
    )
    assert hits_check() == 1
    hit = WeaponHit.objects.get()
    sign_in(client, world, "verifier")  # MINUSCA: sees its entry, not MONUSCO's seizure
    page = client.get("/incidents/hits/").content.decode()
    assert "Seized by MONUSCO: contact them." in page and "PG1OO2OO" not in page
    assert "registry entry" in page
    sign_in(client, world, "other_mission_analyst")  # MONUSCO: sees its seizure only
    page = client.get("/incidents/hits/").content.decode()
    assert "PG1OO2OO" in page
    assert "Reported by Alpha contingent: contact alpha-s2@example.org." in page
    assert "PG-100200" not in page
    sign_in(client, world, "nobody")
    assert "PG1OO2OO" not in client.get("/incidents/hits/").content.decode()
    sign_in(client, world, "verifier")
    response = client.post(
        f"/incidents/hits/{hit.pk}/decide", {"state": "dismissed", "dismissal_reason": ""}
    )
    assert response.status_code == 302
    hit.refresh_from_db()
    assert hit.state == "new"
    client.post(f"/incidents/hits/{hit.pk}/decide", {"state": "confirmed"})
    hit.refresh_from_db()
    assert (hit.state, hit.decided_by) == ("confirmed", world.users["verifier"])


@pytest.mark.parametrize("persona", ["nobody", "regional_analyst"])
def test_a_reader_of_neither_side_cannot_decide(client, world, persona):
    sign_in(client, world, "reporter_alpha")
    client.post("/incidents/registry/new", _form(world))
    WeaponItem.objects.create(
        incident=world.records["charlie_verified_L1"],
        category="assault_rifle",
        make="IZH",
        serial_number="PG100200",
    )
    hits_check()
    hit = WeaponHit.objects.get()
    sign_in(client, world, persona)
    assert (
        client.post(f"/incidents/hits/{hit.pk}/decide", {"state": "confirmed"}).status_code == 404
    )

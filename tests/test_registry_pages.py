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


HEADER = (
    "category,make,circumstance,occurred_on,country,reporting_body_kind,reporting_body,"
    "contact,releasability,serials\n"
)
ROW = "assault_rifle,,attack,2025-01-05,CAF,mission,MINUSCA,g2@example.org,1,"


def _upload(text: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("registry.csv", text.encode())


def test_a_spreadsheet_of_entries_is_imported_whole(client, world):
    sign_in(client, world, "verifier")
    response = client.post(
        "/incidents/registry/import",
        {
            "mission": world.records["alpha_verified_L5"].mission_id,
            "file": _upload(
                HEADER + "assault_rifle,IZH,attack,2025-01-05,CAF,mission,MINUSCA,g2@example.org,1,"
                "frame: IM100; barrel: IM100\n"
                "revolver_pistol,,theft,2025-02-01,CAF,state,CAF police,p@example.org,4,"
                "frame: RV-9\n"
            ),
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert sorted(RegistryEntry.objects.values_list("category", "serials__serial")) == [
        ("assault_rifle", "IM100"),
        ("assault_rifle", "IM100"),
        ("revolver_pistol", "RV-9"),
    ]
    assert RegistryEntry.objects.filter(reported_by=world.users["verifier"]).count() == 2


def test_every_bad_cell_is_listed_by_row_and_column_and_nothing_is_written(client, world):
    sign_in(client, world, "verifier")
    response = client.post(
        "/incidents/registry/import",
        {
            "mission": world.records["alpha_verified_L5"].mission_id,
            "file": _upload(
                HEADER
                + ROW
                + "frame: A1\n"
                + "rocket,,attack,yesterday,XXX,mission,MINUSCA,g2@example.org,1,frame: A2\n"
                + ROW
                + "barrel A3\n"
            ),
        },
    )
    assert response.status_code == 200
    page = response.content.decode()
    for says in ("row 3, category", "row 3, occurred_on", "row 3, country", "row 4, serials"):
        assert says in page, says
    assert not RegistryEntry.objects.exists()


def test_a_file_without_the_required_columns_is_refused(client, world):
    sign_in(client, world, "verifier")
    response = client.post(
        "/incidents/registry/import",
        {"mission": world.records["alpha_verified_L5"].mission_id, "file": _upload("make\nIZH\n")},
    )
    assert "Columns missing: category" in response.content.decode()
    assert not RegistryEntry.objects.exists()

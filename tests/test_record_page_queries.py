"""The record page reads a fixed number of queries however many weapons the record holds
(issue 25: the duplicates of each weapon were one query a weapon), and still links each
weapon to the other items of the same make and serial that the reader may see."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.models import WeaponItem
from tests.personas import build_world


@pytest.fixture
def world(db):
    return build_world()


def _page_queries(client, incident) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/incidents/{incident.pk}/")
    assert response.status_code == 200
    return len(queries)


def test_the_page_reads_as_many_queries_for_twenty_weapons_as_for_two(client, world):
    incident = world.records["alpha_verified_L1"]
    client.force_login(world.users["verifier"])

    def add(count: int, start: int) -> None:
        WeaponItem.objects.bulk_create(
            WeaponItem(incident=incident, category="pistol", make="Makarov", serial_number=f"M{n}")
            for n in range(start, start + count)
        )

    add(2, 0)
    two = _page_queries(client, incident)
    add(18, 2)
    twenty = _page_queries(client, incident)

    assert twenty == two


def test_each_weapon_links_the_same_make_and_serial_the_reader_may_see(client, world):
    seen = world.records["alpha_verified_L1"]
    WeaponItem.objects.create(
        incident=seen, category="pistol", make="Makarov", serial_number="KA 1"
    )
    elsewhere = world.records["alpha_verified_L5"]
    twin = WeaponItem.objects.create(
        incident=elsewhere, category="pistol", make="MAKAROV", serial_number="ka 1"
    )
    other = WeaponItem.objects.create(
        incident=elsewhere, category="pistol", make="Tokarev", serial_number="KA 1"
    )
    client.force_login(world.users["verifier"])

    page = client.get(f"/incidents/{seen.pk}/").content.decode()

    assert f'href="/incidents/{twin.incident_id}/"' in page
    assert page.count("Same make and serial already on record") == 1
    assert other.make not in page

"""The serial search (`GET /api/v1/weapons/search`): matches the key may read come with
their id; a match it may not read says only who holds it; every search is logged and
counted in the key's rate; bad queries get a 400 naming the field."""

from datetime import date

import pytest

from incidents.choices import WeaponCategory
from incidents.models import RegistryEntry, RegistrySerial, WeaponItem
from incidents.registry.choices import Circumstance, ReportingBodyKind
from organisations.choices import Releasability
from organisations.models import APIAccess
from tests.personas import sign_in

URL = "/api/v1/weapons/search"


def _entry(world, serial: str, level: int, body: str = "MINUSCA JMAC") -> RegistryEntry:
    entry = RegistryEntry.objects.create(
        category=WeaponCategory.ASSAULT_RIFLE,
        make="Kalashnikov Concern",
        circumstance=Circumstance.THEFT,
        occurred_on=date(2025, 1, 5),
        country="CAF",
        reporting_body_kind=ReportingBodyKind.MISSION,
        reporting_body=body,
        contact="jmac@example.org",
        mission=world.records["alpha_verified_L5"].mission,
        releasability=level,
    )
    RegistrySerial.objects.create(entry=entry, component="frame", serial=serial)
    return entry


@pytest.fixture
def registry_and_seizures(world):
    """MINUSCA's registry: one entry released to partner agencies (L4), one mission-only
    (L1), of serials SR123456 and SR12345G; MONUSCO's mission-only seizure of SR123456."""
    world.released = _entry(world, "SR123456", Releasability.PARTNER_AGENCIES)
    world.withheld = _entry(world, "SR12345G", Releasability.MISSION_ONLY, body="MINUSCA G2")
    world.seized = WeaponItem.objects.create(
        incident=world.records["charlie_verified_L1"],
        category=WeaponCategory.ASSAULT_RIFLE,
        make="IZH",
        serial_number="SR-123456",
    )
    return world


def search(client, world, persona, **query):
    return client.get(URL, query, **sign_in(client, world, persona))


def test_an_agency_sees_the_matches_it_may_read_and_who_holds_the_others(
    client, registry_and_seizures
):
    world = registry_and_seizures
    answer = search(client, world, "partner_agency", serial="sr 123456", make="Izhmash")
    assert answer.status_code == 200, answer.content
    matches = answer.json()["matches"]
    shown = [m for m in matches if m["visible"]]
    assert [(m["source"], m["id"], m["reason"]) for m in shown] == [
        ("registry", world.released.pk, "exact")
    ]
    withheld = sorted((m["source"], m["held_by"], m["reason"]) for m in matches if not m["visible"])
    assert withheld == [("registry", "MINUSCA G2", "confusable"), ("seizure", "MONUSCO", "exact")]
    for match in matches:
        if not match["visible"]:
            assert match["id"] is None and match["serial"] == ""
            assert (
                match["message"] == f"A match exists, held by {match['held_by']}: request access."
            )
    access = APIAccess.objects.get(path=URL)
    assert (access.agency, access.records) == (world.agencies["partner_agency"], 1)


def test_a_mission_reader_sees_its_own_records_whole(client, registry_and_seizures):
    world = registry_and_seizures
    matches = search(client, world, "verifier", serial="SR123456").json()["matches"]
    assert {(m["source"], m["id"]) for m in matches if m["visible"]} == {
        ("registry", world.released.pk),
        ("registry", world.withheld.pk),
    }
    assert [m["held_by"] for m in matches if not m["visible"]] == ["MONUSCO"]


def test_a_key_without_an_agreement_learns_only_that_matches_exist(client, registry_and_seizures):
    world = registry_and_seizures
    matches = search(client, world, "lapsed_agency", serial="SR123456").json()["matches"]
    assert matches and not any(m["visible"] for m in matches)


@pytest.mark.parametrize(
    ("query", "field"),
    [({}, "serial"), ({"serial": "??*"}, "serial"), ({"serial": "A" * 61}, "serial")],
)
def test_a_bad_query_is_refused_naming_the_field(client, world, query, field):
    answer = search(client, world, "partner_agency", **query)
    assert answer.status_code == 400
    assert field in answer.json()


def test_searches_count_in_the_keys_rate(client, world, settings):
    from django.core.cache import cache

    cache.clear()
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"agency": "2/minute", "user": "2/minute"},
    }
    codes = [search(client, world, "partner_agency", serial="AB1234").status_code for _ in "123"]
    assert codes == [200, 200, 429]


def test_an_anonymous_caller_is_refused(client, world):
    assert client.get(URL, {"serial": "AB1234"}).status_code in (401, 403)

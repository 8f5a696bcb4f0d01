"""The migrations of issue 19 run forward and back on a database that holds records, with
every record kept, and carry today's codes onto the new fields (craft-produced weapons are
made by craft, grenades and mortar bombs are no longer counted as rounds)."""

import importlib

import pytest
from django.db import connection

from incidents.models import AmmunitionItem, Incident, PersonsInvolved, WeaponItem
from tests.migrating import migrate_to, migrate_to_latest
from tests.personas import build_world

BEFORE = ("incidents", "0019_importjob_language")
AFTER = ("incidents", "0021_weapon_marks_and_ammunition_kinds")


def _migrate(target) -> None:
    migrate_to([target])


def _counts() -> dict[str, int]:
    with connection.cursor() as cursor:
        counts = {}
        for table in (
            "incidents_incident",
            "incidents_weaponitem",
            "incidents_ammunitionitem",
            "incidents_personsinvolved",
        ):
            cursor.execute(f"SELECT count(*) FROM {table}")
            counts[table] = cursor.fetchone()[0]
    return counts


@pytest.mark.django_db(transaction=True)
def test_the_migrations_run_back_and_forth_keeping_every_record_and_carrying_codes_over():
    world = build_world()
    incident = world.records["alpha_verified_L5"]
    WeaponItem.objects.create(incident=incident, category="craft_produced", quantity=2)
    WeaponItem.objects.create(incident=incident, category="assault_rifle", make="Norinco")
    AmmunitionItem.objects.create(
        incident=incident, calibre="82mm", ammunition_type="mortar_bomb", quantity=4
    )
    AmmunitionItem.objects.create(incident=incident, calibre="7.62x39mm", quantity=300)
    PersonsInvolved.objects.create(
        incident=incident, role="suspect", sex="male", age_group="adult", count=1
    )
    before = _counts()
    try:
        _migrate(BEFORE)
        assert _counts() == before
        _migrate(AFTER)
        assert _counts() == before
        modes = dict(WeaponItem.objects.values_list("category", "manufacture_mode"))
        assert modes == {"craft_produced": "craft", "assault_rifle": "factory"}
        kinds = dict(AmmunitionItem.objects.values_list("calibre", "category"))
        assert kinds == {"82mm": "mortar_bomb", "7.62x39mm": "cartridge"}
        # (Only the columns of that state of the schema: later migrations add others.)
        credibility = Incident.objects.filter(pk=incident.pk).values_list(
            "information_credibility", flat=True
        )
        assert list(credibility) == ["6"]
    finally:
        migrate_to_latest()


@pytest.mark.django_db(transaction=True)
def test_this_stops_migrations_run_back_and_forth_keeping_records_and_the_manufacturer_list():
    """0025-0029: component serials, the manufacturer list, photo subjects, the seizure's
    justification and route."""
    from incidents.models import Manufacturer, TraceRequest

    manufacturers_list = importlib.import_module("incidents.migrations.0027_manufacturers_list")

    world = build_world()
    incident = world.records["alpha_verified_L5"]
    weapon = WeaponItem.objects.create(
        incident=incident,
        category="assault_rifle",
        make="Izhmash",
        serial_number="A1",
        component_serials=[{"component": "barrel", "serial": "A1"}],
    )
    TraceRequest.objects.create(weapon=weapon, addressee="RUS", sent_on="2025-01-01")
    Incident.objects.filter(pk=incident.pk).update(
        seizure_justification="embargo", route_transit_countries=["TCD"]
    )
    before = _counts()
    try:
        _migrate(("incidents", "0024_merge_records_and_traces"))
        assert _counts() == before
        with connection.cursor() as cursor:
            cursor.execute("SELECT to_regclass('incidents_manufacturer')")
            assert cursor.fetchone() == (None,)
        migrate_to_latest()
        assert _counts() == before
        # (As the migration writes it: a transactional test before this one may have
        # emptied the table.)
        assert Manufacturer.objects.count() == len(manufacturers_list.MANUFACTURERS)
        read = WeaponItem.objects.with_manufacturer().get(pk=weapon.pk)
        assert read.manufacturer_name == "Kalashnikov Concern"
        # Gone backwards with their columns; the defaults forwards.
        assert read.component_serials == []
        assert Incident.objects.get(pk=incident.pk).seizure_justification == "unknown"
    finally:
        migrate_to_latest()

"""The map's weapon-category filter read from the counts the database keeps: after every
kind of write to incidents and to their weapons, the kept counts equal the counts made from
scratch, and a map request filtered by category gives the cells counted live from the
incidents, each incident once however many of its weapons match."""

from datetime import UTC, datetime

import pytest
from django.contrib.gis.geos import Point, Polygon
from django.db import connection, transaction

from geo.map import layers
from incidents.access import incident_visibility
from incidents.choices import IncidentKind, WeaponCategory
from incidents.derived.database import database_functions
from incidents.derived.map_cells import (
    CATEGORY_BITS,
    GRAIN_CATEGORIES,
    GRAIN_CATEGORIES_MONTH,
    KEPT_UP_TO,
    MIN_LEVEL,
    IncidentMapCell,
    categories_mask,
)
from incidents.derived.merging import map_changes_merge
from incidents.models import Incident, WeaponItem
from tests.kept_counts import WORLD_BOX, kept_equals_counted, kept_rows_are_counted_from_scratch


def _kept_category_total() -> int:
    """Incidents kept at the category grain, level 2, exact locations."""
    map_changes_merge()
    return sum(
        IncidentMapCell.objects.filter(
            grain=GRAIN_CATEGORIES, level=2, generalised=False
        ).values_list("incidents", flat=True)
    )


def _armed(incident: Incident, *categories: str) -> list[WeaponItem]:
    return [
        WeaponItem.objects.create(incident=incident, category=category, serial_number=f"S{n}")
        for n, category in enumerate(categories)
    ]


def _more_incidents(world) -> list[Incident]:
    """Copies of a verified record in other months and places, to spread the cells."""
    model = world.records["alpha_verified_L3"]
    copies = []
    for n, (month, x, y) in enumerate([(1, 16.1, 7.2), (6, 22.4, 5.9), (11, 18.6, 4.4)]):
        incident = Incident.objects.get(pk=model.pk)
        incident.pk = None
        incident.occurred_at = datetime(2024, month, 3 + n, 10, tzinfo=UTC)
        incident.location = Point(x, y, srid=4326)
        incident.save()
        copies.append(incident)
    return copies


def test_every_weapon_category_has_its_bit_and_the_triggers_know_it():
    assert set(WeaponCategory.values) <= set(CATEGORY_BITS)
    # Each function that sets the bits holds the list, in this order.
    listed = ", ".join(f"'{category}'" for category in CATEGORY_BITS)
    for function in database_functions():
        if "bit_or(" in function.definition:
            assert f"ARRAY[{listed}]" in function.definition.replace("''", "'"), function.name
    assert categories_mask(["revolver_pistol", "assault_rifle", "assault_rifle"]) == 0b101


def test_the_kept_category_counts_follow_every_write_to_weapons_and_incidents(world):
    records = world.records
    first, second, third = _more_incidents(world)
    kept_rows_are_counted_from_scratch()
    assert _kept_category_total() == 0  # no weapons yet: nothing at the category grains

    # One at a time, as the forms write them.
    rifle, pistol = _armed(first, WeaponCategory.ASSAULT_RIFLE, WeaponCategory.REVOLVER_PISTOL)
    _armed(first, WeaponCategory.ASSAULT_RIFLE)  # a set it already holds
    kept_rows_are_counted_from_scratch()
    assert _kept_category_total() == 1

    # Several incidents in one statement, as imports and seeds write them.
    WeaponItem.objects.bulk_create(
        [
            WeaponItem(incident=second, category=WeaponCategory.MORTAR),
            WeaponItem(incident=second, category=WeaponCategory.MORTAR),
            WeaponItem(incident=third, category=WeaponCategory.SUB_MACHINE_GUN),
            WeaponItem(
                incident=records["charlie_verified_L5"],
                category=WeaponCategory.MANPADS,
            ),
        ]
    )
    kept_rows_are_counted_from_scratch()
    assert _kept_category_total() == 4
    kept_levels = {
        grain: sorted(
            IncidentMapCell.objects.filter(grain=grain).values_list("level", flat=True).distinct()
        )
        for grain in (GRAIN_CATEGORIES, GRAIN_CATEGORIES_MONTH)
    }
    assert kept_levels == {
        grain: list(range(MIN_LEVEL, KEPT_UP_TO[grain] + 1))
        for grain in (GRAIN_CATEGORIES, GRAIN_CATEGORIES_MONTH)
    }

    # A weapon's category changed; a weapon moved to another incident; edits that move
    # nothing (serial number); a bulk statement over several incidents.
    pistol.category = WeaponCategory.HEAVY_MACHINE_GUN
    pistol.save()
    kept_rows_are_counted_from_scratch()
    rifle.incident = third
    rifle.save()
    kept_rows_are_counted_from_scratch()
    rifle.serial_number = "X-1"
    rifle.save()
    WeaponItem.objects.filter(incident__in=[second, third]).update(
        category=WeaponCategory.CRAFT_PRODUCED
    )
    kept_rows_are_counted_from_scratch()
    WeaponItem.objects.filter(incident=second).update(incident=first)
    kept_rows_are_counted_from_scratch()
    assert _kept_category_total() == 3  # second has no weapon left

    # Weapons deleted, one and in bulk.
    pistol.delete()
    kept_rows_are_counted_from_scratch()
    WeaponItem.objects.filter(category=WeaponCategory.CRAFT_PRODUCED, incident=first).delete()
    kept_rows_are_counted_from_scratch()

    # The incidents change: moved, new month, new state, withdrawn and back, deleted with
    # their weapons (Django deletes the weapons first), deleted before their weapons in
    # raw SQL (the foreign keys are checked at commit).
    _armed(second, WeaponCategory.LIGHT_MACHINE_GUN, WeaponCategory.MORTAR)
    second.location = Point(20.0, 6.0, srid=4326)
    second.occurred_at = datetime(2023, 2, 1, tzinfo=UTC)
    second.save()
    Incident.objects.filter(pk__in=[first.pk, third.pk]).update(state="submitted")
    kept_rows_are_counted_from_scratch()
    Incident.objects.filter(pk=third.pk).update(withdrawn_at=datetime(2026, 1, 1, tzinfo=UTC))
    kept_rows_are_counted_from_scratch()
    _armed(third, WeaponCategory.RECOILLESS_RIFLE)  # written to a withdrawn record
    Incident.objects.filter(pk=third.pk).update(withdrawn_at=None)
    kept_rows_are_counted_from_scratch()
    second.delete()
    kept_rows_are_counted_from_scratch()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM incidents_incident WHERE id = %s", [third.pk])
        cursor.execute("DELETE FROM incidents_weaponitem WHERE incident_id = %s", [third.pk])
    kept_rows_are_counted_from_scratch()
    assert _kept_category_total() == 2  # first and charlie_verified_L5


@pytest.mark.parametrize(
    "window",
    [
        {},
        {"occurred_after": "2024-01-01T00:00:00Z", "occurred_before": "2024-12-31T23:59:59Z"},
        {"occurred_after": "2024-06-01T00:00:00Z"},
        # Off month boundaries: the edges counted from the incidents, once each.
        {"occurred_after": "2024-01-02T00:00:00Z", "occurred_before": "2025-03-20T00:00:00Z"},
    ],
)
def test_a_category_filter_reads_the_kept_counts_and_gives_the_live_counts(world, window):
    first, second, third = _more_incidents(world)
    _armed(first, WeaponCategory.ASSAULT_RIFLE, WeaponCategory.ASSAULT_RIFLE, "mortar")
    _armed(second, WeaponCategory.MORTAR)
    _armed(third, WeaponCategory.SUB_MACHINE_GUN)
    _armed(world.records["alpha_verified_L1"], WeaponCategory.ASSAULT_RIFLE, "smg")
    _armed(world.records["alpha_draft_L1"], WeaponCategory.ASSAULT_RIFLE)
    _armed(world.records["charlie_verified_L5"], WeaponCategory.MANPADS)
    grain = GRAIN_CATEGORIES_MONTH if window else GRAIN_CATEGORIES
    for persona in ("admin", "mission_analyst", "regional_analyst", "reporter_bravo"):
        for zoom in (1, 4, 7, 10):
            for chosen in (["assault_rifle"], ["assault_rifle", "mortar"], ["manpads"], ["hmg"]):
                kept_equals_counted(world.users[persona], zoom, grain, category=chosen, **window)


def test_the_map_counts_an_incident_once_in_the_kept_counts(client, world):
    incident = world.records["charlie_verified_L5"]
    _armed(incident, WeaponCategory.ASSAULT_RIFLE, WeaponCategory.ASSAULT_RIFLE, "mortar")
    client.force_login(world.users["admin"])
    query = {"bbox": WORLD_BOX, "zoom": "4", "category": ["assault_rifle", "mortar"]}
    collection = client.get("/map/incidents.geojson", query).json()
    assert collection["mode"] == "cells"
    assert collection["total"] == 1
    filters = {"category": ["assault_rifle"], "kind": [IncidentKind.CACHE_DISCOVERY]}
    visibility = incident_visibility(world.users["admin"])
    box = Polygon.from_bbox((-180, -90, 180, 90))
    # A kind or context with a category: the category grains sum them over.
    assert layers.kept_cells_query(filters, visibility, zoom=4, bbox=box) is None

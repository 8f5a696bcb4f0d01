"""Arms and ammunition are counted as the standards count them (issue 19): the reports' rounds
are live cartridges, never grenades, mortar bombs or spent cases; weapons only observed are
not seized, found or surrendered."""

import pytest

from incidents.models import AmmunitionItem, Incident
from reports.documents.figures import totals
from tests.personas import build_world


@pytest.mark.django_db
def test_rounds_are_live_cartridges_only():
    world = build_world()
    incident = world.records["alpha_verified_L5"]
    for category, state, quantity in [
        ("cartridge", "live", 300),
        ("shotgun", "live", 20),
        ("cartridge", "spent", 1_000),
        ("grenade", "live", 4),
        ("mortar_bomb", "live", 6),
    ]:
        AmmunitionItem.objects.create(
            incident=incident, calibre="x", category=category, state=state, quantity=quantity
        )

    counted = totals(Incident.objects.visible_to(world.users["admin"]).filter(pk=incident.pk))

    assert counted["rounds"] == 320


@pytest.mark.django_db
def test_weapons_only_observed_are_not_counted_as_seized_found_or_surrendered():
    from incidents.models import WeaponItem
    from reports.documents.figures import under_control_by_category, under_control_by_country_year

    world = build_world()
    incident = world.records["alpha_verified_L5"]
    Incident.objects.filter(pk=incident.pk).update(kind="checkpoint_seizure")
    WeaponItem.objects.create(incident=incident, category="assault_rifle", quantity=3)
    WeaponItem.objects.create(
        incident=incident, category="assault_rifle", quantity=40, recovery="observed"
    )
    chosen = Incident.objects.visible_to(world.users["admin"]).filter(pk=incident.pk)

    assert totals(chosen)["weapons"] == 3
    [(_country, _year, seized, _found, _surrendered, total, _traced, _established)] = (
        under_control_by_country_year(chosen)
    )
    assert (seized, total) == (3, 3)
    assert [row[-1] for row in under_control_by_category(chosen)] == [3]

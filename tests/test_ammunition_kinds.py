"""Ammunition is counted by its kind (issue 19): the reports' rounds are live cartridges,
never grenades, mortar bombs or spent cases added to them."""

import pytest

from incidents.models import AmmunitionItem, Incident
from reports.figures import totals
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

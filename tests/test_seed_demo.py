"""The demo data set is realistic enough to try every analysis on, and safe to re-run."""

from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from incidents.choices import WeaponCategory
from incidents.models import Incident, TraceRequest, WeaponItem
from organisations.models import Contingent, Mission

# Generous boxes around the three host countries (west, south, east, north).
HOST_COUNTRY_BOXES = {
    "CAF": (14.0, 2.0, 27.5, 11.5),
    "COD": (27.5, -4.0, 31.5, 3.0),
    "SSD": (27.5, 3.0, 33.5, 10.5),
}


@pytest.fixture
def seeded(db, tmp_path):
    call_command("seed_demo", incidents=400, seed=11, login_file=tmp_path / "login.txt")
    return tmp_path / "login.txt"


def test_seed_makes_several_missions_and_contingents(seeded):
    assert Mission.objects.count() == 3
    assert Contingent.objects.values("contributing_country").distinct().count() >= 8
    assert Incident.objects.count() == 400
    assert Incident.objects.values("contingent").distinct().count() >= 10


def test_seeded_incidents_lie_in_their_host_country(seeded):
    for incident in Incident.objects.select_related("mission"):
        west, south, east, north = HOST_COUNTRY_BOXES[incident.mission.host_countries[0]]
        assert west <= incident.location.x <= east, incident.location
        assert south <= incident.location.y <= north, incident.location


def test_seeded_incidents_have_the_h3_cell_of_their_point(seeded):
    import h3

    from incidents.services import H3_RESOLUTION

    for incident in Incident.objects.all():
        point = incident.location
        expected = int(h3.latlng_to_cell(point.y, point.x, H3_RESOLUTION), 16)
        assert incident.h3_cell == expected, incident.pk


def test_seeded_weapons_are_mostly_assault_rifles_and_craft_weapons(seeded):
    categories = Counter(WeaponItem.objects.values_list("category", flat=True))
    top_two = {category for category, _count in categories.most_common(2)}
    assert top_two == {WeaponCategory.ASSAULT_RIFLE, WeaponCategory.CRAFT_PRODUCED}
    assert len(categories) >= 8


def test_seed_makes_serial_batches_seized_in_different_incidents(seeded):
    serials_by_model = {}
    for make, model, serial, incident_id in WeaponItem.objects.exclude(
        serial_number=""
    ).values_list("make", "model", "serial_number", "incident_id"):
        serials_by_model.setdefault((make, model), []).append((int(serial), incident_id))
    close_pairs_across_incidents = sum(
        1
        for items in serials_by_model.values()
        for index, (serial, incident) in enumerate(items)
        for other_serial, other_incident in items[index + 1 :]
        if abs(serial - other_serial) <= 400 and incident != other_incident
    )
    assert close_pairs_across_incidents >= 3


def test_seed_traces_some_weapons_to_a_point_of_diversion(seeded):
    established = TraceRequest.objects.filter(diversion_established=True)
    assert established.exists()
    assert not established.filter(diversion_point__isnull=True).exists()
    assert not established.filter(diversion_country="").exists()


def test_seed_is_deterministic_for_a_seed(db):
    call_command("seed_demo", incidents=50, seed=5)
    first = list(Incident.objects.order_by("id").values_list("kind", "occurred_at"))
    Incident.objects.all().delete()
    call_command("seed_demo", incidents=50, seed=5)
    second = list(Incident.objects.order_by("id").values_list("kind", "occurred_at"))
    assert first == second


def test_second_run_with_if_empty_adds_nothing_and_keeps_the_password(seeded: Path):
    password = seeded.read_text().strip()

    call_command("seed_demo", incidents=400, if_empty=True, login_file=seeded)

    assert Incident.objects.count() == 400
    assert Mission.objects.count() == 3
    assert get_user_model().objects.filter(username__startswith="demo-").count() == 4
    assert get_user_model().objects.get(username="demo-analyst").check_password(password)


def test_seed_refuses_a_negative_count(db):
    with pytest.raises(CommandError, match="--incidents"):
        call_command("seed_demo", incidents=-1)


def test_seed_records_people_by_sex_and_age_and_some_ammunition(seeded):
    from incidents.models import AmmunitionItem, PersonsInvolved

    groups = set(PersonsInvolved.objects.values_list("role", "sex", "age_group"))
    assert {("suspect", "male", "adult"), ("victim", "female", "adult")} <= groups
    assert AmmunitionItem.objects.filter(quantity__gte=1).count() > 50


def test_seed_uses_the_standards_fields_and_origins_established_without_a_trace(seeded):
    from incidents.models import IllicitOrigin, PersonsInvolved

    contexts = set(Incident.objects.values_list("context", flat=True))
    assert len(contexts - {"armed_conflict", "criminal", "intercommunal", "other"}) >= 3
    assert Incident.objects.exclude(source_type="unknown").exists()
    assert Incident.objects.exclude(information_credibility="6").exists()
    assert not Incident.objects.filter(gbv_link=False).exclude(gbv_type="").exists()
    assert PersonsInvolved.objects.filter(outcome__in=["killed", "injured"]).exists()
    craft = IllicitOrigin.objects.filter(weapon__category="craft_produced")
    assert set(craft.values_list("kind", flat=True)) == {"illicit_manufacture"}
    assert (
        IllicitOrigin.objects.exclude(method="trace")
        .exclude(weapon__category="craft_produced")
        .exists()
    )


def test_seed_records_routes_justifications_arrests_and_component_serials(seeded):
    from incidents.models import PersonsInvolved, TraceRequest, WeaponItem

    checkpoint = Incident.objects.filter(kind="checkpoint_seizure")
    assert set(checkpoint.values_list("seizure_justification", flat=True)) == {"trafficking"}
    routed = checkpoint.exclude(route_departure_country="")
    assert routed.exists() and routed.count() < checkpoint.count()
    assert not routed.filter(route_destination_country="").exists()
    assert set(
        Incident.objects.filter(kind="voluntary_surrender").values_list(
            "seizure_justification", flat=True
        )
    ) <= {"not_seized"}
    assert PersonsInvolved.objects.filter(role="suspect", outcome="arrested").exists()
    assert not PersonsInvolved.objects.exclude(role="suspect").filter(outcome="arrested").exists()
    with_parts = WeaponItem.objects.exclude(component_serials=[])
    assert with_parts.exists()
    swapped = [
        weapon
        for weapon in with_parts
        if weapon.component_serials[0]["serial"] != weapon.serial_number
    ]
    assert 0 < len(swapped) < with_parts.count()
    traced = TraceRequest.objects.filter(weapon__in=with_parts)
    assert all(trace.component_serials == trace.weapon.component_serials for trace in traced)

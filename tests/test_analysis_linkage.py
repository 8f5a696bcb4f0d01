"""Serial-batch linkage: a hand-made set of serials, what joins a batch, what splits it,
what is never linked, and what each reader sees."""

from datetime import UTC, datetime

import pytest
from django.contrib.gis.geos import Point

from geo.analyses.errors import AnalysisError
from geo.analyses.linkage import LinkageParameters, analyse
from geo.analyses.source import no_progress
from incidents.choices import Context, IncidentKind, WorkflowState
from incidents.models import Incident, WeaponItem
from organisations.choices import Releasability

BANGUI = (18.583713, 4.367141)
NEAR_BANGUI = (18.85, 4.37)  # about 30 km east
BOSSANGOA = (17.45, 6.49)
GOMA = (29.221837, -1.679113)


def seizure(contingent, when, location, country="CAF", reference="") -> Incident:
    return Incident.objects.create(
        kind=IncidentKind.CACHE_DISCOVERY,
        context=Context.ARMED_CONFLICT,
        occurred_at=when,
        location=Point(*location, srid=4326),
        country=country,
        mission=contingent.mission,
        contingent=contingent,
        state=WorkflowState.VERIFIED,
        releasability=Releasability.REGIONAL_ORGANISATION,
        external_reference=reference,
    )


def weapon(incident, serial, make="Kalashnikov", model="AKM", altered=False) -> WeaponItem:
    return WeaponItem.objects.create(
        incident=incident,
        category="assault_rifle",
        make=make,
        model=model,
        serial_number=serial,
        markings_altered=altered,
    )


@pytest.fixture(autouse=True)
def serial_batches(world):
    alpha = world.records["alpha_draft_L1"].contingent
    bravo = world.records["bravo_draft_L5"].contingent
    charlie = world.records["charlie_draft_L5"].contingent
    a1 = seizure(alpha, datetime(2024, 1, 10, tzinfo=UTC), BANGUI, reference="A-1")
    b1 = seizure(bravo, datetime(2024, 3, 5, tzinfo=UTC), BANGUI, reference="B-1")
    c1 = seizure(charlie, datetime(2024, 6, 1, tzinfo=UTC), GOMA, "COD", reference="C-1")
    a2 = seizure(alpha, datetime(2024, 7, 20, tzinfo=UTC), BOSSANGOA, reference="A-2")
    a3 = seizure(alpha, datetime(2024, 8, 1, tzinfo=UTC), BANGUI)
    a4 = seizure(alpha, datetime(2024, 9, 1, tzinfo=UTC), BANGUI)
    a5 = seizure(alpha, datetime(2024, 9, 2, tzinfo=UTC), NEAR_BANGUI)

    # One batch, however make and model are written, across three contingents.
    k = {
        "k1": weapon(a1, "AK-47-123456"),
        "k2": weapon(b1, "ak-47-123470", make="KALASHNIKOV", model="akm"),
        "k3": weapon(c1, "AK-47- 123475", make=" Kalashnikov", model="A KM", altered=True),
        "k4": weapon(a2, "AK-47-123490"),
        "k5": weapon(a2, "AK-47-123600"),  # 110 after k4
    }
    # Close to the batch but never of it.
    weapon(b1, "AK-74-123460")  # another prefix
    weapon(b1, "AK-47-123461", model="AK-74")  # another model
    weapon(b1, "AK-47-0123462")  # seven digits: another marking scheme
    weapon(b1, "AK-47-123463", make="Norinco")  # another make
    # Three close serials in one incident.
    for serial in ("ZZ-1000", "ZZ-1001", "ZZ-1002"):
        weapon(a3, serial, make="Norinco", model="Type 56")
    # One contingent, two incidents about 30 km apart.
    q1 = weapon(a4, "Q5000", make="Norinco", model="Type 56")
    q2 = weapon(a5, "Q5001", make="Norinco", model="Type 56")
    # Not linkable, one for each reason.
    weapon(a1, "")
    weapon(a1, "AK-47-12?456", altered=True)
    weapon(a1, "X-100200", make="")
    weapon(a1, "UNKNOWN")
    weapon(a1, "A-12")
    world.records.update(a1=a1, b1=b1, c1=c1, a2=a2, a3=a3, a4=a4, a5=a5)
    world.weapons = {**k, "q1": q1, "q2": q2}


def link(world, persona="admin", **parameters) -> dict:
    incidents = Incident.objects.visible_to(world.users[persona])
    return analyse(incidents, LinkageParameters(**parameters), no_progress)


def batch_weapons(batch) -> list[int]:
    return [item["weapon_id"] for item in batch["items"]]


def ids(world, *names) -> list[int]:
    return [world.weapons[name].pk for name in names]


def test_close_serials_of_one_make_and_model_seized_apart_form_one_batch(world):
    result = link(world)

    assert result["batches_found"] == 2
    kalashnikov, norinco = result["batches"]
    assert batch_weapons(kalashnikov) == ids(world, "k1", "k2", "k3", "k4")
    assert (kalashnikov["make"], kalashnikov["model"], kalashnikov["prefix"]) == (
        "Kalashnikov",
        "AKM",
        "AK-47-",
    )
    assert (kalashnikov["first_serial"], kalashnikov["last_serial"]) == (
        "AK-47-123456",
        "AK-47-123490",
    )
    assert kalashnikov["item_count"] == 4
    records = world.records
    assert kalashnikov["incidents"] == sorted(
        r.pk for r in (records["a1"], records["b1"], records["c1"], records["a2"])
    )
    assert len(kalashnikov["contingents"]) == 3
    assert kalashnikov["countries"] == ["CAF", "COD"]
    assert kalashnikov["first_seized"].startswith("2024-01-10")
    assert kalashnikov["last_seized"].startswith("2024-07-20")
    first = kalashnikov["items"][0]
    assert first == {
        "weapon_id": world.weapons["k1"].pk,
        "incident_id": records["a1"].pk,
        "external_reference": "A-1",
        "serial_number": "AK-47-123456",
        "country": "CAF",
        "contingent_id": records["a1"].contingent_id,
        "occurred_at": first["occurred_at"],
    }
    assert batch_weapons(norinco) == ids(world, "q1", "q2")


def test_unlinkable_items_are_counted_by_reason_and_left_out(world):
    result = link(world)

    assert result["items_read"] == 19
    assert result["linkable_items"] == 14
    assert result["not_linkable"] == {
        "total": 5,
        "no_serial": 1,
        "altered_unreadable": 1,
        "no_make": 1,
        "no_number": 1,
        "short_number": 1,
    }
    serials = {item["serial_number"] for b in result["batches"] for item in b["items"]}
    assert "AK-47-12?456" not in serials


def test_a_serial_range_seized_in_one_incident_is_not_reported(world):
    result = link(world)

    assert not any(b["prefix"] == "ZZ-" for b in result["batches"])
    # …though its serials are close: once seized in two incidents, they are a batch.
    WeaponItem.objects.filter(serial_number="ZZ-1002").update(incident=world.records["b1"])
    assert [b["item_count"] for b in link(world)["batches"] if b["prefix"] == "ZZ-"] == [3]


def test_a_gap_larger_than_the_threshold_splits_a_batch(world):
    wide = link(world, max_serial_gap=200)["batches"]
    narrow = link(world, max_serial_gap=10)["batches"]

    assert batch_weapons(wide[0]) == ids(world, "k1", "k2", "k3", "k4", "k5")
    # 123456 → 123470 is 14 apart: k1 is cut off; k2 and k3 (5 apart) stay together, seized
    # by two contingents; k4 (15 after k3) is alone.
    assert [batch_weapons(b) for b in narrow if b["prefix"] == "AK-47-"] == [ids(world, "k2", "k3")]


def test_different_prefix_model_make_or_width_never_join(world):
    kalashnikov = link(world, max_serial_gap=1000)["batches"][0]

    assert {item["serial_number"] for item in kalashnikov["items"]} == {
        "AK-47-123456",
        "ak-47-123470",
        "AK-47- 123475",
        "AK-47-123490",
        "AK-47-123600",
    }


def test_letters_after_the_number_must_match(world):
    records = world.records
    weapon(records["a1"], "KL12345B", make="FN", model="FAL")
    weapon(records["b1"], "kl12346b", make="FN", model="FAL")
    weapon(records["c1"], "KL12347C", make="FN", model="FAL")

    (fal,) = [b for b in link(world)["batches"] if b["make"] == "FN"]
    assert (fal["prefix"], fal["suffix"], fal["item_count"]) == ("KL", "B", 2)


def test_one_contingents_seizures_count_as_apart_only_beyond_the_distance(world):
    near = [b for b in link(world)["batches"] if b["prefix"] == "Q"]
    far_only = [b for b in link(world, min_distance_km=50)["batches"] if b["prefix"] == "Q"]

    assert len(near) == 1 and near[0]["spread_km"] == pytest.approx(29.6, abs=0.3)
    assert far_only == []
    # Two incidents at the very same place are not "apart" either.
    Incident.objects.filter(pk=world.records["a5"].pk).update(location=Point(*BANGUI))
    assert not [b for b in link(world)["batches"] if b["prefix"] == "Q"]


def test_min_items_and_max_batches(world):
    assert [b["prefix"] for b in link(world, min_items=3)["batches"]] == ["AK-47-"]
    listed = link(world, max_batches=1)
    assert (listed["batches_found"], len(listed["batches"]), listed["truncated"]) == (2, 1, True)


def test_readers_link_only_what_they_see(world):
    minusca = link(world, persona="mission_analyst")
    monusco = link(world, persona="other_mission_analyst")

    # Without MONUSCO's k3, three close serials across Alpha and Bravo remain one batch.
    kalashnikov = minusca["batches"][0]
    assert batch_weapons(kalashnikov) == ids(world, "k1", "k2", "k4")
    assert len(kalashnikov["contingents"]) == 2
    assert kalashnikov["countries"] == ["CAF"]
    assert monusco["items_read"] == 1 and monusco["batches"] == []


def test_generalised_locations_give_generalised_distances(world):
    (q,) = [b for b in link(world, persona="regional_analyst")["batches"] if b["prefix"] == "Q"]

    # Both points snapped to the 0.25° grid: a quarter degree of longitude apart.
    assert q["spread_km"] == pytest.approx(27.7, abs=0.3)


def test_no_weapons_to_read_is_an_error(world):
    with pytest.raises(AnalysisError):
        link(world, persona="nobody")
    with pytest.raises(ValueError, match="min_items"):
        LinkageParameters(min_items=1)

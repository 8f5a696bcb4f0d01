"""The registry's matching (incidents/registry/matching.py) on serials with every kind of
alteration: for each, the expected hit and no spurious one; then precision and recall on a
generated set of 10,000 registry weapons and 500 planted altered copies."""

import random
import string
from datetime import date

import pytest

from incidents.choices import WeaponCategory
from incidents.models import RegistryEntry, RegistrySerial, WeaponItem
from incidents.registry.choices import Circumstance, ReportingBodyKind
from incidents.registry.matching import (
    REGISTRY,
    SEIZURES,
    entries_against_seizures,
    serial_against,
    weapons_against_registry,
    weapons_against_seizures,
)
from organisations.choices import Releasability

pytestmark = pytest.mark.django_db


def _entry(serial: str, make: str = "Kalashnikov", component: str = "frame") -> RegistryEntry:
    entry = RegistryEntry.objects.create(
        category=WeaponCategory.ASSAULT_RIFLE,
        make=make,
        circumstance=Circumstance.ATTACK,
        occurred_on=date(2025, 1, 5),
        country="CAF",
        reporting_body_kind=ReportingBodyKind.MISSION,
        reporting_body="MINUSCA",
        contact="jmac@example.org",
        releasability=Releasability.MISSION_ONLY,
    )
    RegistrySerial.objects.create(entry=entry, component=component, serial=serial)
    return entry


def _seized(world, serial: str, make: str = "Kalashnikov", **fields) -> WeaponItem:
    return WeaponItem.objects.create(
        incident=world.records[fields.pop("record", "alpha_verified_L5")],
        category=WeaponCategory.ASSAULT_RIFLE,
        make=make,
        serial_number=serial,
        **fields,
    )


# (registry serial, seized serial, expected reason), each a different kind of alteration.
ALTERED = [
    ("AB123456", "AB123456", "exact"),
    ("AB123456", "ab 12-34.56", "exact"),  # separators and case
    ("AO123456", "A0123456", "confusable"),  # O read as 0
    ("KD551882", "KQ5S1BB2", "confusable"),  # D/Q, 5/S, 8/B
    ("LZ170610", "1217O61O", "confusable"),  # L/1, Z/2, 7/1, 0/O
    ("GX246810", "6X246810", "confusable"),  # G/6
    ("AB123456", "AB12?456", "unreadable"),  # one unreadable character
    ("AB123456", "AB1*6", "unreadable"),  # a run of them
    ("AB12?456", "AB123456", "unreadable"),  # the registry's serial partly unreadable
    ("AB123456", "AB12456", "missing"),  # a character worn away
    ("AB123456", "AB1234567", "added"),  # a character too many
    ("AB123456", "AB1Z3?56", "unreadable"),  # confusable and unreadable together
]


@pytest.mark.parametrize(("recorded", "seized", "reason"), ALTERED)
def test_each_kind_of_alteration_finds_the_registry_entry(world, recorded, seized, reason):
    entry = _entry(recorded)
    _entry("ZZ998877")  # another weapon, never found
    weapon = _seized(world, seized)
    matches = weapons_against_registry([weapon.pk])
    assert [(m.owner_id, m.reason) for m in matches] == [(entry.pk, reason)]
    assert 0 < matches[0].score <= 1


# (registry serial, seized serial): no hit.
NOT_THE_SAME = [
    ("AB123456", "AB123457"),  # the next weapon of the batch: one character changed
    ("AB123456", "AB123465"),  # two characters swapped
    ("AB123456", "AB1256"),  # two characters missing
    ("AB123456", "XY123456"),  # another prefix
    ("AB129957", "AB12??56"),  # unreadable, but a readable character differs
    ("A1?", "A12"),  # too few readable characters for a partial match
    ("1234", "12345"),  # too short for a missing character
    ("AB123456", "*"),
]


@pytest.mark.parametrize(("recorded", "seized"), NOT_THE_SAME)
def test_a_different_serial_finds_nothing(world, recorded, seized):
    _entry(recorded)
    weapon = _seized(world, seized)
    assert weapons_against_registry([weapon.pk]) == []


def test_makes_must_agree_and_an_unknown_make_lowers_the_score(world):
    same = _entry("KM100200", make="Kalashnikov")
    alias = _entry("KM100200", make="Izhmash")  # an alias of the list's Kalashnikov?
    unknown = _entry("KM100200", make="")
    _entry("KM100200", make="Norinco")  # another manufacturer: no hit
    weapon = _seized(world, "KM100200", make="kalashnikov ")
    found = {m.owner_id: m for m in weapons_against_registry([weapon.pk])}
    assert found[same.pk].make_agreement == "same" and found[same.pk].score == 1.0
    assert found[unknown.pk].make_agreement == "unknown" and found[unknown.pk].score == 0.8
    assert alias.pk not in found or found[alias.pk].make_agreement == "same"
    assert (
        len([m for m in found.values() if m.owner_id not in (same.pk, unknown.pk, alias.pk)]) == 0
    )


def test_aliases_of_one_manufacturer_agree(world):
    from incidents.models import Manufacturer, ManufacturerAlias

    maker = Manufacturer.objects.create(name="Test Arsenal")
    ManufacturerAlias.objects.create(manufacturer=maker, spelling="TA Works")
    entry = _entry("TA445566", make="Test Arsenal")
    weapon = _seized(world, "TA445566", make="TA works")
    assert [(m.owner_id, m.make_agreement) for m in weapons_against_registry([weapon.pk])] == [
        (entry.pk, "same")
    ]


def test_component_serials_and_the_restored_serial_are_matched(world):
    barrel = _entry("BR778899", component="barrel")
    restored = _entry("RS112233")
    weapon = _seized(
        world,
        "??????",
        markings_altered=True,
        restored_serial_number="RS112233",
        component_serials=[{"component": "barrel", "serial": "BR778899"}],
    )
    assert {m.owner_id for m in weapons_against_registry([weapon.pk])} == {barrel.pk, restored.pk}


def test_seizures_match_other_seizures_but_not_within_one_record(world):
    first = _seized(world, "QQ246802", record="alpha_verified_L5")
    _seized(world, "QQ246802", record="alpha_verified_L5")  # the same record: a duplicate
    later = _seized(world, "QQ24680Z", record="charlie_verified_L5")
    matches = weapons_against_seizures([later.pk])
    assert {(m.owner_id, m.reason) for m in matches} >= {(first.pk, "confusable")}
    assert all(m.owner_id != later.pk for m in matches)
    assert weapons_against_seizures([first.pk]) == [
        m for m in weapons_against_seizures([first.pk]) if m.owner_id == later.pk
    ]


def test_an_entry_written_later_finds_the_seizures_already_on_record(world):
    weapon = _seized(world, "LT550011")
    entry = _entry("LT55OO11")
    assert [(m.owner_id, m.reason) for m in entries_against_seizures([entry.pk])] == [
        (weapon.pk, "confusable")
    ]


def test_a_serial_asked_finds_both_sides(world):
    entry = _entry("AS909090")
    weapon = _seized(world, "AS9O9O9O")
    assert [m.owner_id for m in serial_against(REGISTRY, serial="as-909090", make="")] == [entry.pk]
    assert [m.owner_id for m in serial_against(SEIZURES, serial="AS909090", make="AK")] == []
    assert [m.owner_id for m in serial_against(SEIZURES, serial="AS909090", make="")] == [weapon.pk]


# --- precision and recall ----------------------------------------------------------------

CONFUSABLE_PAIRS = {
    "0": "O",
    "O": "0",
    "1": "I",
    "I": "1",
    "5": "S",
    "S": "5",
    "8": "B",
    "B": "8",
    "2": "Z",
    "Z": "2",
    "6": "G",
    "G": "6",
    "7": "1",
    "D": "0",
}


def _altered(serial: str, kind: str, rng: random.Random) -> str:
    if kind == "confusable":
        places = [i for i, c in enumerate(serial) if c in CONFUSABLE_PAIRS]
        i = rng.choice(places)
        return serial[:i] + CONFUSABLE_PAIRS[serial[i]] + serial[i + 1 :]
    if kind == "unreadable":
        i = rng.randrange(2, len(serial))
        return serial[:i] + "?" + serial[i + 1 :]
    if kind == "run":
        i = rng.randrange(3, len(serial) - 2)
        return serial[:i] + "*" + serial[i + 2 :]
    if kind == "missing":
        i = rng.randrange(len(serial))
        return serial[:i] + serial[i + 1 :]
    if kind == "added":
        i = rng.randrange(len(serial) + 1)
        return serial[:i] + rng.choice(string.digits) + serial[i:]
    return "-".join([serial[:2].lower(), serial[2:]])  # separators and case


KINDS = ("confusable", "unreadable", "run", "missing", "added", "written")
MAKES = ("Kalashnikov", "FN Herstal", "Norinco", "Heckler & Koch", "Beretta")


def test_precision_and_recall_on_ten_thousand_weapons_with_five_hundred_altered_copies(
    world, capsys
):
    """10,000 registry weapons (two letters and six digits, five makes), 500 seized
    copies altered in one of six ways, and 500 seized weapons of their own serials.

    Floors: every planted copy but a rare one must be found (recall ≥ 0.98: a copy can be
    lost only where an alteration made it fit too few readable characters); and hits
    other than the planted ones must stay rare (precision ≥ 0.95): with 10,000 random
    serials of 8 characters, one edit or a confusable character reaches another weapon's
    serial only by chance, a few times at most."""
    rng = random.Random(23)
    serials: set[str] = set()
    while len(serials) < 10_000:
        serials.add(
            "".join(rng.choices(string.ascii_uppercase, k=2))
            + "".join(rng.choices(string.digits, k=6))
        )
    ordered = sorted(serials)
    entries = RegistryEntry.objects.bulk_create(
        RegistryEntry(
            category=WeaponCategory.ASSAULT_RIFLE,
            make=MAKES[i % len(MAKES)],
            circumstance=Circumstance.THEFT,
            occurred_on=date(2024, 6, 1),
            country="CAF",
            reporting_body_kind=ReportingBodyKind.STATE,
            reporting_body="CAF",
            contact="x",
            releasability=Releasability.MISSION_ONLY,
        )
        for i in range(len(ordered))
    )
    RegistrySerial.objects.bulk_create(
        RegistrySerial(entry=entry, component="frame", serial=serial)
        for entry, serial in zip(entries, ordered, strict=True)
    )
    planted_sources = rng.sample(range(len(ordered)), 500)
    incident = world.records["charlie_verified_L5"]
    weapons, expected = [], {}
    for n, source in enumerate(planted_sources):
        kind = KINDS[n % len(KINDS)]
        serial = ordered[source]
        if kind == "confusable" and not any(c in CONFUSABLE_PAIRS for c in serial):
            kind = "missing"
        weapons.append(
            WeaponItem(
                incident=incident,
                category=WeaponCategory.ASSAULT_RIFLE,
                make=MAKES[source % len(MAKES)] if n % 4 else "",
                serial_number=_altered(serial, kind, rng),
            )
        )
        expected[len(weapons) - 1] = (entries[source].pk, kind)
    while len(weapons) < 1000:
        serial = "".join(rng.choices(string.ascii_uppercase, k=2)) + "".join(
            rng.choices(string.digits, k=6)
        )
        if serial not in serials:
            weapons.append(
                WeaponItem(
                    incident=incident,
                    category=WeaponCategory.ASSAULT_RIFLE,
                    make=rng.choice(MAKES),
                    serial_number=serial,
                )
            )
    created = WeaponItem.objects.bulk_create(weapons)
    matches = weapons_against_registry([weapon.pk for weapon in created])
    found = {(m.source_id, m.owner_id) for m in matches}
    planted = {(created[i].pk, entry_id) for i, (entry_id, _kind) in expected.items()}
    true_hits = found & planted
    recall = len(true_hits) / len(planted)
    precision = len(true_hits) / len(found) if found else 1.0
    by_kind = {}
    for i, (entry_id, kind) in expected.items():
        hit = (created[i].pk, entry_id) in found
        total, hits = by_kind.get(kind, (0, 0))
        by_kind[kind] = (total + 1, hits + hit)
    with capsys.disabled():
        print(
            f"\nregistry matching: {len(matches)} hits, recall {recall:.3f}, "
            f"precision {precision:.3f}; by kind (planted, found): {by_kind}"
        )
    assert recall >= 0.98
    assert precision >= 0.95

"""A hand-counted set of weapons, traces, custody events and people on the personas'
records (tests/personas.py), for the report tests. All records date from 14 March 2025.

| record               | kind                | country | weapons (quantity)                       |
|----------------------|---------------------|---------|------------------------------------------|
| alpha_verified_L1    | checkpoint seizure  | CAF     | assault rifle ×2 (traced: SDN), craft ×3 |
| alpha_verified_L3    | cache discovery     | CAF     | rifle ×4 (trace sent, no answer)         |
| alpha_verified_L5    | voluntary surrender | CAF     | pistol ×1 (traced: TCD)                  |
| bravo_verified_L4    | loss or theft       | CAF     | assault rifle ×5                         |
| charlie_verified_L5  | cache discovery     | COD     | light machine gun ×2 (traced: UGA)       |

Only alpha_verified_L1 (mission only) has craft-produced weapons, people involved and a
link to gender-based violence: the regional analyst (CAF, regional level and wider) may not
see it.
"""

from datetime import UTC, date, datetime

from incidents.choices import (
    AgeGroup,
    CustodyEventKind,
    IncidentKind,
    PersonRole,
    Sex,
    TraceStatus,
    WeaponCategory,
)
from incidents.custody import custody_event_append
from incidents.models import Incident, PersonsInvolved, TraceRequest, WeaponItem
from tests.personas import build_world

MARCH_2025 = (date(2025, 3, 1), date(2025, 3, 31))


def _weapon(incident, category, quantity, **fields) -> WeaponItem:
    return WeaponItem.objects.create(
        incident=incident, category=category, quantity=quantity, **fields
    )


def _trace(weapon, *, diversion_country="", sent_on=date(2025, 3, 16), answered=True):
    return TraceRequest.objects.create(
        weapon=weapon,
        addressee="Ministry of Defence",
        sent_on=sent_on,
        answered_on=date(2025, 3, 28) if answered else None,
        status=TraceStatus.ANSWERED if diversion_country else TraceStatus.SENT,
        diversion_established=bool(diversion_country),
        diversion_country=diversion_country,
        last_legal_end_user="National army" if diversion_country else "",
    )


def build_report_world():
    world = build_world()
    records = world.records
    kinds = {
        "alpha_verified_L3": IncidentKind.CACHE_DISCOVERY,
        "alpha_verified_L5": IncidentKind.VOLUNTARY_SURRENDER,
        "bravo_verified_L4": IncidentKind.LOSS_OR_THEFT,
        "charlie_verified_L5": IncidentKind.CACHE_DISCOVERY,
    }
    for name, kind in kinds.items():
        Incident.objects.filter(pk=records[name].pk).update(kind=kind)
    Incident.objects.filter(pk=records["alpha_verified_L1"].pk).update(gbv_link=True)

    rifle = _weapon(
        records["alpha_verified_L1"],
        WeaponCategory.ASSAULT_RIFLE,
        2,
        make="Norinco",
        model="Type 56",
        calibre="7.62x39mm",
        serial_number="56-1234567",
        country_of_manufacture="CHN",
        factory_markings="=cmd|' /C calc'!A0",
    )
    _weapon(records["alpha_verified_L1"], WeaponCategory.CRAFT_PRODUCED, 3)
    carbine = _weapon(records["alpha_verified_L3"], WeaponCategory.RIFLE_CARBINE, 4)
    pistol = _weapon(records["alpha_verified_L5"], WeaponCategory.REVOLVER_PISTOL, 1)
    _weapon(records["bravo_verified_L4"], WeaponCategory.ASSAULT_RIFLE, 5)
    machine_gun = _weapon(records["charlie_verified_L5"], WeaponCategory.LIGHT_MACHINE_GUN, 2)
    _trace(rifle, diversion_country="SDN")
    _trace(carbine, answered=False)
    _trace(pistol, diversion_country="TCD")
    _trace(machine_gun, diversion_country="UGA")
    PersonsInvolved.objects.create(
        incident=records["alpha_verified_L1"],
        role=PersonRole.SUSPECT,
        sex=Sex.FEMALE,
        age_group=AgeGroup.ADULT,
        count=3,
    )
    verifier = world.users["verifier"]
    custody_event_append(
        weapon=rifle,
        by=verifier,
        kind=CustodyEventKind.STORED,
        occurred_at=datetime(2025, 3, 20, tzinfo=UTC),
        place="Bangui armoury",
    )
    custody_event_append(
        weapon=rifle,
        by=verifier,
        kind=CustodyEventKind.DESTROYED,
        occurred_at=datetime(2025, 3, 25, tzinfo=UTC),
        destruction_method="cutting",
        witnessed_by="MINUSCA and national commission",
    )
    return world

"""An incident's revisions rise on every change to its record, however written, and the
fingerprint of what an analysis or a report read changes with it."""

from datetime import UTC, date, datetime

from django.db import connection

from geo.analyses.source import data_fingerprint
from incidents.choices import AgeGroup, AmmunitionType, PersonRole, Sex, WorkflowState
from incidents.models import (
    AmmunitionItem,
    CustodyEvent,
    Incident,
    IncidentPartsRevision,
    PersonsInvolved,
    TraceRequest,
    WeaponItem,
)
from tests.test_analysis_flows import item, trace


def revision(incident: Incident) -> tuple[int, int]:
    """The incident's own revision and that of its parts (0 while none was written)."""
    parts = IncidentPartsRevision.objects.filter(incident=incident).values_list(
        "revision", flat=True
    )
    own = Incident.objects.filter(pk=incident.pk).values_list("revision", flat=True)[0]
    return own, next(iter(parts), 0)


def fingerprint(flows_world) -> str:
    return data_fingerprint(Incident.objects.visible_to(flows_world.users["admin"]))[0]


def test_every_change_to_an_incidents_record_raises_a_revision_and_the_fingerprint(flows_world):
    a, c = flows_world.records["a"], flows_world.records["c"]
    weapon = a.weapons.get(country_of_manufacture="CHN")
    changes = {
        "the incident saved": lambda: Incident.objects.get(pk=a.pk).save(),
        "a queryset update": lambda: Incident.objects.filter(pk=a.pk).update(
            state=WorkflowState.SUBMITTED
        ),
        "raw SQL": lambda: _raw("UPDATE incidents_incident SET narrative = 'x' WHERE id = %s", a),
        "a weapon added": lambda: item(a, made_in="BEL"),
        "a weapon's quantity": lambda: WeaponItem.objects.filter(pk=weapon.pk).update(quantity=7),
        "a weapon's disposition": lambda: WeaponItem.objects.filter(pk=weapon.pk).update(
            disposition="destroyed"
        ),
        "a trace sent": lambda: trace(weapon, established=False),
        "a trace answered": lambda: TraceRequest.objects.filter(weapon=weapon).update(
            answered_on=date(2025, 9, 1)
        ),
        "a custody event": lambda: CustodyEvent.objects.create(
            weapon=weapon,
            sequence=1,
            kind="stored",
            occurred_at=datetime(2025, 9, 2, tzinfo=UTC),
            recorded_by=flows_world.users["admin"],
            previous_hash="0" * 64,
            hash="1" * 64,
        ),
        "ammunition": lambda: AmmunitionItem.objects.create(
            incident=a, calibre="7.62x39", ammunition_type=AmmunitionType.BALL, quantity=30
        ),
        "people involved": lambda: PersonsInvolved.objects.create(
            incident=a, role=PersonRole.SUSPECT, sex=Sex.FEMALE, age_group=AgeGroup.ADULT, count=1
        ),
        "people removed": lambda: PersonsInvolved.objects.filter(incident=a).delete(),
        "a weapon moved to another incident": lambda: WeaponItem.objects.filter(
            pk=weapon.pk
        ).update(incident=c),
    }
    for change, write in changes.items():
        before_a, before_c, before_print = revision(a), revision(c), fingerprint(flows_world)
        write()
        assert revision(a) > before_a, change
        assert fingerprint(flows_world) != before_print, change
        if change == "a weapon moved to another incident":
            assert revision(c) > before_c  # both ends of the move
    # Nothing written: nothing revised, the fingerprint the same.
    unchanged = revision(a), fingerprint(flows_world)
    WeaponItem.objects.filter(pk=-1).update(quantity=2)
    TraceRequest.objects.filter(pk=-1).delete()
    assert (revision(a), fingerprint(flows_world)) == unchanged


def test_the_flow_triggers_own_writes_to_the_items_revise_nothing_more(flows_world):
    """An incident's change rewrites its items' copies of its columns: one revision for the
    change, not one more for each of those writes."""
    b = flows_world.records["b"]
    own, parts = revision(b)
    Incident.objects.filter(pk=b.pk).update(country="COD")
    assert revision(b) == (own + 1, parts)


def _raw(sql: str, incident: Incident) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, [incident.pk])

"""Reads over many incidents."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.gis.db.models.aggregates import Extent
from django.db import connection
from django.db.models import Count, Func, IntegerField, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce, Lower

from incidents.choices import WorkflowState
from incidents.models import Incident, ManufacturerAlias, Notification, WeaponItem
from organisations.access import Principal
from organisations.choices import Role
from organisations.models import Membership


def mission_summary(*, mission_id: int) -> dict[str, Any]:
    """Counts of a mission's incidents by kind, its weapons, and the bounding box of its
    incidents (west, south, east, north), computed in PostGIS."""
    incidents = Incident.objects.filter(mission_id=mission_id)
    by_kind = dict(
        incidents.order_by()
        .values_list("kind")
        .annotate(count=Count("id"))
        .values_list("kind", "count")
    )
    extent = incidents.aggregate(extent=Extent("location"))["extent"]
    return {
        "mission_id": mission_id,
        "incidents": sum(by_kind.values()),
        "incidents_by_kind": by_kind,
        "weapons": WeaponItem.objects.filter(incident__mission_id=mission_id).count(),
        "extent": list(extent) if extent else None,
    }


def manufacturer_spellings() -> list[str]:
    """The names and other names of the controlled list of manufacturers, for the entry
    form's suggestions."""
    return sorted(ManufacturerAlias.objects.values_list("spelling", flat=True), key=str.casefold)


def possible_duplicates(
    weapons: list[WeaponItem], *, seen_by: Principal
) -> dict[int, list[WeaponItem]]:
    """For each of `weapons` with a serial number, the other items on record with the same
    make and serial number (in any case) that `seen_by` may read, by weapon id: one query
    for the whole record (WeaponItem.possible_duplicates is the same rule for one item)."""
    # The keys in the database's own lower case on both sides, as `iexact` compares.
    keyed = WeaponItem.objects.annotate(make_key=Lower("make"), serial_key=Lower("serial_number"))
    keys = {
        weapon_id: (make, serial)
        for weapon_id, make, serial in keyed.filter(
            pk__in=[weapon.pk for weapon in weapons if weapon.serial_number]
        ).values_list("pk", "make_key", "serial_key")
    }
    if not keys:
        return {}
    others = (
        keyed.filter(
            serial_key__in={serial for _make, serial in keys.values()},
            incident__in=Incident.objects.visible_to(seen_by),
        )
        .exclude(pk__in=keys)
        .select_related("incident")
        .order_by("pk")
    )
    by_key: dict[tuple[str, str], list[WeaponItem]] = {}
    for other in others:
        by_key.setdefault((other.make_key, other.serial_key), []).append(other)
    return {weapon_id: by_key.get(key, []) for weapon_id, key in keys.items()}


def _waiting_conditions(user) -> dict[str, Q]:
    memberships = Membership.objects.filter(user=user)
    return {
        "to_verify": Q(
            state=WorkflowState.SUBMITTED,
            mission_id__in=memberships.filter(role=Role.VERIFIER).values("mission_id"),
        ),
        "returned": Q(
            state=WorkflowState.RETURNED,
            contingent_id__in=memberships.filter(role=Role.REPORTER).values("contingent_id"),
        ),
    }


def waiting_queues(user) -> dict[str, QuerySet]:
    """What waits for `user`'s hand (issue 21), in what it may read, oldest first: its
    missions' records submitted for verification (`to_verify`, to a verifier) and its
    contingents' records returned for correction (`returned`, to a reporter)."""
    if not user.is_authenticated:
        return {"to_verify": Incident.objects.none(), "returned": Incident.objects.none()}
    readable = Incident.objects.visible_to(user).filter(withdrawn_at__isnull=True)
    return {
        queue: readable.filter(condition).order_by("updated_at", "id")
        for queue, condition in _waiting_conditions(user).items()
    }


def _count(queryset: QuerySet) -> Coalesce:
    # COUNT as a plain function, not an aggregate: the subquery needs no GROUP BY. A
    # reader who can see nothing makes an empty subquery, NULL: counted as 0.
    return Coalesce(
        Subquery(
            queryset.order_by().annotate(count=Func("id", function="COUNT")).values("count"),
            output_field=IntegerField(),
        ),
        0,
    )


def work_waiting(user) -> dict[str, int]:
    """How many records wait for `user` (waiting_queues) and how many of its notifications
    it has not read, in one query (every page's top bar shows them): the records read from
    the few in those states (incident_awaiting_hand), the notifications from the unread
    ones (notification_unread)."""
    if not user.is_authenticated:
        return {"returned": 0, "to_verify": 0, "total": 0, "unread": 0}
    conditions = _waiting_conditions(user)
    awaiting = Incident.objects.visible_to(user).filter(withdrawn_at__isnull=True)
    counts = (
        get_user_model()
        .objects.filter(pk=user.pk)
        .values(
            to_verify=_count(awaiting.filter(conditions["to_verify"])),
            returned=_count(awaiting.filter(conditions["returned"])),
            unread=_count(Notification.objects.filter(recipient=user, read_at__isnull=True)),
        )
        .get()
    )
    return {**counts, "total": counts["to_verify"] + counts["returned"]}


def incident_revision(incident_id: int) -> str:
    """What an edit form remembers of the record it opened: the incident's own revision and
    its parts' ("7.3"). The database raises one of them on every write to the record (its
    own triggers: incidents/derived/sql/), whatever wrote it."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT incident.revision, COALESCE(parts.revision, 0)"
            " FROM incidents_incident AS incident"
            " LEFT JOIN incidents_incidentpartsrevision AS parts"
            " ON parts.incident_id = incident.id WHERE incident.id = %s",
            [incident_id],
        )
        own, parts = cursor.fetchone()
    return f"{own}.{parts}"

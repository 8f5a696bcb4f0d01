"""The serial search of agencies and readers (`GET /api/v1/weapons/search`): a serial, and
optionally a make, matched as the hit check matches them (matching.py) against the
registry and the seizures. A match the caller may read comes with its record's id; one it
may not, only with who holds it, so that it can ask for access: never the record."""

from dataclasses import dataclass

from django.utils.translation import gettext as _

from incidents.models import Incident, RegistryEntry, WeaponItem
from incidents.registry.matching import REGISTRY, SEIZURES, serial_against
from incidents.registry.querysets import registry_visibility
from organisations.access import Principal

MOST_MATCHES = 50


@dataclass(frozen=True)
class SearchMatch:
    source: str  # "registry" or "seizure"
    visible: bool
    score: float
    reason: str
    make_agreement: str
    held_by: str
    # Only where visible:
    id: int | None = None
    serial: str = ""
    message: str = ""


def serial_search(*, principal: Principal, serial: str, make: str = "") -> list[SearchMatch]:
    found = []
    entry_matches = {m.owner_id: m for m in serial_against(REGISTRY, serial=serial, make=make)}
    entries = RegistryEntry.objects.filter(pk__in=entry_matches).only("id", "reporting_body")
    readable = set(
        RegistryEntry.objects.filter(
            registry_visibility(principal), pk__in=entry_matches
        ).values_list("pk", flat=True)
    )
    for entry in entries:
        found.append(
            _shown(
                "registry",
                entry.pk,
                entry.reporting_body,
                entry.pk in readable,
                entry_matches[entry.pk],
            )
        )
    weapon_matches = {m.owner_id: m for m in serial_against(SEIZURES, serial=serial, make=make)}
    weapons = WeaponItem.objects.filter(pk__in=weapon_matches).select_related("incident__mission")
    readable = set(
        WeaponItem.objects.filter(
            pk__in=weapon_matches, incident__in=Incident.objects.visible_to(principal).values("id")
        ).values_list("pk", flat=True)
    )
    for weapon in weapons:
        found.append(
            _shown(
                "seizure",
                weapon.pk,
                weapon.incident.mission.acronym,
                weapon.pk in readable,
                weapon_matches[weapon.pk],
            )
        )
    found.sort(key=lambda match: (-match.score, match.source, match.id or 0))
    return found[:MOST_MATCHES]


def _shown(source: str, pk: int, holder: str, visible: bool, match) -> SearchMatch:
    if visible:
        return SearchMatch(
            source, True, match.score, match.reason, match.make_agreement, holder, pk, match.serial
        )
    return SearchMatch(
        source,
        False,
        match.score,
        match.reason,
        match.make_agreement,
        holder,
        message=_("A match exists, held by %(holder)s: request access.") % {"holder": holder},
    )

"""Who reads which registry entries and hits: the incidents' access policy
(incidents/access.py), applied to the entries through the incident column names they carry,
and to the hits through the records on either side."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q

from incidents.access import incident_visibility
from incidents.registry.choices import HitState
from organisations.access import AgencyPrincipal, Principal


def registry_visibility(principal: Principal) -> Q:
    """The entries `principal` may read: what the incident policy grants on their columns,
    and an agency's own entries."""
    visible = incident_visibility(principal).visible
    if isinstance(principal, AgencyPrincipal):
        visible |= Q(agency_id=principal.agency.pk)
    return visible


class RegistryEntryQuerySet(models.QuerySet):
    def visible_to(self, principal: Principal) -> RegistryEntryQuerySet:
        return self.filter(registry_visibility(principal))


class WeaponHitQuerySet(models.QuerySet):
    def with_sides_shown(self, principal: Principal) -> WeaponHitQuerySet:
        """Each hit annotated with the sides `principal` may read (`weapon_shown`,
        `other_shown`, `entry_shown`): a side it may not read is shown withheld
        (incidents/registry/hits.py, `hit_rows`; incidents/notifications.py)."""
        from incidents.models import Incident, RegistryEntry

        incidents = Incident.objects.filter(incident_visibility(principal).visible)
        entries = RegistryEntry.objects.filter(registry_visibility(principal))
        return self.annotate(
            weapon_shown=Exists(incidents.filter(pk=OuterRef("weapon__incident_id"))),
            other_shown=Exists(incidents.filter(pk=OuterRef("other_weapon__incident_id"))),
            entry_shown=Exists(entries.filter(pk=OuterRef("registry_entry_id"))),
        )

    def visible_to(self, principal: Principal) -> WeaponHitQuerySet:
        """The hits of which `principal` may read at least one side (the seized weapon's
        incident, the other seizure's or the registry entry), annotated as
        `with_sides_shown` says."""
        return self.with_sides_shown(principal).filter(
            Q(weapon_shown=True) | Q(other_shown=True) | Q(entry_shown=True)
        )

    def registry_hits_on(self, incidents: models.QuerySet) -> WeaponHitQuerySet:
        """The registry hits (not those between two seizures) on weapons of `incidents`
        (a `visible_to` queryset, filtered): counted over the seizures a reader may see,
        whether or not it may read the registry entries (the dashboard's counts)."""
        return self.filter(
            registry_entry__isnull=False,
            weapon__incident_id__in=incidents.order_by().values("pk"),
        )

    def counts_by_state(self) -> dict[str, int]:
        """The number of hits in each state (new, confirmed, dismissed), zero included."""
        counts = dict.fromkeys(HitState.values, 0)
        rows = self.order_by().values_list("state").annotate(count=models.Count("id"))
        counts.update({state: count for state, count in rows})
        return counts

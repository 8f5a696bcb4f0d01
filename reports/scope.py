"""What a report covers: its scope (a mission, a regional organisation, a country or the
world: every record its requester may read) and
period, who may ask for which scope, and the incidents that come out of both.

Reports are official outputs: every figure of every template is read from `report_reading`
below, the verified records (`Incident.objects.official()`: verified, not withdrawn) that
the requester may read (or, for a scheduled report, that its mission's analysts read),
narrowed to the scope. Whoever asks, drafts, submitted records and records returned for
correction are never counted, only counted as left out; and a report never shows what its
requester may not read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from geo.countries import country_name
from geo.models import Region
from incidents.access import mission_reader_visibility, once_verified
from incidents.models import Incident
from organisations.access import Principal, missions_read_whole
from organisations.choices import Role
from organisations.models import Membership, Mission
from reports.models import ReportTemplate, ScopeKind

# Reports cover at most this many days: beyond, ask for several.
LONGEST_PERIOD_DAYS = 366 * 10
EARLIEST, LATEST = date(1900, 1, 1), date(2100, 12, 31)
# Templates written for one kind of scope only.
TEMPLATE_SCOPES = {
    ReportTemplate.MISSION_MONTHLY: ScopeKind.MISSION,
    ReportTemplate.REGIONAL_OVERVIEW: ScopeKind.REGION,
}
# The world scope is for the Secretary-General's input only.
WORLD_TEMPLATES = (ReportTemplate.SECRETARY_GENERAL,)
WORLD = "world"


@dataclass(frozen=True)
class Scope:
    kind: str
    value: str  # the mission's id, the region's code, the country's ISO 3166-1 alpha-3 code
    label: str
    countries: tuple[str, ...]  # the member or host countries (for maps and roll-ups)
    mission_ids: tuple[int, ...]  # the missions working there (for stored hotspots)

    @property
    def in_text(self) -> str:
        """The scope as a sentence names it: "recorded in MINUSCA", "recorded in the
        world" (its label, "World", is a title's)."""
        return _("the world") if self.kind == ScopeKind.WORLD else self.label

    def narrow(self, incidents: QuerySet) -> QuerySet:
        if self.kind == ScopeKind.MISSION:
            return incidents.filter(mission_id=int(self.value))
        if self.kind == ScopeKind.REGION:
            return incidents.filter(country__in=self.countries)
        if self.kind == ScopeKind.WORLD:
            return incidents  # what the requester may read, wherever it is
        return incidents.filter(country=self.value)


def scope_resolve(*, kind: str, value: str) -> Scope:
    """The scope named by `kind` and `value`; ValidationError naming the field otherwise."""
    if kind not in ScopeKind.values:
        raise ValidationError(
            {"scope_kind": _("Unknown kind of scope: %(kind)s.") % {"kind": kind}}
        )
    value = str(value or "").strip()
    if kind == ScopeKind.WORLD:
        return Scope(
            kind=kind,
            value=WORLD,
            label=_("World"),
            countries=(),
            mission_ids=tuple(Mission.objects.order_by("pk").values_list("pk", flat=True)),
        )
    if kind == ScopeKind.MISSION:
        mission = (
            Mission.objects.filter(Q(acronym__iexact=value) | Q(pk=_int_or_none(value))).first()
            if value
            else None
        )
        if mission is None:
            raise ValidationError({"scope": _("No mission %(value)s.") % {"value": value}})
        return Scope(
            kind=kind,
            value=str(mission.pk),
            label=mission.acronym,
            countries=tuple(sorted(mission.host_countries)),
            mission_ids=(mission.pk,),
        )
    if kind == ScopeKind.REGION:
        region = Region.objects.filter(code=value).first()
        if region is None:
            raise ValidationError(
                {"scope": _("No regional organisation %(value)s.") % {"value": value}}
            )
        countries = tuple(sorted(region.member_countries))
        return Scope(
            kind=kind,
            value=region.code,
            label=region.name,
            countries=countries,
            mission_ids=_missions_in(countries),
        )
    code = value.upper()
    if len(code) != 3 or country_name(code) == code:
        raise ValidationError(
            {"scope": _("%(value)s is not an ISO 3166-1 alpha-3 country code.") % {"value": value}}
        )
    return Scope(
        kind=kind,
        value=code,
        label=country_name(code),
        countries=(code,),
        mission_ids=_missions_in((code,)),
    )


def _int_or_none(value: str) -> int | None:
    # Longer numbers are no mission's id (and would overflow the id column).
    return int(value) if value.isdigit() and len(value) <= 9 else None


def _missions_in(countries: tuple[str, ...]) -> tuple[int, ...]:
    return tuple(
        Mission.objects.filter(host_countries__overlap=list(countries))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


def scope_check_access(*, requester: Principal, scope: Scope) -> None:
    """Raise ValidationError on `scope` unless the requester works on it: a mission it
    reads whole (verifier, mission or WPS analyst), a regional organisation it analyses,
    or a country hosting such a mission or member of such an organisation; the world, for
    anyone who works on one of those (the report then reads what they may read)."""
    if requester.is_superuser and requester.is_active:
        return
    missions = missions_read_whole(requester)
    regions = set(
        Membership.objects.filter(user=requester, role=Role.REGIONAL_ANALYST).values_list(
            "regions__code", flat=True
        )
    ) - {None}
    if scope.kind == ScopeKind.WORLD:
        allowed = bool(missions or regions)
    elif scope.kind == ScopeKind.MISSION:
        allowed = int(scope.value) in missions
    elif scope.kind == ScopeKind.REGION:
        allowed = scope.value in regions
    else:
        host = Mission.objects.filter(pk__in=missions, host_countries__contains=[scope.value])
        member = Region.objects.filter(code__in=regions, member_countries__contains=[scope.value])
        allowed = host.exists() or member.exists()
    if not allowed:
        raise ValidationError(
            {"scope": _("You may not ask for reports on %(scope)s.") % {"scope": scope.label}}
        )


def template_check_scope(*, template: str, scope_kind: str) -> None:
    if template not in ReportTemplate.values:
        raise ValidationError(
            {"template": _("Unknown report template: %(template)s.") % {"template": template}}
        )
    if scope_kind == ScopeKind.WORLD and template not in WORLD_TEMPLATES:
        raise ValidationError(
            {"scope_kind": _("Only the Secretary-General's input covers the world.")}
        )
    wanted = TEMPLATE_SCOPES.get(template)
    if wanted and scope_kind != wanted:
        raise ValidationError(
            {
                "scope_kind": _("This template covers one %(kind)s.")
                % {"kind": ScopeKind(wanted).label.lower()}
            }
        )


def period_check(*, start: date, end: date) -> None:
    for name, day in (("period_start", start), ("period_end", end)):
        if not EARLIEST <= day <= LATEST:
            raise ValidationError(
                {
                    name: _("Give a date from %(earliest)s to %(latest)s.")
                    % {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()}
                }
            )
    if end < start:
        raise ValidationError({"period_end": _("The period ends before it starts.")})
    if (end - start).days > LONGEST_PERIOD_DAYS:
        raise ValidationError(
            {"period_end": _("A report covers at most ten years: ask for several.")}
        )


@dataclass(frozen=True)
class Reading:
    """What a report reads: the one selection every template builds its figures from."""

    scope: Scope
    in_scope: QuerySet  # verified records the reader may read, in the scope, any date
    in_period: QuerySet  # the same, in the report's period
    # Records in the scope and period that the reader would read once verified, left out
    # because not yet verified (counted in the methodology section, never shown).
    left_out: QuerySet


def report_reading(
    *,
    requester: Principal | None,
    mission_id: int | None,
    scope: Scope,
    start: date,
    end: date,
) -> Reading:
    """The records a report on `scope` over [start, end] reads, for `requester` (or, for a
    scheduled report, for the analysts of `mission_id`)."""
    in_scope = scope.narrow(official_incidents(requester=requester, mission_id=mission_id))
    pending = Incident.objects.filter(
        once_verified(requester, mission_id=mission_id)
    ).awaiting_verification()
    return Reading(
        scope=scope,
        in_scope=in_scope,
        in_period=in_period(in_scope, start, end),
        left_out=in_period(scope.narrow(pending), start, end),
    )


def official_incidents(*, requester: Principal | None, mission_id: int | None) -> QuerySet:
    """What a report may read before its scope and period narrow it: the verified records
    (never drafts, submitted or returned ones, never withdrawn ones) that its requester may
    read, or for a scheduled report that its mission's analysts read. An administrator and
    a mission's analysts thus count the same records of the mission."""
    if requester is not None:
        incidents = Incident.objects.visible_to(requester)
    else:
        incidents = Incident.objects.visible_with(mission_reader_visibility(mission_id))
    return incidents.official()


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The period as [start, end) in UTC: from the first day's midnight to the midnight
    after its last day."""
    return (
        datetime.combine(start, time.min, tzinfo=UTC),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=UTC),
    )


def in_period(incidents: QuerySet, start: date, end: date) -> QuerySet:
    since, until = period_bounds(start, end)
    return incidents.filter(occurred_at__gte=since, occurred_at__lt=until)

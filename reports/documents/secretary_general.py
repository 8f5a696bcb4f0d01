"""Input to the Secretary-General's report on small arms and light weapons (the General
Assembly's resolution 76/232 series), on a mission, a regional organisation, a country or
the world (every verified record the requester may read), in the sections such reports
usually have: illicit flows and seizures; multi-year trends; regional organisations and
instruments; marking, record-keeping and tracing; collection, stockpile management and
destruction; armed violence outside conflict; gender dimensions (women, peace and security
and small arms together); international assistance, cooperation and coordination.

The platform records no declared needs for assistance: the last section says "no needs
recorded" and gives the signs of needs that the records show (weapons still held by units,
altered markings, unanswered traces), for the mission to turn into its request. Where there
are no records, a figure is "no data", never a zero or a share of nothing.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from geo.models import Region
from incidents.choices import Context
from reports.documents import figures, people, sections
from reports.documents.document import Document, ReportContext, Section, Table
from reports.models import ScopeKind
from reports.scope import in_period

# The multi-year trend covers at least this many calendar years, ending with the period's.
TREND_YEARS = 5


def no_data() -> str:
    return _("no data")


def _share(part: int, whole: int) -> float | str:
    # A share of no weapons is no data, not "0.0" (nor "100 %").
    return round(100 * part / whole, 1) if whole else no_data()


def change(current: int | None, previous: int | None) -> tuple[int | str, float | str]:
    """Year-on-year change: (difference, percentage of the previous year), "no data" when
    either year has no records (and the percentage when the previous year counted 0)."""
    if current is None or previous is None:
        return no_data(), no_data()
    difference = current - previous
    return difference, round(100 * difference / previous, 1) if previous else no_data()


def yearly(ctx: ReportContext) -> tuple[list[int], dict[int, tuple[int, int]]]:
    """The trend's years and, for each year with records, (incidents, weapons): verified
    records of the scope from 1 January of the first year to the period's end."""
    end = ctx.period_end
    first = min(ctx.period_start.year, end.year - TREND_YEARS + 1)
    incidents = in_period(ctx.scope_incidents, date(first, 1, 1), end)
    rows = figures.query(
        incidents,
        f""", {figures.WEAPONS_PER_INCIDENT}
        SELECT extract(year FROM chosen.occurred_at AT TIME ZONE 'UTC')::int, count(*),
               COALESCE(sum(weapons.items), 0)
        FROM chosen LEFT JOIN weapons ON weapons.incident_id = chosen.id
        GROUP BY 1 ORDER BY 1
        """,  # noqa: S608 - fragments are ours
    )
    return list(range(first, end.year + 1)), {year: (n, w) for year, n, w in rows}


def trends_section(ctx: ReportContext) -> Section:
    years, counts = yearly(ctx)
    partial = (ctx.period_end.month, ctx.period_end.day) != (12, 31)
    rows = []
    for year in years:
        incidents, weapons = counts.get(year, (None, None))
        before_incidents, before_weapons = counts.get(year - 1, (None, None))
        if year == years[0]:
            before_incidents = before_weapons = None  # the year before is not read
        incidents_change, _pct = change(incidents, before_incidents)
        weapons_change, weapons_pct = change(weapons, before_weapons)
        if partial and year == years[-1]:
            incidents_change = weapons_change = weapons_pct = _("partial year")
        rows.append(
            [
                str(year),
                no_data() if incidents is None else incidents,
                incidents_change,
                no_data() if weapons is None else weapons,
                weapons_change,
                weapons_pct,
            ]
        )
    paragraphs = [
        _(
            "Verified records of %(scope)s by calendar year, from 1 January %(first)s to "
            '%(end)s; the change is on the year before. A year without records is "no '
            'data", not zero.'
        )
        % {"scope": ctx.scope.in_text, "first": years[0], "end": ctx.period_end.isoformat()}
    ]
    if partial:
        paragraphs.append(
            _("%(year)s is counted to %(end)s only: it is not compared with a whole year.")
            % {"year": years[-1], "end": ctx.period_end.isoformat()}
        )
    return Section(
        title=_("Multi-year trends"),
        paragraphs=paragraphs,
        tables=[
            Table(
                name="yearly_trend",
                title=_("Incidents and weapons by year, with the change on the year before"),
                columns=[
                    _("Year"),
                    _("Incidents"),
                    _("Incidents: change"),
                    _("Weapons"),
                    _("Weapons: change"),
                    _("Weapons: change (%)"),
                ],
                hxl=[
                    "#date",
                    sections.HXL_INCIDENTS,
                    "#event+num+change",
                    sections.HXL_WEAPONS,
                    "#item+weapons+num+change",
                    "#item+weapons+num+change+pct",
                ],
                rows=rows,
            )
        ],
    )


def regions_compared(ctx: ReportContext) -> list[tuple[Region, int, int, int]]:
    """(region, member States with records, incidents, weapons) of the regional
    organisations and instruments of the scope (every one, for the world); an incident
    counts in every organisation its country belongs to."""
    chosen = Region.objects.order_by("name")
    if ctx.scope.kind != ScopeKind.WORLD:
        chosen = chosen.filter(member_countries__overlap=list(ctx.scope.countries))
    regions = list(chosen)
    rows = figures.query(
        ctx.incidents,
        f""", {figures.WEAPONS_PER_INCIDENT}
        SELECT r.code, count(DISTINCT chosen.country), count(chosen.id),
               COALESCE(sum(weapons.items), 0)
        FROM geo_region AS r
        LEFT JOIN chosen ON chosen.country = ANY(r.member_countries)
        LEFT JOIN weapons ON weapons.incident_id = chosen.id
        WHERE r.code = ANY(%s) GROUP BY r.code
        """,  # noqa: S608 - fragments are ours; values are parameters
        ([region.code for region in regions],),
    )
    counts = {code: (countries, n, w) for code, countries, n, w in rows}
    return [(region, *counts.get(region.code, (0, 0, 0))) for region in regions]


def regions_section(ctx: ReportContext) -> Section:
    compared = regions_compared(ctx)
    organisations = [row for row in compared if row[0].kind == Region.Kind.ORGANISATION]
    instruments = [row for row in compared if row[0].kind == Region.Kind.INSTRUMENT]
    section = Section(
        title=_("Regional organisations and instruments"),
        paragraphs=[
            _(
                "Incidents and weapons in the member States of each regional organisation, "
                "and in the States of each regional instrument on small arms (Kinshasa "
                "Convention, Nairobi Protocol, ECOWAS Convention, SADC Firearms Protocol). "
                "An incident counts in every organisation or instrument its country belongs "
                "to: the rows do not add up. Membership as of the date each list gives "
                "(ArmsMonitor documentation, Geography)."
            )
        ],
    )
    for name, title, rows in (
        ("regional_organisations", _("Comparison across regional organisations"), organisations),
        ("regional_instruments", _("Comparison across regional instruments"), instruments),
    ):
        section.tables.append(
            Table(
                name=name,
                title=title,
                columns=[
                    _("Regional organisation or instrument"),
                    _("Code"),
                    _("Member States"),
                    _("Member States with records"),
                    _("Incidents"),
                    _("Weapons"),
                    _("Members as of"),
                ],
                hxl=[
                    "#org+name",
                    "#org+code",
                    "#country+num",
                    "#country+num+records",
                    sections.HXL_INCIDENTS,
                    sections.HXL_WEAPONS,
                    "#date",
                ],
                rows=[
                    [
                        region.name,
                        region.code,
                        len(region.member_countries),
                        with_records,
                        incidents if incidents else no_data(),
                        weapons if incidents else no_data(),
                        region.members_as_of.isoformat() if region.members_as_of else "",
                    ]
                    for region, with_records, incidents, weapons in rows
                ],
                note="" if rows else no_data(),
            )
        )
    return section


def violence_section(ctx: ReportContext, people_table: Table) -> Section:
    by_context = figures.by_incident_column(ctx.incidents, "context")
    outside = [row for row in by_context if not people.is_conflict(row[0] or "unknown")]
    in_conflict = sum(n for c, n, _w in by_context if people.is_conflict(c or "unknown"))
    section = Section(
        title=_("Armed violence outside conflict"),
        paragraphs=[
            _(
                "Incidents in contexts other than armed conflict and terrorism (criminal or "
                "gang, intercommunal, pastoral, political, resource-related, poaching, "
                "domestic, other and unknown), and the people killed and injured in them."
            ),
            ngettext(
                "%(outside)s incident outside conflict; %(conflict)s in armed conflict.",
                "%(outside)s incidents outside conflict; %(conflict)s in armed conflict.",
                sum(n for _c, n, _w in outside),
            )
            % {"outside": sum(n for _c, n, _w in outside), "conflict": in_conflict}
            if by_context
            else _("Incidents: no data."),
        ],
        tables=[
            Table(
                name="incidents_outside_conflict",
                title=_("Incidents and weapons outside conflict, by context"),
                columns=[_("Context"), _("Incidents"), _("Weapons")],
                hxl=["#event+context", sections.HXL_INCIDENTS, sections.HXL_WEAPONS],
                rows=[[sections.label(Context, c), n, w] for c, n, w in outside],
                note="" if outside else no_data(),
            ),
            people_table,
        ],
    )
    return section


def assistance_section(ctx: ReportContext) -> Section:
    needs = figures.capacity_indicators(ctx.incidents, ctx.scope_incidents, ctx.period_end)
    weapons = needs["weapons"]

    def count(value: int) -> int | str:
        return value if weapons else no_data()

    return Section(
        title=_("International assistance, cooperation and coordination"),
        paragraphs=[
            _(
                "No needs recorded: the platform records no declared requests for "
                "assistance, nor offers of it. Below are signs of needs in the records of "
                "the period, for the mission or the regional organisation to turn into its "
                "request."
            )
        ],
        tables=[
            Table(
                name="capacity_needs",
                title=_("Signs of assistance and capacity needs"),
                columns=[_("Indicator"), _("Count"), _("Share of weapons (%)")],
                hxl=["#indicator+name", "#indicator+num", "#indicator+num+pct"],
                rows=[
                    [
                        _("Weapons still held by the unit that seized them (storage)"),
                        count(needs["held_by_units"]),
                        _share(needs["held_by_units"], weapons),
                    ],
                    [
                        _("Weapons with altered or obliterated markings (forensics)"),
                        count(needs["markings_altered"]),
                        _share(needs["markings_altered"], weapons),
                    ],
                    [
                        _("Factory-made weapons recorded without a serial number (marking)"),
                        count(needs["without_serial"]),
                        _share(needs["without_serial"], weapons),
                    ],
                    [
                        _("Trace requests unanswered after 90 days (cooperation)"),
                        needs["traces_overdue"],
                        "",
                    ],
                ],
            )
        ],
    )


def build(ctx: ReportContext) -> Document:
    if ctx.scope.kind == ScopeKind.WORLD:
        # The maps of the world show the countries of the records read.
        ctx.scope = replace(
            ctx.scope,
            countries=tuple(
                code
                for code in ctx.incidents.order_by("country")
                .values_list("country", flat=True)
                .distinct()
                if code
            ),
        )
    summary, totals = sections.summary(ctx)
    summary.title = _("I. Introduction")
    if ctx.scope.kind == ScopeKind.WORLD:
        summary.paragraphs.append(
            _(
                "World: every verified record the requester may read, wherever it was "
                "recorded; not a count of every record on the platform."
            )
        )
    ctx.progress(15, _("Seizures and flows"))
    seizures = sections.seizures(ctx)
    seizures.title = _("II. Illicit flows and seizures")
    flows = sections.flows(ctx)
    flows.title = _("Illicit origins established, and where the weapons were made")
    ctx.progress(30, _("Trends"))
    trends = trends_section(ctx)
    trends.title = _("III. Multi-year trends")
    regions = regions_section(ctx)
    regions.title = _("IV. Regional organisations and instruments")
    ctx.progress(45, _("Tracing"))
    tracing = sections.tracing(ctx)
    tracing.title = _("V. Marking, record-keeping and tracing")
    ctx.progress(60, _("Destruction"))
    custody = sections.custody(ctx)
    custody.title = _("VI. Collection, stockpile management and destruction")
    # The gender section is in every report, whoever reads it: restricted content is
    # marked, not removed, and the numbering never changes.
    gender, people_table = sections.gender(ctx, totals, harm=True)
    violence = violence_section(ctx, people_table)
    violence.title = _("VII. Armed violence outside conflict")
    gender.title = _("VIII. Gender dimensions: women, peace and security and small arms")
    assistance = assistance_section(ctx)
    assistance.title = _("IX. International assistance, cooperation and coordination")
    return Document(
        title=_("Input to the Secretary-General's report on small arms and light weapons"),
        subtitle=ctx.scope.label,
        sections=[
            summary,
            seizures,
            flows,
            trends,
            regions,
            tracing,
            custody,
            violence,
            gender,
            assistance,
        ],
    )

"""Sections that several report templates share: the figures, their tables and pictures.

Each function takes the ReportContext and returns a Section; the template modules
(mission_monthly.py, regional_overview.py, secretary_general.py, …) put them in order.
"""

from __future__ import annotations

from collections import Counter

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from geo.analyses.errors import AnalysisError
from geo.analyses.flows import FlowParameters
from geo.analyses.flows import analyse as flows_analyse
from geo.analyses.source import no_progress
from geo.countries import country_name
from geo.models import AnalysisCell
from incidents import suppression
from incidents.choices import (
    AgeGroup,
    Context,
    CustodyEventKind,
    IncidentKind,
    OriginKind,
    PersonOutcome,
    PersonRole,
    Sex,
    WeaponCategory,
)
from reports.documents import charts, figures, people, static_maps
from reports.documents.document import Figure, ReportContext, Section, Table
from reports.documents.hotspots import stored_hotspot_runs

# HXL hashtags (https://hxlstandard.org/standard/dictionary/) shared by the tables. Core
# hashtags and attributes wherever the dictionary has one; our own attributes (+weapons,
# +context, …) are listed in the README. A country column shown as "Name (CODE)" is tagged
# with its code: the HXL CSV writes the code and the name in two columns (rendering.py).
HXL_COUNTRY = "#country+code"  # ISO 3166-1 alpha-3, the dictionary's vocabulary
# #event: "an individual event or incident"; +num: "numeric information".
HXL_INCIDENTS = "#event+num"
# #item: "physical things provided, stored, shipped, available, used"; weapons counted by
# quantity.
HXL_WEAPONS = "#item+weapons+num"


def label(choices, code: str) -> str:
    try:
        return str(choices(code).label)
    except ValueError:
        return code or _("Unknown")


def country_names(codes) -> dict[str, str]:
    """UN M49 names (geo.countries), in the active language, of the codes that are countries."""
    names = {code: country_name(code) for code in codes if code and code != "unknown"}
    return {code: name for code, name in names.items() if name != code}


def country_label(code: str, names: dict[str, str]) -> str:
    if not code or code == "unknown":
        return _("Unknown")
    name = names.get(code)
    return f"{name} ({code})" if name else code


def summary(ctx: ReportContext) -> tuple[Section, dict[str, int]]:
    totals = figures.totals(ctx.incidents)
    rows = [
        [_("Incidents"), totals["incidents"]],
        [_("Weapons (items)"), totals["weapons"]],
        [_("Weapon records"), totals["weapon_records"]],
        [_("Rounds of ammunition"), totals["rounds"]],
    ]
    if ctx.with_gender:
        rows.append(
            [_("Incidents linked to gender-based violence"), totals["gbv_linked_incidents"]]
        )
    section = Section(
        title=_("Summary"),
        paragraphs=[
            ngettext(
                "%(incidents)s with %(weapons)s and %(rounds)s of ammunition was recorded in "
                "%(scope)s between %(start)s and %(end)s.",
                "%(incidents)s with %(weapons)s and %(rounds)s of ammunition were recorded in "
                "%(scope)s between %(start)s and %(end)s.",
                totals["incidents"],
            )
            % {
                "incidents": ngettext(
                    "%(count)s incident", "%(count)s incidents", totals["incidents"]
                )
                % {"count": totals["incidents"]},
                "weapons": ngettext("%(count)s weapon", "%(count)s weapons", totals["weapons"])
                % {"count": totals["weapons"]},
                "rounds": ngettext("%(count)s round", "%(count)s rounds", totals["rounds"])
                % {"count": totals["rounds"]},
                "scope": ctx.scope.in_text,
                "start": ctx.period_start.isoformat(),
                "end": ctx.period_end.isoformat(),
            }
        ],
        tables=[
            Table(
                name="summary",
                title=_("Summary"),
                columns=[_("Figure"), _("Value")],
                hxl=["#indicator+name", "#indicator+num"],
                rows=rows,
            )
        ],
    )
    return section, totals


def seizures(ctx: ReportContext, *, with_map: bool = True) -> Section:
    by_kind = figures.by_incident_column(ctx.incidents, "kind")
    by_context = figures.by_incident_column(ctx.incidents, "context")
    by_category = figures.weapons_by_category(ctx.incidents)
    by_area = figures.by_area(ctx.incidents)
    names = country_names({row[0] for row in by_area})
    section = Section(
        title=_("Seizures"),
        tables=[
            Table(
                name="incidents_by_kind",
                title=_("Incidents and weapons by kind of incident"),
                columns=[_("Kind of incident"), _("Incidents"), _("Weapons")],
                hxl=["#event+type", HXL_INCIDENTS, HXL_WEAPONS],
                rows=[[label(IncidentKind, k), n, w] for k, n, w in by_kind],
            ),
            Table(
                name="weapons_by_category",
                title=_("Weapons by category"),
                columns=[_("Category"), _("Weapons"), _("Of which markings altered")],
                hxl=["#item+type", HXL_WEAPONS, "#item+weapons+num+altered"],
                rows=[[label(WeaponCategory, c), n, a] for c, n, a in by_category],
            ),
            Table(
                name="incidents_by_context",
                title=_("Incidents and weapons by context"),
                columns=[_("Context"), _("Incidents"), _("Weapons")],
                hxl=["#event+context", HXL_INCIDENTS, HXL_WEAPONS],
                rows=[[label(Context, c), n, w] for c, n, w in by_context],
            ),
            Table(
                name="seizures_by_area",
                title=_("Areas with the most weapons"),
                columns=[_("Country"), _("Admin area"), _("Incidents"), _("Weapons")],
                hxl=[HXL_COUNTRY, "#adm1+name", HXL_INCIDENTS, HXL_WEAPONS],
                rows=[[country_label(c, names), a or _("Unknown"), n, w] for c, a, n, w in by_area],
            ),
        ],
    )
    if by_category:
        section.figures.append(
            Figure(
                caption=_("Weapons by category"),
                data_uri=charts.bar_chart(
                    [label(WeaponCategory, row[0]) for row in by_category],
                    [row[1] for row in by_category],
                    xlabel=_("Weapons"),
                ),
            )
        )
    if with_map:
        section.figures.append(
            Figure(
                caption=_(
                    "Where weapons came under control: dots sized by weapons on a 0.1° grid "
                    "(generalised locations as the reader sees them)."
                ),
                data_uri=static_maps.seizures_map(
                    ctx.scope.countries,
                    figures.seizure_points(ctx.incidents),
                    legend=_("Weapons seized, found or surrendered"),
                ),
            )
        )
    return section


def custody(ctx: ReportContext) -> Section:
    rows = {
        kind: (events, weapons)
        for kind, events, weapons in figures.custody_in_period(
            ctx.scope_incidents, ctx.period_start, ctx.period_end
        )
    }
    kinds = (CustodyEventKind.STORED, CustodyEventKind.TRANSFERRED, CustodyEventKind.DESTROYED)
    return Section(
        title=_("Storage, transfer and destruction"),
        paragraphs=[
            _(
                "Chain-of-custody events recorded in the period on weapons of %(scope)s, "
                "whenever the weapons were seized."
            )
            % {"scope": ctx.scope.in_text}
        ],
        tables=[
            Table(
                name="custody_events",
                title=_("Weapons stored, transferred and destroyed"),
                columns=[_("Event"), _("Events"), _("Weapons")],
                hxl=["#activity+type", "#activity+num", HXL_WEAPONS],
                rows=[[label(CustodyEventKind, k), *rows.get(k, (0, 0))] for k in kinds],
            )
        ],
    )


def tracing(ctx: ReportContext) -> Section:
    counts = figures.tracing_in_period(ctx.scope_incidents, ctx.period_start, ctx.period_end)
    results = figures.trace_results_by_country(
        ctx.scope_incidents, ctx.period_start, ctx.period_end
    )
    names = country_names({row[0] for row in results})
    return Section(
        title=_("Tracing requests and results"),
        tables=[
            Table(
                name="tracing",
                title=_("Trace requests"),
                columns=[_("Figure"), _("Trace requests")],
                hxl=["#indicator+name", "#indicator+num"],
                rows=[
                    [_("Sent in the period"), counts["sent"]],
                    [_("Answered in the period"), counts["answered"]],
                    [
                        _("Answered, point of diversion established"),
                        counts["diversion_established"],
                    ],
                    [_("Closed in the period, not traced"), counts["closed_untraced"]],
                    [_("Unanswered at the end of the period"), counts["unanswered"]],
                ],
            ),
            Table(
                name="trace_results",
                title=_("Points of diversion established in the period, by country"),
                columns=[_("Country of diversion"), _("Trace requests"), _("Weapons")],
                # The point of diversion is the weapons' illicit origin.
                hxl=["#country+code+origin", "#activity+num+trace_requested", HXL_WEAPONS],
                rows=[[country_label(c, names), n, w] for c, n, w in results],
            ),
        ],
    )


def hotspots(ctx: ReportContext) -> Section:
    runs = stored_hotspot_runs(
        scope=ctx.scope, requester=ctx.requester, mission_id=ctx.report.mission_id
    )
    section = Section(title=_("Hot spots"))
    if not runs:
        section.paragraphs.append(
            _("No stored hot-spot analysis of this scope is available to the reader.")
        )
        return section
    cells = list(
        AnalysisCell.objects.filter(run__in=runs, spot_class__gt=0)
        .order_by("-spot_class", "-z_score", "cell")
        .values_list("run__mission__acronym", "cell", "incidents", "z_score", "spot_class")
    )
    section.paragraphs.append(
        _(
            "From the stored hot-spot analyses (Getis-Ord Gi* on H3 hexagons, all verified "
            "records of the mission): %(runs)s."
        )
        % {
            "runs": "; ".join(
                f"{run.mission.acronym} #{run.pk}, {run.finished_at:%Y-%m-%d}" for run in runs
            )
        }
    )
    confidence = {3: "99 %", 2: "95 %", 1: "90 %"}
    section.tables.append(
        Table(
            name="hotspots",
            title=_("Hot-spot hexagons"),
            columns=[_("Mission"), _("H3 cell"), _("Incidents"), _("z-score"), _("Confidence")],
            # +v_h3: the H3 grid as the vocabulary of the #loc codes (HXL 1.1's +v_ attributes).
            hxl=[
                "#org+name",
                "#loc+code+v_h3",
                HXL_INCIDENTS,
                "#indicator+zscore+num",
                "#meta+confidence",
            ],
            rows=[
                [m, format(cell & 0xFFFFFFFFFFFFFFFF, "x"), n, round(z, 2), confidence[k]]
                for m, cell, n, z, k in cells[:20]
            ],
            note=_("%(count)s hot-spot hexagons in all; the 20 strongest are listed.")
            % {"count": len(cells)},
        )
    )
    polygons = AnalysisCell.objects.filter(run__in=runs, spot_class__gt=0).values_list(
        "boundary", "spot_class"
    )
    section.figures.append(
        Figure(
            caption=_("Hot spots at 99 % (dark), 95 % and 90 % (light) confidence."),
            data_uri=static_maps.hotspots_map(
                ctx.scope.countries, [(polygon.wkb, spot) for polygon, spot in polygons]
            ),
        )
    )
    return section


def flows(ctx: ReportContext, *, members: tuple[str, ...] | None = None) -> Section:
    """Where the report's weapons came from, as three different facts (the flow analysis,
    run on the report's incidents, geo/analyses/flows.py): the illicit origins established
    (by a trace or otherwise), country of diversion and kind, drawn as lines; the routes
    documented or answered by a trace, drawn through the countries crossed; and where the
    weapons were made, which is no movement and is never drawn (issue 20: manufacture
    labelled as a flow named exporting States on no evidence). With `members`, only what was
    seized in those countries."""
    section = Section(title=_("Flows"))
    try:
        result = flows_analyse(ctx.incidents, FlowParameters(period="all"), no_progress)
    except AnalysisError:
        section.paragraphs.append(_("No weapons in the period."))
        return section

    def kept(destination: str) -> bool:
        return members is None or destination in members

    origins: Counter[tuple[str, str, str]] = Counter()
    for origin, kind, _method, destination, _category, _period, items, _records in result[
        "origins"
    ]["rows"]:
        if kept(destination):
            origins[(origin, kind, destination)] += items
    made: Counter[tuple[str, str]] = Counter()
    for made_in, destination, _category, _period, items, _records in result["made"]["rows"]:
        if kept(destination):
            made[(made_in, destination)] += items
    routes = [route for route in result["routes"] if kept(route["destination"])]
    names = country_names(
        {code for key in (*origins, *made) for code in key}
        | {code for route in routes for code in (route["departure"], *route["transit"])}
    )
    section.paragraphs.append(
        _(
            "An illicit origin counts here when it was established: by a trace that "
            "established the weapon's point of diversion, or by a competent authority's "
            "finding, an investigation or marking evidence. The country of manufacture says "
            "where a weapon was made, not where it was diverted or whence it came: it is "
            "listed apart and never drawn as a flow."
        )
    )
    section.tables.append(_origin_table(members, origins, names))
    section.tables.append(_route_table(members, routes, names))
    section.tables.append(
        _pair_table(
            "made_in" if members is None else "made_in_members",
            _("Where the weapons were made: country of manufacture (not a movement)"),
            [_("Made in"), _("Seized in"), _("Weapons")],
            ["#country+code+manufacture", "#country+code+dest", HXL_WEAPONS],
            made,
            names,
        )
    )
    lines = [line for line in result["lines"] if kept(line["destination"])]
    section.figures.append(
        Figure(
            caption=_(
                "Illicit origins established, from the country of diversion to the country of "
                "seizure (arrows), and routes through the countries crossed (dashed); widths "
                "by weapons."
            ),
            data_uri=static_maps.flows_map(ctx.scope.countries, lines),
        )
    )
    return section


def _origin_table(members, origins: Counter, names: dict) -> Table:
    largest = sorted(origins.items(), key=lambda pair: (-pair[1], pair[0]))
    return Table(
        name="flows" if members is None else "cross_border_flows",
        title=_("Illicit origins established: country of diversion to country of seizure"),
        columns=[
            _("Country of diversion"),
            _("Kind of illicit origin"),
            _("Seized in"),
            _("Weapons"),
        ],
        hxl=["#country+code+origin", "#item+origin_kind", "#country+code+dest", HXL_WEAPONS],
        rows=[
            [
                country_label(origin, names),
                _origin_kind(kind),
                country_label(destination, names),
                items,
            ]
            for (origin, kind, destination), items in largest[:25]
        ],
        note=_largest_note(len(largest)),
    )


def _route_table(members, routes: list[dict], names: dict) -> Table:
    """One row per route, its countries one per cell (HXL: one value per cell), as many
    transit columns as the longest route crosses."""
    shown = routes[:25]
    crossed = max([len(route["transit"]) for route in shown] + [1])
    return Table(
        name="routes" if members is None else "routes_members",
        title=_("Routes: departure, transit and destination"),
        columns=[
            _("Departure"),
            *[_("Transit %(n)s") % {"n": n} for n in range(1, crossed + 1)],
            _("Destination"),
            _("Documented by"),
            _("Weapons"),
            _("Incidents"),
        ],
        hxl=[
            "#country+code+origin",
            *["#country+code+transit"] * crossed,
            "#country+code+dest",
            "#meta+route_source",
            HXL_WEAPONS,
            HXL_INCIDENTS,
        ],
        rows=[
            [
                country_label(route["departure"], names),
                *[country_label(code, names) for code in route["transit"]],
                *[""] * (crossed - len(route["transit"])),
                country_label(route["destination"], names),
                _("the incident's record") if route["source"] == "documented" else _("a trace"),
                route["items"],
                route["incidents"],
            ]
            for route in shown
        ],
        note=_largest_note(len(routes)),
    )


def _origin_kind(kind: str) -> str:
    if kind == "not_recorded":
        return _("Diversion established by trace, kind not recorded")
    return label(OriginKind, kind)


def _largest_note(count: int) -> str:
    if count > 25:
        return _("The 25 largest of %(count)s.") % {"count": count}
    return "" if count else no_data()


def _pair_table(name, title, columns, hxl, pairs: Counter, names: dict) -> Table:
    largest = sorted(pairs.items(), key=lambda pair: (-pair[1], pair[0]))
    return Table(
        name=name,
        title=title,
        columns=columns,
        hxl=hxl,
        rows=[
            [country_label(origin, names), country_label(destination, names), items]
            for (origin, destination), items in largest[:25]
        ],
        note=_largest_note(len(largest)),
    )


def restricted() -> str:
    return _("restricted: WPS analysts only")


SEX_ROWS = [Sex.FEMALE, Sex.MALE, Sex.UNKNOWN]  # as people.SEXES
# What readers without gender-data permission (incidents.view_gender_data) see of the
# people involved, because it is aggregated enough: people by sex and age group over every
# role, outcome and incident of the report's scope and period, with their totals, small
# cells suppressed (incidents.suppression). Never by role, incident, place or month, and
# never the links to gender-based violence.
HXL_SEX_BY_AGE = [
    "#group+sex",
    "#affected+ind+children+num",
    "#affected+ind+adults+num",
    "#affected+ind+unknown+num",
    "#affected+ind+total+num",
]


def _sex_label(code: str) -> str:
    return _("Sex unknown") if code == Sex.UNKNOWN else label(Sex, code)


def gender(ctx: ReportContext, totals: dict[str, int], *, harm: bool = False):
    """The gender and Women, Peace and Security (WPS) section, in every report.

    Every reader gets people by sex and age group (aggregated, suppressed). Readers with
    gender-data permission get the people by role too, the incidents linked to
    gender-based violence and the weapons in them; for the others that content is marked
    "restricted: WPS analysts only", never left out silently. With `harm` (the
    Secretary-General's input), also the people killed and injured by sex, and the table of
    armed violence outside conflict by context and outcome, returned beside the section:
    (section, table). All counts of people in the report are suppressed together, so that no
    table's total reveals a cell of another."""
    rows = people.by_role_sex_age(ctx.incidents)
    grid = people.sex_by_age_grid(rows)
    values, lines = suppression.grid_cells("age", grid)
    unprinted: set = set()
    if ctx.with_gender:
        # The detailed rows of one sex and age group add up to a cell of the grid above.
        for si, sex in enumerate(people.SEXES):
            for ai, age in enumerate(people.AGE_GROUPS):
                detailed = [("role", r, s, a) for r, s, a, _n in rows if (s, a) == (sex, age)]
                lines.append((detailed, ("age", si, ai)))
        values |= {("role", r, s, a): int(n) for r, s, a, n in rows}
    harmed = people.harmed_by_sex_and_context(ctx.incidents) if harm else []
    outcomes = people.HARMED
    harm_grid = [[0] * len(outcomes) for _sex in people.SEXES]
    contexts = sorted({c for c, *_rest in harmed if not people.is_conflict(c)})
    if harm:
        by_context = {(c, o): 0 for c in contexts for o in outcomes}
        conflict = dict.fromkeys(outcomes, 0)
        for context, sex, outcome, n in harmed:
            harm_grid[people.SEXES.index(sex)][outcomes.index(outcome)] += int(n)
            if people.is_conflict(context):
                conflict[outcome] += int(n)
            else:
                by_context[(context, outcome)] += int(n)
        harm_values, harm_lines = suppression.grid_cells("harm", harm_grid)
        values |= harm_values
        lines += harm_lines
        values |= {("context", c, o): n for (c, o), n in by_context.items()}
        # Killed (injured) outside conflict, plus those in conflict (printed nowhere here),
        # add up to the killed (injured) of the grid's total row.
        values |= {("conflict", o): n for o, n in conflict.items()}
        unprinted = {("conflict", o) for o in outcomes}
        for oi, outcome in enumerate(outcomes):
            keys: list[tuple] = [("context", c, outcome) for c in contexts]
            keys.append(("conflict", outcome))
            lines.append((keys, ("harm", len(people.SEXES), oi)))
    printed = suppression.suppress(values, lines, unprinted=unprinted)
    anyone = sum(sum(row) for row in grid) > 0

    section = Section(
        title=_("Gender and women, peace and security"),
        paragraphs=[
            _(
                "People involved in the incidents, by sex and age group: every role and "
                "outcome together. Small counts are suppressed (see the note under the table)."
            )
            if anyone
            else _("People involved: no data (no people were recorded in these incidents).")
        ],
    )
    section.tables.append(
        Table(
            name="people_by_sex_and_age",
            title=_("People involved by sex and age group"),
            columns=[
                _("Sex"),
                _("Children (under 18)"),
                _("Adults"),
                _("Age unknown"),
                _("Total"),
            ],
            hxl=HXL_SEX_BY_AGE,
            rows=[
                [name, *cells]
                for name, cells in zip(
                    [*(_sex_label(s) for s in SEX_ROWS), _("Total")],
                    suppression.grid_rows("age", grid, printed),
                    strict=True,
                )
            ]
            if anyone
            else [],
            note=suppression.note() if anyone else no_data(),
        )
    )
    if harm:
        section.tables.append(_harm_table(harm_grid, printed))
    if ctx.with_gender:
        section.paragraphs.append(
            ngettext(
                "%(count)s incident was linked to gender-based violence.",
                "%(count)s incidents were linked to gender-based violence.",
                totals["gbv_linked_incidents"],
            )
            % {"count": totals["gbv_linked_incidents"]}
        )
        section.tables.append(
            Table(
                name="persons_involved",
                title=_("People involved by role, sex and age group"),
                columns=[_("Role"), _("Sex"), _("Age group"), _("People")],
                # #group: "a group (of any type)"; #affected is a number (of people), and
                # +ind counts individuals.
                hxl=["#group+role", "#group+sex", "#group+age", "#affected+ind+num"],
                rows=[
                    [
                        label(PersonRole, r),
                        label(Sex, s),
                        label(AgeGroup, a),
                        printed[("role", r, s, a)],
                    ]
                    for r, s, a, _n in rows
                ],
                note=suppression.note() if rows else no_data(),
            )
        )
        if harm:
            gbv = people.gbv_weapons_by_category(ctx.incidents)
            section.tables.append(
                Table(
                    name="gbv_weapons_by_category",
                    title=_("Weapons in incidents linked to gender-based violence"),
                    columns=[_("Category"), _("Incidents"), _("Weapons")],
                    hxl=["#item+type", HXL_INCIDENTS, HXL_WEAPONS],
                    rows=[[label(WeaponCategory, c), n, w] for c, n, w in gbv],
                    note="" if gbv else no_data(),
                )
            )
    else:
        restricted_content = [
            _("People involved by role, sex and age group"),
            _("Incidents linked to gender-based violence"),
        ]
        if harm:
            restricted_content.append(_("Weapons in incidents linked to gender-based violence"))
        section.paragraphs += [f"{item}: {restricted()}." for item in restricted_content]
        section.tables.append(
            Table(
                name="gender_restricted",
                title=_("Restricted content of this section"),
                columns=[_("Content"), _("Access")],
                hxl=["#description", "#status"],
                rows=[[item, restricted()] for item in restricted_content],
            )
        )
    if not harm:
        return section
    return section, _violence_table(contexts, printed)


def no_data() -> str:
    return _("no data")


def _harm_table(grid: list[list[int]], printed: dict) -> Table:
    anyone = any(any(row) for row in grid)
    return Table(
        name="people_killed_injured_by_sex",
        title=_("People killed and injured by sex"),
        columns=[_("Sex"), _("Killed"), _("Injured"), _("Total")],
        hxl=[
            "#group+sex",
            "#affected+ind+killed+num",
            "#affected+ind+injured+num",
            "#affected+ind+total+num",
        ],
        rows=[
            [name, *cells]
            for name, cells in zip(
                [*(_sex_label(s) for s in SEX_ROWS), _("Total")],
                suppression.grid_rows("harm", grid, printed),
                strict=True,
            )
        ]
        if anyone
        else [],
        note=suppression.note() if anyone else no_data(),
    )


def _violence_table(contexts: list[str], printed: dict) -> Table:
    return Table(
        name="armed_violence_outside_conflict",
        title=_("People killed and injured in armed violence outside conflict, by context"),
        columns=[_("Context"), _("Killed"), _("Injured")],
        hxl=["#event+context", "#affected+ind+killed+num", "#affected+ind+injured+num"],
        rows=[
            [
                label(Context, c),
                printed[("context", c, PersonOutcome.KILLED.value)],
                printed[("context", c, PersonOutcome.INJURED.value)],
            ]
            for c in contexts
        ],
        note=suppression.note() if contexts else no_data(),
    )


def trends(ctx: ReportContext, *, by_country: bool = False) -> Section:
    monthly = figures.monthly_counts(ctx.incidents)
    section = Section(
        title=_("Trends"),
        tables=[
            Table(
                name="monthly_trend",
                title=_("Incidents and weapons by month"),
                columns=[_("Month"), _("Incidents"), _("Weapons")],
                hxl=["#date", HXL_INCIDENTS, HXL_WEAPONS],  # "2025-03": ISO 8601
                rows=[[month.strftime("%Y-%m"), n, w] for month, n, w in monthly],
            )
        ],
    )
    if len(monthly) > 1:
        section.figures.append(
            Figure(
                caption=_("Incidents and weapons by month"),
                data_uri=charts.line_chart(
                    [m.strftime("%Y-%m") for m, _n, _w in monthly],
                    {
                        _("Incidents"): [n for _m, n, _w in monthly],
                        _("Weapons"): [w for _m, _n, w in monthly],
                    },
                    ylabel=_("Count"),
                ),
            )
        )
    if by_country:
        rows = figures.by_incident_column(ctx.incidents, "country")
        names = country_names({row[0] for row in rows})
        section.tables.insert(
            0,
            Table(
                name="by_member_state",
                title=_("Incidents and weapons by country"),
                columns=[_("Country"), _("Incidents"), _("Weapons")],
                hxl=[HXL_COUNTRY, HXL_INCIDENTS, HXL_WEAPONS],
                rows=[[country_label(c, names), n, w] for c, n, w in rows],
            ),
        )
    return section

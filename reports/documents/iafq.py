"""The tables of UNODC's Illicit Arms Flows Questionnaire (IAFQ), filled from the records,
in the questionnaire's sections: seized, found and surrendered arms (by type, legal
justification, criminal context, country of manufacture, make, way of manufacture and
marking); parts, components and ammunition; routes; tracing (requests domestic and
international, by status; illicit origins established, by kind); significant seizures (with
makes, routes and persons); criminal justice.

Every figure is of the recovered items (observed-only ones never count) of the verified
records in the scope and period (reports.scope.report_reading), in incidents that the
questionnaire classes as seized, found or surrendered (losses and thefts are none).
Parts and components are counted apart from arms, ammunition in units of each kind apart.
Rows are by country where the arms came under control and calendar year, as the
questionnaire asks each State for its own territory; a report on a mission or a region has
one block per country. A significant seizure is an incident with at least
`significant_seizure_min_arms` arms (10 unless asked otherwise), parts and components not
counted. An empty table says "no data", never zeros.

Every count of people (the persons of the significant seizures, the arrests of criminal
justice) goes through incidents.suppression, together: the persons of a seizure by role,
sex and age add up to its row of the significant seizures, and the arrests by country,
year, sex and age to the stage "Arrested or detained"."""

import json
from collections.abc import Hashable

from django.utils.translation import gettext as _

from incidents import suppression
from incidents.choices import (
    AgeGroup,
    AmmunitionCategory,
    AmmunitionState,
    Context,
    IncidentKind,
    ManufactureMode,
    OriginKind,
    OriginMethod,
    PersonRole,
    SeizureJustification,
    Sex,
    TraceStatus,
    TransportMode,
    WeaponCategory,
    WeaponComponent,
)
from reports.documents import figures
from reports.documents.document import Document, ReportContext, Section, Table
from reports.documents.sections import HXL_COUNTRY, HXL_WEAPONS, country_label, country_names, label
from reports.services import DEFAULT_SIGNIFICANT_SEIZURE

HXL_EVENTS = [
    "#item+weapons+num+seized",
    "#item+weapons+num+found",
    "#item+weapons+num+surrendered",
    HXL_WEAPONS,
]
# Transit countries in the order crossed, in one cell of the PDF; one a column in HXL.
ROUTE_SEPARATOR = " → "
MAKES_SEPARATOR = "; "


def _event_columns() -> list[str]:
    return [_("Seized"), _("Found"), _("Surrendered"), _("Total")]


def _no_data() -> str:
    return _("No data: none in the verified records of the scope and period.")


def _table(*, note: str = "", **fields) -> Table:
    """A table whose note says "no data" when it has no rows."""
    if not fields["rows"]:
        note = " ".join(filter(None, [note, _no_data()]))
    return Table(note=note, **fields)


def _significant_seizures(ctx: ReportContext, minimum: int) -> list[tuple]:
    made, made_params = figures.manufacturers_sql()
    return figures.query(
        ctx.incidents,
        f"""
        , arms AS (
            SELECT w.incident_id,
                   COALESCE(sum(w.quantity) FILTER (WHERE w.category <> 'part_component'), 0)
                   AS items,
                   COALESCE(sum(w.quantity) FILTER (WHERE w.category = 'part_component'), 0)
                   AS parts,
                   string_agg(DISTINCT w.category, ',' ORDER BY w.category)
                       FILTER (WHERE w.category <> 'part_component') AS categories,
                   count(*) FILTER (WHERE w.category <> 'part_component' AND EXISTS (
                       SELECT 1 FROM incidents_tracerequest AS t WHERE t.weapon_id = w.id))
                   AS traced_records,
                   jsonb_agg(DISTINCT jsonb_build_array(
                       COALESCE(made.manufacturer_name, btrim(w.make)),
                       made.manufacturer_name IS NOT NULL))
                       FILTER (WHERE w.category <> 'part_component'
                               AND COALESCE(made.manufacturer_name, btrim(w.make)) <> '')
                   AS makes
            FROM incidents_weaponitem AS w LEFT JOIN ({made}) AS made ON made.id = w.id
            WHERE w.incident_id IN (SELECT id FROM chosen) AND {figures.RECOVERED}
            GROUP BY w.incident_id
        ), rounds AS (
            SELECT a.incident_id, sum(a.quantity) AS rounds FROM incidents_ammunitionitem AS a
            WHERE a.incident_id IN (SELECT id FROM chosen) AND {figures.ROUNDS}
            GROUP BY a.incident_id
        ), persons AS (
            SELECT p.incident_id, sum(p.count) AS people,
                   COALESCE(sum(p.count) FILTER (WHERE p.outcome = 'arrested'), 0) AS arrested
            FROM incidents_personsinvolved AS p
            WHERE p.incident_id IN (SELECT id FROM chosen) GROUP BY p.incident_id
        )
        SELECT chosen.id, (chosen.occurred_at AT TIME ZONE 'UTC')::date,
               COALESCE(chosen.country, ''), COALESCE(area.name, ''), chosen.kind,
               {figures.EVENT_CLASS_SQL}, chosen.context, arms.items, arms.categories,
               arms.makes, arms.parts, COALESCE(rounds.rounds, 0), arms.traced_records,
               i.route_departure_country, i.route_transit_countries,
               i.route_destination_country, i.transport_mode,
               COALESCE(persons.people, 0), COALESCE(persons.arrested, 0)
        FROM chosen JOIN arms ON arms.incident_id = chosen.id
        JOIN incidents_incident AS i ON i.id = chosen.id
        LEFT JOIN rounds ON rounds.incident_id = chosen.id
        LEFT JOIN persons ON persons.incident_id = chosen.id
        LEFT JOIN geo_adminarea AS area ON area.id = chosen.shown_admin_area_id
        WHERE chosen.kind = ANY(%s) AND arms.items >= %s
        ORDER BY arms.items DESC, 2, 1
        """,  # noqa: S608 - fragments are ours; values are parameters
        (*made_params, *figures.EVENT_CLASS_PARAMS, list(figures.UNDER_CONTROL_KINDS), minimum),
    )


def _make_label(make: str, listed: bool) -> str:
    if not make:
        return _("Unknown")
    return make if listed else _("%(make)s (not in the list)") % {"make": make}


def _part_label(components: str | None, model: str) -> str:
    if components:
        return ", ".join(label(WeaponComponent, code) for code in components.split(","))
    return model or _("Not stated")


def _route(codes, names) -> str:
    return ROUTE_SEPARATOR.join(country_label(code, names) for code in codes or [])


def _origin_established_by(code: str) -> str:
    return {
        "trace_domestic": _("Domestic trace"),
        "trace_international": _("International trace"),
        "trace_unknown": _("Trace (addressee's country not recorded)"),
    }.get(code) or label(OriginMethod, code)


def _direction(code: str) -> str:
    return {
        "domestic": _("Domestic"),
        "international": _("International"),
        "unknown": _("Addressee's country not recorded"),
    }[code]


def _seized_found_surrendered(ctx, names, by_category, breakdowns) -> Section:
    """Arms by type (the questionnaire's first table), and by the other breakdowns."""

    def table(name, title, heading, tag, key, shown, note=""):
        return _table(
            name=name,
            title=title,
            columns=[_("Country"), _("Year"), heading, *_event_columns()],
            hxl=[HXL_COUNTRY, "#date", tag, *HXL_EVENTS],
            rows=[
                [country_label(c, names), y, shown(*v), *n]
                for c, y, *v, n in _split(breakdowns[key])
            ],
            note=note,
        )

    return Section(
        title=_("Seized, found and surrendered arms"),
        tables=[
            _table(
                name="iafq_arms_seized_found_surrendered",
                title=_("Arms seized, found and surrendered, by type of arm"),
                columns=[_("Country"), _("Year"), _("Type of arm"), *_event_columns()],
                # HXL: the plain #item+weapons+num is the total, the attributes its parts;
                # the year is an ISO 8601 #date.
                hxl=[HXL_COUNTRY, "#date", "#item+type", *HXL_EVENTS],
                rows=[
                    [country_label(c, names), y, label(WeaponCategory, k), s, f, v, t]
                    for c, y, k, s, f, v, t in by_category
                ],
            ),
            table(
                "iafq_arms_by_justification",
                _("Arms by legal justification of the seizure"),
                _("Legal justification"),
                "#event+type+justification",
                "justification",
                lambda code: label(SeizureJustification, code),
            ),
            table(
                "iafq_arms_by_context",
                _("Arms by criminal context"),
                _("Context"),
                "#event+context",
                "context",
                lambda code: label(Context, code),
            ),
            table(
                "iafq_arms_by_country_made",
                _("Arms by country of manufacture"),
                _("Country of manufacture"),
                "#country+code+manufacture",
                "country_of_manufacture",
                lambda code: country_label(code, names),
                note=_(
                    "The country of manufacture is where a weapon was made: not where it was "
                    "diverted from lawful hands, nor where it came from."
                ),
            ),
            table(
                "iafq_arms_by_make",
                _("Arms by make"),
                _("Make"),
                "#item+make",
                "make",
                _make_label,
                note=_(
                    "The manufacturer of the platform's list when the make read on the weapon "
                    "names one; otherwise the make as written, marked as not in the list."
                ),
            ),
            table(
                "iafq_arms_by_manufacture_mode",
                _("Arms by way of manufacture"),
                _("Way of manufacture"),
                "#item+manufacture",
                "manufacture_mode",
                lambda code: label(ManufactureMode, code),
            ),
            table(
                "iafq_arms_by_marking",
                _("Arms by marking"),
                _("Marking"),
                "#item+markings",
                "marking",
                lambda code: {
                    "serial": _("Serial number present"),
                    "unmarked": _("Unmarked (no serial number)"),
                    "altered": _("Markings altered or obliterated"),
                }[code],
            ),
        ],
        paragraphs=[
            _(
                "Parts and components are not counted as arms here, but in their own table "
                "below (the table by type of arm shows them as a type of their own)."
            )
        ],
    )


def _split(rows):
    """(country, year, *values, [seized, found, surrendered, total]) of figures' rows."""
    return [(*row[:-4], list(row[-4:])) for row in rows]


def _parts_and_ammunition(ctx, names, parts, ammunition) -> Section:
    return Section(
        title=_("Parts, components and ammunition"),
        tables=[
            _table(
                name="iafq_parts_components",
                title=_("Parts and components"),
                columns=[
                    _("Country"),
                    _("Year"),
                    _("Part"),
                    _("Country of manufacture"),
                    *_event_columns(),
                ],
                hxl=[
                    HXL_COUNTRY,
                    "#date",
                    "#item+name",
                    "#country+code+manufacture",
                    "#item+parts+num+seized",
                    "#item+parts+num+found",
                    "#item+parts+num+surrendered",
                    "#item+parts+num",
                ],
                rows=[
                    [
                        country_label(c, names),
                        y,
                        _part_label(components, model),
                        country_label(made_in, names),
                        *n,
                    ]
                    for c, y, components, model, made_in, n in _split(parts)
                ],
                note=_(
                    "The part is the component whose serial number the record gives; where "
                    "none is given, the model as written."
                ),
            ),
            _table(
                name="iafq_ammunition",
                title=_("Ammunition by kind, live or spent, and country of manufacture"),
                columns=[
                    _("Country"),
                    _("Year"),
                    _("Kind of ammunition"),
                    _("Live or spent"),
                    _("Country of manufacture"),
                    *_event_columns(),
                ],
                hxl=[
                    HXL_COUNTRY,
                    "#date",
                    "#item+name+ammunition",
                    "#status+ammunition",
                    "#country+code+manufacture",
                    "#item+ammunition+num+seized",
                    "#item+ammunition+num+found",
                    "#item+ammunition+num+surrendered",
                    "#item+ammunition+num",
                ],
                rows=[
                    [
                        country_label(c, names),
                        y,
                        label(AmmunitionCategory, kind),
                        label(AmmunitionState, state),
                        country_label(made_in, names),
                        *n,
                    ]
                    for c, y, kind, state, made_in, n in _split(ammunition)
                ],
                note=_(
                    "Each kind is counted in units of its own (cartridges, grenades, bombs, "
                    "rockets) and never added to another; spent cases apart from live rounds."
                ),
            ),
        ],
    )


def _routes(ctx, names, routes, transit) -> Section:
    return Section(
        title=_("Routes"),
        tables=[
            _table(
                name="iafq_routes",
                title=_("Routes documented by the seizures"),
                columns=[
                    _("Country"),
                    _("Year"),
                    _("Country of departure"),
                    _("Transit countries"),
                    _("Country of destination"),
                    _("Incidents"),
                    _("Arms"),
                ],
                hxl=[
                    HXL_COUNTRY,
                    "#date",
                    "#country+code+origin",
                    "#country+code+transit",
                    "#country+code+dest",
                    "#event+num",
                    HXL_WEAPONS,
                ],
                lists={3: ROUTE_SEPARATOR},
                rows=[
                    [
                        country_label(c, names),
                        y,
                        country_label(departure, names),
                        _route(crossed, names),
                        country_label(destination, names),
                        incidents,
                        arms,
                    ]
                    for c, y, departure, crossed, destination, incidents, arms in routes
                ],
                note=_(
                    "From the route the seizure documents (a consignment's papers, a "
                    "statement): country of departure, transit countries in the order "
                    "crossed, country of destination."
                ),
            ),
            _table(
                name="iafq_trace_transit_countries",
                title=_("Transit countries established by traces"),
                columns=[
                    _("Country"),
                    _("Year"),
                    _("Transit country"),
                    _("Incidents"),
                    _("Arms"),
                ],
                hxl=[HXL_COUNTRY, "#date", "#country+code+transit", "#event+num", HXL_WEAPONS],
                rows=[
                    [country_label(c, names), y, country_label(t, names), n, arms]
                    for c, y, t, n, arms in transit
                ],
                note=_("Each weapon counts once per transit country, whatever its traces."),
            ),
        ],
    )


def _tracing(ctx, names, by_year, requests, origins) -> Section:
    return Section(
        title=_("Tracing"),
        tables=[
            _table(
                name="iafq_tracing_results",
                title=_("Tracing results"),
                columns=[
                    _("Country"),
                    _("Year"),
                    _("Arms seized, found or surrendered"),
                    _("Arms for which a trace was requested"),
                    _("Arms traced: point of diversion established"),
                    _("Arms not (yet) traced"),
                ],
                hxl=[
                    HXL_COUNTRY,
                    "#date",
                    HXL_WEAPONS,
                    "#item+weapons+num+trace_requested",
                    "#item+weapons+num+traced",
                    "#item+weapons+num+untraced",
                ],
                rows=[
                    [country_label(c, names), y, t, r, e, t - e]
                    for c, y, _s, _f, _v, t, r, e in by_year
                ],
            ),
            _table(
                name="iafq_trace_requests",
                title=_("Trace requests, domestic and international, by status"),
                columns=[
                    _("Country"),
                    _("Year"),
                    _("Domestic or international"),
                    _("Status"),
                    _("Requests"),
                    _("Of which follow-up requests"),
                ],
                hxl=[
                    HXL_COUNTRY,
                    "#date",
                    "#activity+type",
                    "#status",
                    "#activity+num",
                    "#activity+num+follow_up",
                ],
                rows=[
                    [country_label(c, names), y, _direction(d), label(TraceStatus, s), n, f]
                    for c, y, d, s, n, f in requests
                ],
                note=_(
                    "Domestic: addressed in the country where the arms came under control; "
                    "international: to another State or a manufacturer abroad. Requests are "
                    "counted, a follow-up (to the exporter after the manufacturer) as a "
                    "request of its own."
                ),
            ),
            _table(
                name="iafq_illicit_origins",
                title=_("Illicit origins established, by kind"),
                columns=[
                    _("Country"),
                    _("Year"),
                    _("Kind of illicit origin"),
                    _("Established by"),
                    _("Arms"),
                ],
                hxl=[HXL_COUNTRY, "#date", "#item+origin", "#activity+type", HXL_WEAPONS],
                rows=[
                    [
                        country_label(c, names),
                        y,
                        _("Not recorded") if kind == "not_recorded" else label(OriginKind, kind),
                        _origin_established_by(by),
                        n,
                    ]
                    for c, y, kind, by, n in origins
                ],
                note=_(
                    "Each weapon counts once: by its recorded illicit origin (a trace, a "
                    "competent authority's finding, an investigation, marking evidence), or, "
                    "where a trace established the point of diversion and no origin is "
                    "recorded, by that trace, its kind not recorded."
                ),
            ),
        ],
    )


def _suppressed_people(significant, persons, arrests) -> dict[Hashable, int | str]:
    """Every count of people the report prints, suppressed together (incidents.suppression):
    ("seizure", incident, "people" | "arrested") of the significant seizures' rows,
    ("person", index, "people" | "arrested") of the persons' rows (they add up to their
    incident's), ("arrest", index) of criminal justice's rows and ("arrests",) their total,
    the stage "Arrested or detained"."""
    values: dict[Hashable, int] = {}
    lines: list[suppression.Line] = []
    for row in significant:
        pk, people, arrested = row[0], row[17], row[18]
        values[("seizure", pk, "people")] = int(people)
        values[("seizure", pk, "arrested")] = int(arrested)
    for index, (_pk, _role, _sex, _age, people, arrested) in enumerate(persons):
        values[("person", index, "people")] = int(people)
        values[("person", index, "arrested")] = int(arrested)
    for row in significant:
        mine = [index for index, person in enumerate(persons) if person[0] == row[0]]
        for column in ("people", "arrested"):
            parts = [("person", index, column) for index in mine]
            lines.append((parts, ("seizure", row[0], column)))
    for index, row in enumerate(arrests):
        values[("arrest", index)] = int(row[-1])
    values[("arrests",)] = sum(int(row[-1]) for row in arrests)
    lines.append(([("arrest", index) for index in range(len(arrests))], ("arrests",)))
    return suppression.suppress(values, lines)


def _people_note(rows: list, *notes: str) -> str:
    """A table of people's note: what it says, and how small counts print."""
    return " ".join(filter(None, [*notes, suppression.note() if rows else ""]))


def _sex_age(sex: str, age: str, with_gender: bool) -> list[str]:
    if not with_gender:
        return [_("All"), _("All")]
    return [label(Sex, sex), label(AgeGroup, age)]


def _gender_note(with_gender: bool) -> str:
    if with_gender:
        return ""
    return _(
        "By sex and age only for readers entitled to gender-disaggregated figures: here, "
        "all together."
    )


def _significant(ctx, names, minimum, significant, persons, printed) -> Section:
    events = {"seized": _("Seized"), "found": _("Found"), "surrendered": _("Surrendered")}
    rows = []
    for (
        pk,
        day,
        c,
        area,
        kind,
        event,
        context,
        items,
        categories,
        makes,
        parts,
        rounds,
        traced,
        departure,
        crossed,
        destination,
        transport,
        _people,
        _arrested,
    ) in significant:
        rows.append(
            [
                pk,
                day.isoformat(),
                country_label(c, names),
                area,
                label(IncidentKind, kind),
                events[event],
                label(Context, context),
                items,
                ", ".join(label(WeaponCategory, k) for k in categories.split(",")),
                MAKES_SEPARATOR.join(
                    sorted(_make_label(m, listed) for m, listed in json.loads(makes or "[]"))
                ),
                parts,
                rounds,
                traced,
                country_label(departure, names) if departure else "",
                _route(crossed, names),
                country_label(destination, names) if destination else "",
                label(TransportMode, transport),
                printed[("seizure", pk, "people")],
                printed[("seizure", pk, "arrested")],
            ]
        )
    seizures = _table(
        name="iafq_significant_seizures",
        title=_("Significant seizures (%(minimum)s arms or more)") % {"minimum": minimum},
        layout="records",
        columns=[
            _("Incident"),
            _("Date"),
            _("Country"),
            _("Admin area"),
            _("Kind of incident"),
            _("Event"),
            _("Context"),
            _("Arms"),
            _("Types of arm"),
            _("Makes"),
            _("Parts and components"),
            _("Rounds of ammunition"),
            _("Arms records traced"),
            _("Country of departure"),
            _("Transit countries"),
            _("Country of destination"),
            _("Means of transport"),
            _("Persons involved"),
            _("Of whom arrested or detained"),
        ],
        hxl=[
            "#event+code",  # the incident's number: "a unique, machine-readable code"
            "#date+occurred",
            HXL_COUNTRY,
            "#adm1+name",
            "#event+type",
            "#event+type+iafq",
            "#event+context",
            HXL_WEAPONS,
            "#item+type",
            "#item+make",
            "#item+parts+num",
            "#item+rounds+num",
            "#activity+num+trace_requested",  # weapon records with a trace request
            "#country+code+origin",
            "#country+code+transit",
            "#country+code+dest",
            "#meta+transport",
            "#affected+ind",
            "#affected+ind+arrested",
        ],
        # The types of arm, the makes and the transit countries: one per cell in HXL.
        lists={8: ", ", 9: MAKES_SEPARATOR, 14: ROUTE_SEPARATOR},
        rows=rows,
        note=_people_note(rows),
    )
    people = _table(
        name="iafq_significant_persons",
        title=_("Significant seizures: persons involved"),
        columns=[
            _("Incident"),
            _("Role"),
            _("Sex"),
            _("Age group"),
            _("Persons"),
            _("Of whom arrested or detained"),
        ],
        hxl=[
            "#event+code",
            "#group+role",
            "#group+sex",
            "#group+age",
            "#affected+ind",
            "#affected+ind+arrested",
        ],
        rows=[
            [
                pk,
                label(PersonRole, role),
                *_sex_age(sex, age, ctx.with_gender),
                printed[("person", index, "people")],
                printed[("person", index, "arrested")],
            ]
            for index, (pk, role, sex, age, _n, _a) in enumerate(persons)
        ],
        note=_people_note(persons, _gender_note(ctx.with_gender)),
    )
    return Section(title=_("Significant seizures"), tables=[seizures, people])


def _criminal_justice(ctx, names, arrests, printed) -> Section:
    not_recorded = _("Not recorded by the mission: the host State's courts hold these records.")
    return Section(
        title=_("Criminal justice"),
        tables=[
            _table(
                name="iafq_criminal_justice",
                title=_("Persons arrested or detained"),
                columns=[
                    _("Country"),
                    _("Year"),
                    _("Sex"),
                    _("Age group"),
                    _("Persons arrested or detained"),
                ],
                hxl=[HXL_COUNTRY, "#date", "#group+sex", "#group+age", "#affected+ind+arrested"],
                rows=[
                    [
                        country_label(c, names),
                        y,
                        *_sex_age(s, a, ctx.with_gender),
                        printed[("arrest", index)],
                    ]
                    for index, (c, y, s, a, _n) in enumerate(arrests)
                ],
                note=_people_note(arrests, _gender_note(ctx.with_gender)),
            ),
            Table(
                name="iafq_criminal_justice_stages",
                title=_("Persons brought into contact with criminal justice"),
                columns=[_("Stage"), _("Persons"), _("Source")],
                hxl=["#indicator+name", "#affected+ind", "#description"],
                rows=[
                    [
                        _("Arrested or detained"),
                        printed[("arrests",)] if arrests else "",
                        _("Mission records: people involved, arrested or detained")
                        if arrests
                        else _("no data"),
                    ],
                    [_("Prosecuted"), "", not_recorded],
                    [_("Convicted"), "", not_recorded],
                ],
                note=_people_note(arrests),
            ),
        ],
    )


def build(ctx: ReportContext) -> Document:
    minimum = int(ctx.option.get("significant_seizure_min_arms", DEFAULT_SIGNIFICANT_SEIZURE))
    ctx.progress(15, _("Seized, found and surrendered arms"))
    by_category = figures.under_control_by_category(ctx.incidents)
    breakdowns = {key: figures.iafq_arms_by(ctx.incidents, key) for key in figures.IAFQ_ARMS_BY}
    ctx.progress(30, _("Parts, components and ammunition"))
    parts = figures.iafq_parts(ctx.incidents)
    ammunition = figures.iafq_ammunition(ctx.incidents)
    ctx.progress(40, _("Routes"))
    routes = figures.iafq_routes(ctx.incidents)
    transit = figures.iafq_trace_transit(ctx.incidents)
    ctx.progress(50, _("Tracing results"))
    by_year = figures.under_control_by_country_year(ctx.incidents)
    requests = figures.iafq_trace_requests(ctx.incidents)
    origins = figures.iafq_origins(ctx.incidents)
    ctx.progress(60, _("Significant seizures"))
    significant = _significant_seizures(ctx, minimum)
    persons = figures.iafq_seizure_persons(
        ctx.incidents, [row[0] for row in significant], by_sex_and_age=ctx.with_gender
    )
    arrests = figures.iafq_arrests(ctx.incidents, by_sex_and_age=ctx.with_gender)
    printed = _suppressed_people(significant, persons, arrests)

    codes = {row[0] for rows in (by_category, by_year, requests, origins, arrests) for row in rows}
    codes |= {row[0] for rows in breakdowns.values() for row in rows}
    codes |= {row[2] for row in breakdowns["country_of_manufacture"]}
    codes |= {row[4] for row in parts} | {row[4] for row in ammunition}
    codes |= {code for row in routes for code in (row[0], row[2], *row[3], row[4])}
    codes |= {row[0] for row in transit} | {row[2] for row in transit}
    codes |= {code for row in significant for code in (row[2], row[13], *row[14], row[15])}
    names = country_names(codes)
    return Document(
        title=_("Illicit Arms Flows Questionnaire: tables"),
        subtitle=ctx.scope.label,
        sections=[
            _seized_found_surrendered(ctx, names, by_category, breakdowns),
            _parts_and_ammunition(ctx, names, parts, ammunition),
            _routes(ctx, names, routes, transit),
            _tracing(ctx, names, by_year, requests, origins),
            _significant(ctx, names, minimum, significant, persons, printed),
            _criminal_justice(ctx, names, arrests, printed),
        ],
        notes=[
            _(
                "Seized: checkpoint and border seizures, cordon-and-search, recoveries after "
                "clashes or attacks, armed-violence incidents. Found: cache discoveries. "
                "Surrendered: voluntary surrenders and DDR handovers. Losses and thefts are "
                "not counted."
            ),
            _(
                "Recovered items only: weapons only observed are never counted. Arms exclude "
                "parts and components, which are counted apart."
            ),
        ],
    )

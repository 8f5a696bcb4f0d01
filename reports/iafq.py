"""The tables of UNODC's Illicit Arms Flows Questionnaire (IAFQ), filled from the records:
arms seized, found and surrendered (by type of arm); tracing results; significant seizures.

Rows are by country where the arms came under control and calendar year, as the
questionnaire asks each State for its own territory; a report on a mission or a region has
one block per country. A significant seizure is an incident with at least
`significant_seizure_min_arms` arms (10 unless asked otherwise)."""

from django.utils.translation import gettext as _

from incidents.choices import Context, IncidentKind, WeaponCategory
from reports import figures
from reports.documents import Document, ReportContext, Section, Table
from reports.sections import HXL_COUNTRY, HXL_WEAPONS, country_label, country_names, label
from reports.services import DEFAULT_SIGNIFICANT_SEIZURE


def _significant_seizures(ctx: ReportContext, minimum: int) -> list[tuple]:
    return figures.query(
        ctx.incidents,
        f"""
        , arms AS (
            SELECT w.incident_id, sum(w.quantity) AS items,
                   string_agg(DISTINCT w.category, ',' ORDER BY w.category) AS categories,
                   count(*) FILTER (WHERE EXISTS (SELECT 1 FROM incidents_tracerequest AS t
                        WHERE t.weapon_id = w.id)) AS traced_records
            FROM incidents_weaponitem AS w
            WHERE w.incident_id IN (SELECT id FROM chosen) AND {figures.RECOVERED}
            GROUP BY w.incident_id
        ), rounds AS (
            SELECT a.incident_id, sum(a.quantity) AS rounds FROM incidents_ammunitionitem AS a
            WHERE a.incident_id IN (SELECT id FROM chosen) AND {figures.ROUNDS}
            GROUP BY a.incident_id
        )
        SELECT chosen.id, (chosen.occurred_at AT TIME ZONE 'UTC')::date,
               COALESCE(chosen.country, ''), COALESCE(area.name, ''), chosen.kind,
               {figures.EVENT_CLASS_SQL}, chosen.context, arms.items, arms.categories,
               COALESCE(rounds.rounds, 0), arms.traced_records
        FROM chosen JOIN arms ON arms.incident_id = chosen.id
        LEFT JOIN rounds ON rounds.incident_id = chosen.id
        LEFT JOIN geo_adminarea AS area ON area.id = chosen.shown_admin_area_id
        WHERE chosen.kind = ANY(%s) AND arms.items >= %s
        ORDER BY arms.items DESC, 2, 1
        """,  # noqa: S608 - fragments are ours; values are parameters
        (*figures.EVENT_CLASS_PARAMS, list(figures.UNDER_CONTROL_KINDS), minimum),
    )


def build(ctx: ReportContext) -> Document:
    minimum = int(ctx.option.get("significant_seizure_min_arms", DEFAULT_SIGNIFICANT_SEIZURE))
    ctx.progress(20, _("Seized, found and surrendered arms"))
    by_category = figures.under_control_by_category(ctx.incidents)
    ctx.progress(40, _("Tracing results"))
    by_year = figures.under_control_by_country_year(ctx.incidents)
    ctx.progress(60, _("Significant seizures"))
    significant = _significant_seizures(ctx, minimum)
    names = country_names(
        {row[0] for row in by_category} | {row[0] for row in by_year} | {r[2] for r in significant}
    )
    events = {"seized": _("Seized"), "found": _("Found"), "surrendered": _("Surrendered")}
    arms = Table(
        name="iafq_arms_seized_found_surrendered",
        title=_("Arms seized, found and surrendered, by type of arm"),
        columns=[
            _("Country"),
            _("Year"),
            _("Type of arm"),
            _("Seized"),
            _("Found"),
            _("Surrendered"),
            _("Total"),
        ],
        # HXL: the plain #item+weapons+num is the total, the attributes its parts; the
        # year is an ISO 8601 #date.
        hxl=[
            HXL_COUNTRY,
            "#date",
            "#item+type",
            "#item+weapons+num+seized",
            "#item+weapons+num+found",
            "#item+weapons+num+surrendered",
            HXL_WEAPONS,
        ],
        rows=[
            [country_label(c, names), y, label(WeaponCategory, k), s, f, v, t]
            for c, y, k, s, f, v, t in by_category
        ],
    )
    tracing = Table(
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
            [country_label(c, names), y, t, r, e, t - e] for c, y, _s, _f, _v, t, r, e in by_year
        ],
    )
    seizures = Table(
        name="iafq_significant_seizures",
        title=_("Significant seizures (%(minimum)s arms or more)") % {"minimum": minimum},
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
            _("Rounds of ammunition"),
            _("Arms records traced"),
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
            "#item+rounds+num",
            "#activity+num+trace_requested",  # weapon records with a trace request
        ],
        lists={8: ", "},  # the types of arm, one per cell in the HXL CSV
        rows=[
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
                rounds,
                traced,
            ]
            for pk, day, c, area, kind, event, context, items, categories, rounds, traced in (
                significant
            )
        ],
    )
    return Document(
        title=_("Illicit Arms Flows Questionnaire: tables"),
        subtitle=ctx.scope.label,
        sections=[
            Section(title=_("Seized, found and surrendered arms"), tables=[arms]),
            Section(title=_("Tracing"), tables=[tracing]),
            Section(title=_("Significant seizures"), tables=[seizures]),
        ],
        notes=[
            _(
                "Seized: checkpoint and border seizures, cordon-and-search, recoveries after "
                "clashes or attacks, armed-violence incidents. Found: cache discoveries. "
                "Surrendered: voluntary surrenders and DDR handovers. Losses and thefts are "
                "not counted."
            )
        ],
    )

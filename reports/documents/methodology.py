"""The methodology and sources section that ends every report (reports.services adds it
to whatever the template built): what is counted and how, which records were left out
because not yet verified, how reliable the sources are, who reported, how much of the
period the records cover, and how recent they are.

Where there is nothing to describe, the section says "no data" rather than giving zeros
or shares of nothing.
"""

from __future__ import annotations

from datetime import date

from django.db.models import Count, Max, Q
from django.utils.translation import gettext as _

from incidents.choices import InformationCredibility, SourceReliability, SourceType, WorkflowState
from incidents.models import Incident
from organisations.models import Contingent
from reports.documents.document import ReportContext, Section, Table

TIMESTAMP = "%Y-%m-%d %H:%M"


def no_data() -> str:
    return _("no data")


def _share(part: int, whole: int) -> float | str:
    return round(100 * part / whole, 1) if whole else no_data()


def months_in(start: date, end: date) -> int:
    """The calendar months the period [start, end] touches."""
    return (end.year - start.year) * 12 + end.month - start.month + 1


def section(ctx: ReportContext) -> Section:
    # Plain rows, without the reader's annotations (shown locations), for the aggregates.
    counted = Incident.objects.filter(pk__in=ctx.incidents.values("pk"))
    records = counted.count()
    left_out = dict(
        Incident.objects.filter(pk__in=ctx.left_out.values("pk"))
        .values_list("state")
        .annotate(n=Count("id"))
        .values_list("state", "n")
    )
    left_out_total = sum(left_out.values())
    units = list(
        counted.values_list(
            "mission__acronym", "contingent__name", "contingent__contributing_country"
        )
        .annotate(n=Count("id"))
        .order_by("mission__acronym", "contingent__name")
    )
    missions = sorted({mission for mission, _name, _country, _n in units})
    # The scope's missions, and any other mission whose records lie in the scope (a
    # contingent of another mission reporting in a member State of a region).
    contingents_in_scope = (
        Contingent.objects.filter(
            Q(mission_id__in=ctx.scope.mission_ids) | Q(mission_id__in=counted.values("mission_id"))
        )
        .distinct()
        .count()
    )
    months = months_in(ctx.period_start, ctx.period_end)
    months_covered = counted.dates("occurred_at", "month").count()
    as_of = counted.aggregate(last=Max("updated_at"))["last"]

    paragraphs = [
        _(
            "These are mission records: what the units of peace operations recorded in their "
            "areas. They are not national statistics, and do not count every arm seized, "
            "found or surrendered in a country."
        ),
        _(
            "Only verified records are counted, whoever asks for the report: records in "
            "draft, submitted for verification or returned for correction are left out, and "
            "so are withdrawn records."
        ),
        _verification_paragraph(records, left_out, left_out_total),
        _(
            "Definitions. An incident is one event in which weapons or ammunition came under "
            "control or were used. Weapons are counted as items: a record of five identical "
            "unmarked rifles counts five; parts and components are items of their own. "
            "Seized: checkpoint and border seizures, cordon-and-search operations, "
            "recoveries after armed clashes or attacks on peacekeepers, armed-violence "
            "incidents. Found: cache discoveries. Surrendered: voluntary surrenders and DDR "
            "handovers. A recovered item came under the control of the unit; an item only "
            "observed (used in an attack, carried by an armed group) is not counted as "
            "seized, found or surrendered, nor are losses and thefts, which are arms leaving "
            "control. Ammunition is counted apart from weapons, in rounds: live small-arms "
            "and shotgun cartridges only; grenades, mortar bombs and spent cases are not "
            "rounds."
        ),
        _(
            "Sources. Each record grades the reliability of its source (A to F) and the "
            "credibility of the information (1 to 6) on the NATO/Admiralty scale (STANAG "
            "2511), and says how the unit knows what it records."
        ),
        _reporting_paragraph(units, missions, contingents_in_scope),
        _("Coverage: records in %(covered)s of the %(months)s calendar months of the period.")
        % {"covered": months_covered, "months": months}
        if records
        else _("Coverage: no data (no verified record in the period)."),
        (
            _(
                "Data as of %(as_of)s UTC (the latest update of a record counted); report "
                "generated at %(generated)s UTC."
            )
            if as_of
            else _(
                "Data as of: no data (no verified record in the period); report generated "
                "at %(generated)s UTC."
            )
        )
        % {
            "as_of": as_of.strftime(TIMESTAMP) if as_of else "",
            "generated": ctx.generated_at.strftime(TIMESTAMP),
        },
    ]
    return Section(
        title=_("Methodology and sources"),
        paragraphs=paragraphs,
        tables=[
            _records_table(
                records,
                left_out,
                left_out_total,
                len(missions),
                len(units),
                contingents_in_scope,
                months_covered,
                months,
                as_of,
            ),
            _sources_table(counted, records),
            _units_table(units),
        ],
    )


def _verification_paragraph(records: int, left_out: dict, total: int) -> str:
    if not total:
        return _(
            "Verified records counted: %(records)s. No record in the scope and period was "
            "left out for want of verification."
        ) % {"records": records}
    return _(
        "Verified records counted: %(records)s. Left out because not yet verified: "
        "%(total)s records in the scope and period (in draft: %(draft)s; submitted: "
        "%(submitted)s; returned for correction: %(returned)s)."
    ) % {
        "records": records,
        "total": total,
        "draft": left_out.get(WorkflowState.DRAFT, 0),
        "submitted": left_out.get(WorkflowState.SUBMITTED, 0),
        "returned": left_out.get(WorkflowState.RETURNED, 0),
    }


def _reporting_paragraph(units: list, missions: list[str], contingents_in_scope: int) -> str:
    if not units:
        return _("Contingents and missions reporting: no data (no verified record in the period).")
    return _(
        "Contingents reporting the records counted: %(contingents)s of the %(all)s "
        "contingents of the missions working in the scope (%(names)s). Missions reporting: "
        "%(missions)s (%(mission_names)s)."
    ) % {
        "contingents": len(units),
        "all": contingents_in_scope,
        "names": "; ".join(f"{name}, {mission}" for mission, name, _country, _n in units),
        "missions": len(missions),
        "mission_names": ", ".join(missions),
    }


def _records_table(
    records: int,
    left_out: dict,
    left_out_total: int,
    missions: int,
    contingents: int,
    contingents_in_scope: int,
    months_covered: int,
    months: int,
    as_of,
) -> Table:
    empty = not records
    return Table(
        name="methodology_records",
        title=_("Records counted and left out"),
        columns=[_("Figure"), _("Value")],
        hxl=["#indicator+name", "#indicator+text"],
        rows=[
            [_("Verified records counted"), records],
            [_("Left out: not yet verified"), left_out_total],
            [_("Of which in draft"), left_out.get(WorkflowState.DRAFT, 0)],
            [_("Of which submitted"), left_out.get(WorkflowState.SUBMITTED, 0)],
            [_("Of which returned for correction"), left_out.get(WorkflowState.RETURNED, 0)],
            [_("Missions reporting"), no_data() if empty else missions],
            [_("Contingents reporting"), no_data() if empty else contingents],
            [_("Contingents of the missions working in the scope"), contingents_in_scope],
            [_("Months with at least one record"), no_data() if empty else months_covered],
            [_("Months in the period"), months],
            [_("Data as of (UTC)"), as_of.strftime(TIMESTAMP) if as_of else no_data()],
        ],
    )


def _sources_table(counted, records: int) -> Table:
    rows = []
    if records:
        for scale, field, choices in (
            (_("Source reliability"), "source_reliability", SourceReliability),
            (_("Information credibility"), "information_credibility", InformationCredibility),
            (_("Source type"), "source_type", SourceType),
        ):
            counts = dict(
                counted.values_list(field).annotate(n=Count("id")).values_list(field, "n")
            )
            for choice in choices:
                n = counts.get(choice.value, 0)
                rows.append([scale, str(choice.label), n, _share(n, records)])
    return Table(
        name="methodology_sources",
        title=_("Reliability and credibility of the sources"),
        columns=[_("Scale"), _("Grade"), _("Records"), _("Share of records (%)")],
        hxl=["#indicator+name", "#indicator+label", "#indicator+num", "#indicator+pct"],
        rows=rows,
        note="" if records else _("No data: no verified record in the period."),
    )


def _units_table(units: list) -> Table:
    return Table(
        name="methodology_reporting_units",
        title=_("Contingents reporting"),
        columns=[
            _("Mission"),
            _("Contingent"),
            _("Contributing country (ISO 3166-1 alpha-3)"),
            _("Records"),
        ],
        hxl=["#org+name+mission", "#org+name+contingent", "#country+code", "#indicator+num"],
        rows=[[mission, name, country, n] for mission, name, country, n in units],
        note="" if units else _("No data: no verified record in the period."),
    )

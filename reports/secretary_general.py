"""Input to the Secretary-General's report on small arms and light weapons (the General
Assembly's resolution 76/232 series), in the sections such reports usually have: illicit
flows and seizures; marking, record-keeping and tracing; collection, stockpile management
and destruction; gender dimensions; international assistance and capacity-building.

The platform records no declared needs: the last section gives the signs of needs that the
records show (weapons still held by units, altered markings, unanswered traces), for the
mission to turn into its request."""

from django.utils.translation import gettext as _

from reports import figures, sections
from reports.documents import Document, ReportContext, Section, Table


def _share(part: int, whole: int) -> float | str:
    # A share of no weapons is no data, not "0.0" (nor "100 %").
    return round(100 * part / whole, 1) if whole else _("no data")


def build(ctx: ReportContext) -> Document:
    summary, totals = sections.summary(ctx)
    summary.title = _("I. Introduction")
    ctx.progress(20, _("Seizures and flows"))
    seizures = sections.seizures(ctx)
    seizures.title = _("II. Illicit flows and seizures")
    flows = sections.flows(ctx)
    flows.title = _("Origins of the weapons and cross-border flows")
    ctx.progress(45, _("Tracing"))
    tracing = sections.tracing(ctx)
    tracing.title = _("III. Marking, record-keeping and tracing")
    ctx.progress(60, _("Destruction"))
    custody = sections.custody(ctx)
    custody.title = _("IV. Collection, stockpile management and destruction")
    parts = [summary, seizures, flows, tracing, custody]
    gender = sections.gender(ctx, totals)
    if gender:
        gender.title = _("V. Gender dimensions")
        parts.append(gender)
    needs = figures.capacity_indicators(ctx.incidents, ctx.scope_incidents, ctx.period_end)
    weapons = needs["weapons"]
    parts.append(
        Section(
            title=_("VI. International assistance and capacity-building needs"),
            paragraphs=[
                _(
                    "Signs of needs in the records of the period; the platform records no "
                    "declared requests for assistance."
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
                            needs["held_by_units"],
                            _share(needs["held_by_units"], weapons),
                        ],
                        [
                            _("Weapons with altered or obliterated markings (forensics)"),
                            needs["markings_altered"],
                            _share(needs["markings_altered"], weapons),
                        ],
                        [
                            _("Factory-made weapons recorded without a serial number (marking)"),
                            needs["without_serial"],
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
    )
    return Document(
        title=_("Input to the Secretary-General's report on small arms and light weapons"),
        subtitle=ctx.scope.label,
        sections=parts,
    )

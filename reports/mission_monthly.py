"""The monthly mission arms-monitoring report: seizures by kind, category, context and area;
weapons stored, transferred and destroyed; tracing; hot spots and flows with maps; gender-
disaggregated figures and links to gender-based violence (for readers entitled to them)."""

from django.utils.translation import gettext as _

from reports import sections
from reports.documents import Document, ReportContext


def build(ctx: ReportContext) -> Document:
    summary, totals = sections.summary(ctx)
    ctx.progress(20, _("Seizures"))
    parts = [summary, sections.seizures(ctx)]
    ctx.progress(40, _("Custody and tracing"))
    parts += [sections.custody(ctx), sections.tracing(ctx)]
    ctx.progress(55, _("Hot spots and flows"))
    parts += [sections.hotspots(ctx), sections.flows(ctx)]
    gender = sections.gender(ctx, totals)
    if gender:
        parts.append(gender)
    return Document(
        title=_("Monthly arms-monitoring report"),
        subtitle=ctx.scope.label,
        sections=parts,
    )

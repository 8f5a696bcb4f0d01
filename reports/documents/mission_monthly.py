"""The monthly mission arms-monitoring report: seizures by kind, category, context and area;
weapons stored, transferred and destroyed; tracing; hot spots and flows with maps; gender-
disaggregated figures (by sex and age, suppressed, for every reader) and, for readers
entitled to them, people by role and links to gender-based violence."""

from django.utils.translation import gettext as _

from reports.documents import sections
from reports.documents.document import Document, ReportContext


def build(ctx: ReportContext) -> Document:
    summary, totals = sections.summary(ctx)
    ctx.progress(20, _("Seizures"))
    parts = [summary, sections.seizures(ctx)]
    ctx.progress(40, _("Custody and tracing"))
    parts += [sections.custody(ctx), sections.tracing(ctx)]
    ctx.progress(55, _("Hot spots and flows"))
    parts += [sections.hotspots(ctx), sections.flows(ctx)]
    # In every report: restricted content is marked for readers without gender data.
    parts.append(sections.gender(ctx, totals))
    return Document(
        title=_("Monthly arms-monitoring report"),
        subtitle=ctx.scope.label,
        sections=parts,
    )

"""The regional overview for a regional organisation: figures by member state, cross-border
flows into its members, hot spots where the reader may read them, and trends."""

from django.utils.translation import gettext as _

from reports.documents import sections
from reports.documents.document import Document, ReportContext


def build(ctx: ReportContext) -> Document:
    summary, totals = sections.summary(ctx)
    ctx.progress(20, _("Trends"))
    parts = [summary, sections.trends(ctx, by_country=True)]
    ctx.progress(40, _("Flows"))
    parts.append(sections.flows(ctx, members=ctx.scope.countries))
    ctx.progress(55, _("Hot spots"))
    parts.append(sections.hotspots(ctx))
    parts.append(sections.seizures(ctx, with_map=True))
    # In every report: restricted content is marked for readers without gender data.
    parts.append(sections.gender(ctx, totals))
    return Document(
        title=_("Regional overview"),
        subtitle=ctx.scope.label,
        sections=parts,
        notes=[
            _("Member states: %(members)s.") % {"members": ", ".join(ctx.scope.countries)},
        ],
    )

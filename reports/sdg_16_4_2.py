"""SDG indicator 16.4.2: the proportion of seized, found or surrendered arms whose illicit
origin or context has been traced or established by a competent authority in line with
international instruments (UNODC is the custodian agency).

By country where the arms came under control and calendar year (UTC):
- denominator: all arms seized, found or surrendered (weapon items, counting each item's
  quantity; losses and thefts are not arms coming under control: see figures.py);
- numerator: those arms with a trace request that established the point of diversion
  (their illicit origin), whenever it was answered;
- also given, as UNODC's questionnaire asks: the arms for which a trace was requested.
"""

from django.utils.translation import gettext as _

from reports import figures
from reports.documents import Document, ReportContext, Section, Table
from reports.sections import HXL_COUNTRY, HXL_WEAPONS, country_names


def indicator_rows(ctx: ReportContext) -> list[list]:
    rows = figures.under_control_by_country_year(ctx.incidents)
    names = country_names({row[0] for row in rows})
    return [
        [
            names.get(country, country) or _("Unknown"),
            country,
            year,
            total,
            traced,
            established,
            round(100 * established / total, 1) if total else 0.0,
        ]
        for country, year, _seized, _found, _surrendered, total, traced, established in rows
    ]


def build(ctx: ReportContext) -> Document:
    ctx.progress(30, _("Indicator"))
    rows = indicator_rows(ctx)
    total = sum(row[3] for row in rows)
    established = sum(row[5] for row in rows)
    table = Table(
        name="sdg_16_4_2",
        title=_("SDG 16.4.2: arms whose illicit origin was established, by country and year"),
        columns=[
            _("Country"),
            _("ISO 3166-1 alpha-3"),
            _("Year"),
            _("Arms seized, found or surrendered"),
            _("Arms for which a trace was requested"),
            _("Arms whose illicit origin was established"),
            _("Proportion (%)"),
        ],
        # HXL: the denominator, the arms traced and the numerator are weapons counted by
        # quantity (#item); the proportion is the indicator.
        hxl=[
            "#country+name",
            HXL_COUNTRY,
            "#date",
            HXL_WEAPONS,
            "#item+weapons+num+trace_requested",
            "#item+weapons+num+traced",
            "#indicator+num+pct",
        ],
        rows=rows,
    )
    return Document(
        title=_("SDG indicator 16.4.2"),
        subtitle=ctx.scope.label,
        sections=[
            Section(
                title=_(
                    "Proportion of seized, found or surrendered arms whose illicit origin "
                    "or context has been traced or established"
                ),
                paragraphs=[
                    _(
                        "Numerator: arms whose point of diversion a trace established. "
                        "Denominator: all arms seized, found or surrendered in the country "
                        "and year. Over the whole table: %(established)s of %(total)s arms "
                        "(%(share)s %%)."
                    )
                    % {
                        "established": established,
                        "total": total,
                        "share": round(100 * established / total, 1) if total else 0.0,
                    }
                ],
                tables=[table],
            )
        ],
    )

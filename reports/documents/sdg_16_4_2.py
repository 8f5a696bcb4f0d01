"""SDG indicator 16.4.2, as its metadata defines it: the proportion of seized, found or
surrendered arms whose illicit origin or context has been traced or established by a
competent authority in line with international instruments.

Source: SDG indicator metadata, indicator 16.4.2 (custodian agency: UNODC; UN Statistics
Division's SDG indicators metadata repository, https://unstats.un.org/sdgs/metadata/,
files 16-04-02), and UNODC's Illicit Arms Flows Questionnaire, which collects it.

How this report counts, by country where the arms came under control and calendar year
(UTC) of the incident:

- denominator: recovered arms seized, found or surrendered (weapon items, each counting
  its quantity; `WeaponItem.recovery` = recovered: arms only observed never count; losses
  and thefts are arms leaving control, not coming under it: see figures.py);
- numerator: those of them whose illicit origin has been established, whatever the
  method: an illicit-origin record (incidents/origins.py: by trace, a competent authority's
  finding, an investigation or marking evidence), or a trace request of the weapon whose
  answer established the point of diversion without such a record (a trace is one of the
  metadata's ways of establishing an origin; its kind is then "diversion established by
  trace, kind not stated", as the answer gives the point of diversion, not the kind).
  Illicit manufacture is an illicit origin: craft-produced arms with an origin record of
  that kind count. Each weapon counts once, with its quantity, however many trace requests
  (follow-ups included) it has, and whether it has a trace, a record or both (the record
  then gives the kind and method);
- both disaggregated by type of arm (`WeaponItem.category`) and the numerator by kind of
  illicit origin and the method that established it;
- also given, as UNODC's questionnaire asks: the arms for which a trace was requested.

Each figure is published with its revision (reports.models.IndicatorFigure): when the
report is generated its figures are stored, and a figure that differs from the last one
stored for the same country-year, scope, audience and part of the year is a new revision,
printed with the earlier value ("revised from 3 of 10 on 2026-03-01"). Late trace answers
and origins recorded for past years thus show as revisions, never silently. A country-year
with fewer arms than `settings.SDG_LOW_N` is flagged "low n".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from django.conf import settings
from django.db import connection, transaction
from django.utils.translation import gettext as _

from incidents.choices import OriginKind, OriginMethod, WeaponCategory
from organisations.access import missions_read_whole
from reports.documents import figures
from reports.documents.document import Document, ReportContext, Section, Table
from reports.documents.sections import HXL_COUNTRY, HXL_WEAPONS, country_names
from reports.models import IndicatorFigure, Report, ScopeKind

INDICATOR = "16.4.2"
HXL_ESTABLISHED = "#item+weapons+num+established"


@dataclass
class CountryYear:
    country: str
    year: int
    arms: int = 0
    trace_requested: int = 0
    established: int = 0
    # category: [arms, established]
    by_category: dict[str, list[int]] = field(default_factory=dict)
    # (origin kind, method): arms
    by_origin: dict[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class Published:
    """A figure as published: its revision, since when, and the revision before it."""

    revision: int
    as_of: datetime
    previous: IndicatorFigure | None


def country_years(ctx: ReportContext) -> list[CountryYear]:
    table: dict[tuple[str, int], CountryYear] = {}
    for country, year, category, kind, method, requested, arms in figures.sdg_16_4_2_arms(
        ctx.incidents
    ):
        row = table.setdefault((country, year), CountryYear(country, year))
        row.arms += arms
        row.trace_requested += arms if requested else 0
        counts = row.by_category.setdefault(category, [0, 0])
        counts[0] += arms
        if kind:
            row.established += arms
            counts[1] += arms
            row.by_origin[(kind, method)] = row.by_origin.get((kind, method), 0) + arms
    return [table[key] for key in sorted(table)]


def share(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def low_n(whole: int) -> bool:
    return whole < settings.SDG_LOW_N


def audience(ctx: ReportContext) -> str:
    """Whose figures these are: "whole" when the reader reads every verified record of the
    scope (an administrator; a mission's verifiers and analysts, or its schedule, on that
    mission), else the reader's own, which may be narrower."""
    report = ctx.report
    mission_scope = ctx.scope.kind == ScopeKind.MISSION
    if report.requested_by is None:
        if mission_scope and report.mission_id == int(ctx.scope.value):
            return "whole"
        return f"mission:{report.mission_id}"
    reader = report.requested_by
    if reader.is_superuser and reader.is_active:
        return "whole"
    if mission_scope and int(ctx.scope.value) in missions_read_whole(reader):
        return "whole"
    return f"user:{reader.pk}"


def span(ctx: ReportContext, year: int) -> tuple[date, date]:
    """The part of `year` the report's period covers."""
    return max(ctx.period_start, date(year, 1, 1)), min(ctx.period_end, date(year, 12, 31))


def figures_publish(*, ctx: ReportContext, rows: list[CountryYear]) -> dict:
    """Store the report's figures as published and return, per (country, year), the
    revision each one is. A figure equal to the last one stored keeps its revision; a
    different one is the next revision. A retried generation of the same report replaces
    the revision its earlier attempt stored (a figure is not revised by its own report),
    and a revision stored by a report that then failed was never published: it goes."""
    published = {}
    series = {
        "indicator": INDICATOR,
        "scope_kind": ctx.scope.kind,
        "scope_value": ctx.scope.value,
        "audience": audience(ctx),
    }
    with transaction.atomic():
        for row in rows:
            span_start, span_end = span(ctx, row.year)
            key = {**series, "country": row.country, "year": row.year}
            key |= {"span_start": span_start, "span_end": span_end}
            with connection.cursor() as cursor:
                # Two reports publishing the same series wait for each other.
                cursor.execute(
                    "SELECT pg_advisory_xact_lock(hashtext(%s))",
                    ["sdg|" + "|".join(str(value) for value in key.values())],
                )
            revisions = list(
                IndicatorFigure.objects.filter(**key).select_related("report").order_by("revision")
            )
            # Never published: this report's own earlier attempt, or a report that failed.
            while revisions and _unpublished(revisions[-1], ctx):
                revisions.pop().delete()
            latest = revisions[-1] if revisions else None
            if latest and (latest.numerator, latest.denominator) == (row.established, row.arms):
                current = latest
                previous = revisions[-2] if len(revisions) > 1 else None
            else:
                current = IndicatorFigure.objects.create(
                    **key,
                    numerator=row.established,
                    denominator=row.arms,
                    revision=latest.revision + 1 if latest else 1,
                    as_of=ctx.generated_at,
                    report=ctx.report,
                )
                previous = latest
            published[(row.country, row.year)] = Published(
                current.revision, current.as_of, previous
            )
    return published


def _unpublished(figure: IndicatorFigure, ctx: ReportContext) -> bool:
    """A revision stored by this report (a retried generation stores its own again) or by
    a report that then failed: no reader saw it. (A report deleted since was published.)"""
    return figure.report_id == ctx.report.pk or (
        figure.report is not None and figure.report.state == Report.State.FAILED
    )


def revised_from(previous: IndicatorFigure) -> str:
    return _("revised from %(numerator)s of %(denominator)s on %(date)s") % {
        "numerator": previous.numerator,
        "denominator": previous.denominator,
        "date": f"{previous.as_of:%Y-%m-%d}",
    }


def low_n_note() -> str:
    return _("low n (fewer than %(n)s arms)") % {"n": settings.SDG_LOW_N}


def origin_kind_label(kind: str) -> str:
    if kind == figures.TRACE_KIND_NOT_STATED:
        return _("Diversion established by trace, kind not stated")
    return str(OriginKind(kind).label)


def build(ctx: ReportContext) -> Document:
    ctx.progress(30, _("Indicator"))
    rows = country_years(ctx)
    names = country_names({row.country for row in rows})
    published = figures_publish(ctx=ctx, rows=rows)

    def place(row: CountryYear) -> list:
        return [names.get(row.country, row.country) or _("Unknown"), row.country, row.year]

    indicator_rows, revisions = [], []
    for row in rows:
        figure = published[(row.country, row.year)]
        notes = [low_n_note()] if low_n(row.arms) else []
        if figure.previous is not None:
            notes.append(revised_from(figure.previous))
            revisions.append(
                _(
                    "%(country)s, %(year)s: %(numerator)s of %(denominator)s (revision "
                    "%(revision)s), %(revised)s."
                )
                % {
                    "country": names.get(row.country, row.country) or _("Unknown"),
                    "year": row.year,
                    "numerator": row.established,
                    "denominator": row.arms,
                    "revision": figure.revision,
                    "revised": revised_from(figure.previous),
                }
            )
        indicator_rows.append(
            [
                *place(row),
                row.arms,
                row.trace_requested,
                row.established,
                share(row.established, row.arms),
                figure.revision,
                f"{figure.as_of:%Y-%m-%d}",
                "; ".join(notes),
            ]
        )
    by_type = [
        [
            *place(row),
            str(WeaponCategory(category).label),
            arms,
            established,
            share(established, arms),
            low_n_note() if low_n(arms) else "",
        ]
        for row in rows
        for category, (arms, established) in sorted(
            row.by_category.items(), key=lambda item: (-item[1][0], item[0])
        )
    ]
    by_origin = [
        [*place(row), origin_kind_label(kind), str(OriginMethod(method).label), arms]
        for row in rows
        for (kind, method), arms in sorted(row.by_origin.items())
    ]
    note_column = _("Note")
    place_columns = [_("Country"), _("ISO 3166-1 alpha-3"), _("Year")]
    place_hxl = ["#country+name", HXL_COUNTRY, "#date"]
    tables = [
        Table(
            name="sdg_16_4_2",
            title=_("SDG 16.4.2: arms whose illicit origin was established, by country and year"),
            columns=[
                *place_columns,
                _("Arms seized, found or surrendered"),
                _("Arms for which a trace was requested"),
                _("Arms whose illicit origin was established"),
                _("Proportion (%)"),
                _("Revision"),
                _("Revision published on"),
                note_column,
            ],
            # HXL: the denominator, the arms traced and the numerator are weapons counted
            # by quantity (#item); the proportion is the indicator.
            hxl=[
                *place_hxl,
                HXL_WEAPONS,
                "#item+weapons+num+trace_requested",
                HXL_ESTABLISHED,
                "#indicator+num+pct",
                "#meta+revision+num",
                "#date+reported",
                "#description",
            ],
            rows=indicator_rows,
        ),
        Table(
            name="sdg_16_4_2_by_type",
            title=_("SDG 16.4.2 by type of arm"),
            columns=[
                *place_columns,
                _("Type of arm"),
                _("Arms seized, found or surrendered"),
                _("Arms whose illicit origin was established"),
                _("Proportion (%)"),
                note_column,
            ],
            hxl=[
                *place_hxl,
                "#item+type",
                HXL_WEAPONS,
                HXL_ESTABLISHED,
                "#indicator+num+pct",
                "#description",
            ],
            rows=by_type,
        ),
        Table(
            name="sdg_16_4_2_by_origin",
            title=_("SDG 16.4.2: arms whose illicit origin was established, by kind of origin"),
            columns=[
                *place_columns,
                _("Kind of illicit origin"),
                _("Established by way of"),
                _("Arms"),
            ],
            hxl=[*place_hxl, "#item+origin_kind", "#item+origin_method", HXL_ESTABLISHED],
            rows=by_origin,
        ),
    ]
    return Document(
        title=_("SDG indicator 16.4.2"),
        subtitle=ctx.scope.label,
        sections=[
            Section(
                title=_(
                    "Proportion of seized, found or surrendered arms whose illicit origin "
                    "or context has been traced or established"
                ),
                paragraphs=_paragraphs(ctx, rows, revisions),
                tables=tables,
            )
        ],
    )


def _paragraphs(ctx: ReportContext, rows: list[CountryYear], revisions: list[str]) -> list[str]:
    total = sum(row.arms for row in rows)
    established = sum(row.established for row in rows)
    if not total:
        overall = _("Over the whole table: no data (no recovered arms in the period).")
    else:
        overall = _("Over the whole table: %(established)s of %(total)s arms (%(share)s %%).") % {
            "established": established,
            "total": total,
            "share": share(established, total),
        }
        if low_n(total):
            overall += " " + _("Low n: fewer than %(n)s arms.") % {"n": settings.SDG_LOW_N}
    paragraphs = [
        _(
            "As defined by the SDG indicator metadata (custodian agency: UNODC). Numerator: "
            "recovered arms whose illicit origin was established, whatever the method: by a "
            "trace, a competent authority's finding, an investigation or marking evidence; "
            "illicit manufacture (craft-produced arms among them) is an illicit origin. A "
            "trace answer that established the point of diversion counts as an origin "
            "established by trace, its kind not stated unless an origin record gives it. "
            "Each weapon counts once, whatever the number of its traces. Denominator: all "
            "recovered arms seized, found or surrendered in the country and year; arms only "
            "observed are not counted."
        ),
        overall,
        _(
            "Figures as of %(as_of)s UTC. Each figure is stored as published, with its "
            "revision: a figure that differs from the one published before for the same "
            "country and year (a late trace answer or origin for a past year) is a new "
            "revision, and the earlier value is given. Rows with fewer than %(n)s arms are "
            "marked low n: their proportion says little."
        )
        % {"as_of": f"{ctx.generated_at:%Y-%m-%d %H:%M}", "n": settings.SDG_LOW_N},
    ]
    partial = sorted(
        {
            row.year
            for row in rows
            if span(ctx, row.year) != (date(row.year, 1, 1), date(row.year, 12, 31))
        }
    )
    if partial:
        paragraphs.append(
            _("The period covers only part of %(years)s: those figures are for that part.")
            % {"years": ", ".join(map(str, partial))}
        )
    if revisions:
        paragraphs.append(_("Revised figures:") + " " + " ".join(revisions))
    return paragraphs

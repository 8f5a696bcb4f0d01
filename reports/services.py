"""Writes and rules about reports: requesting one, generating it, the monthly schedule."""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import date, timedelta

import rules
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from armsmonitor.jobs import (
    JobAttempt,
    JobLost,
    JobMessages,
    job_enqueue,
    job_recover,
    job_run,
    stuck,
)
from geo.analyses.source import data_fingerprint
from geo.models import Region
from organisations.access import Principal
from organisations.audit import record_write
from organisations.models import Mission
from reports.documents import methodology, rendering
from reports.documents.document import Document, ReportContext
from reports.documents.hotspots import stored_hotspot_runs
from reports.models import Report, ReportFile, ReportTemplate, ScopeKind
from reports.scope import (
    Reading,
    Scope,
    period_check,
    report_reading,
    scope_check_access,
    scope_resolve,
    template_check_scope,
)

logger = logging.getLogger(__name__)


def template_builders() -> dict[str, Callable[[ReportContext], Document]]:
    """Each template's builder. The modules are imported when a report is generated, not
    with this one: they draw with matplotlib and geopandas, which the web process does not
    load."""
    from reports.documents import (
        iafq,
        isacs_trace,
        mission_monthly,
        regional_overview,
        sdg_16_4_2,
        secretary_general,
    )

    return {
        ReportTemplate.MISSION_MONTHLY: mission_monthly.build,
        ReportTemplate.REGIONAL_OVERVIEW: regional_overview.build,
        ReportTemplate.SECRETARY_GENERAL: secretary_general.build,
        ReportTemplate.SDG_16_4_2: sdg_16_4_2.build,
        ReportTemplate.IAFQ: iafq.build,
        ReportTemplate.ISACS_TRACE: isacs_trace.build,
    }


DEFAULT_SIGNIFICANT_SEIZURE = 10  # arms (see reports/documents/iafq.py)
CONTENT_TYPES = {
    ReportFile.Format.PDF: "application/pdf",
    ReportFile.Format.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ReportFile.Format.CSV: "text/csv; charset=utf-8",
}


def options_clean(template: str, options: dict | None) -> dict:
    """The report's options with their defaults; ValidationError naming `options.<name>`."""
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise ValidationError({"options": _("Give the options as an object.")})
    known = {"hxl"}
    if template == ReportTemplate.IAFQ:
        known.add("significant_seizure_min_arms")
    errors = {}
    for name in options:
        if name not in known:
            errors[f"options.{name}"] = [_("Unknown option for this template.")]
    hxl = options.get("hxl", False)
    if not isinstance(hxl, bool):
        errors["options.hxl"] = [_("Give true or false.")]
    cleaned: dict = {"hxl": hxl}
    if template == ReportTemplate.IAFQ:
        minimum = options.get("significant_seizure_min_arms", DEFAULT_SIGNIFICANT_SEIZURE)
        if isinstance(minimum, bool) or not isinstance(minimum, int) or not 1 <= minimum <= 100_000:
            errors["options.significant_seizure_min_arms"] = [
                _("Give a whole number from 1 to 100000.")
            ]
        cleaned["significant_seizure_min_arms"] = minimum
    if errors:
        raise ValidationError(errors)
    return cleaned


def report_request(
    *,
    requester: Principal,
    template: str,
    scope_kind: str,
    scope: str,
    period_start: date,
    period_end: date,
    options: dict | None = None,
    language: str = "en",
) -> Report:
    """Ask for a report on what `requester` may read in `scope` over the period.

    Returns the stored report of an identical request on unchanged records if there is one
    (`report.reused` is then True), else a new queued report whose generation starts once
    the transaction commits. Raises PermissionDenied, or ValidationError naming the field;
    nothing is written then."""
    if not rules.has_perm("reports.request_report", requester):
        raise PermissionDenied(_("You may not ask for reports."))
    template_check_scope(template=template, scope_kind=scope_kind)
    period_check(start=period_start, end=period_end)
    chosen_options = options_clean(template, options)
    resolved = scope_resolve(kind=scope_kind, value=scope)
    scope_check_access(requester=requester, scope=resolved)
    return _request(
        template=template,
        scope=resolved,
        period_start=period_start,
        period_end=period_end,
        options=chosen_options,
        language=language,
        requester=requester,
        mission=None,
    )


def report_request_for_mission(
    *, mission: Mission, template: str, period_start: date, period_end: date
) -> Report:
    """A scheduled report on what `mission`'s analysts read (no gender figures: its readers
    are not all entitled to them)."""
    template_check_scope(template=template, scope_kind=ScopeKind.MISSION)
    period_check(start=period_start, end=period_end)
    return _request(
        template=template,
        scope=scope_resolve(kind=ScopeKind.MISSION, value=str(mission.pk)),
        period_start=period_start,
        period_end=period_end,
        options=options_clean(template, {}),
        language="en",
        requester=None,
        mission=mission,
    )


def _reading(report_or_request) -> Reading:
    """What a report reads (reports.scope.report_reading: verified records only)."""
    return report_reading(
        requester=report_or_request.requested_by,
        mission_id=report_or_request.mission_id,
        scope=scope_resolve(kind=report_or_request.scope_kind, value=report_or_request.scope_value),
        start=report_or_request.period_start,
        end=report_or_request.period_end,
    )


def _fingerprint(reading: Reading, requester, mission_id) -> tuple[str, int]:
    """The state of everything a report reads: the scope's incidents with their weapons,
    traces, custody events, people and ammunition (geo's data fingerprint: each incident's
    revision covers them all), the records it leaves out as not yet verified (counted in
    its methodology section), and the stored hot-spot runs it would show."""
    base, count = data_fingerprint(reading.in_scope)
    # The section counts them by state: which records, in which state, is all it reads.
    left_out = ",".join(
        f"{pk}:{state}" for pk, state in reading.left_out.order_by("pk").values_list("pk", "state")
    )
    runs = [
        run.pk
        for run in stored_hotspot_runs(
            scope=reading.scope, requester=requester, mission_id=mission_id
        )
    ]
    digest = hashlib.sha256(
        "|".join([base, left_out, ",".join(map(str, runs))]).encode()
    ).hexdigest()
    return digest, count


def _request(
    *, template, scope: Scope, period_start, period_end, options, language, requester, mission
) -> Report:
    with_gender = requester is not None and rules.has_perm("incidents.view_gender_data", requester)
    draft = Report(
        template=template,
        scope_kind=scope.kind,
        scope_value=scope.value,
        scope_label=scope.label,
        period_start=period_start,
        period_end=period_end,
        options=options,
        language=language,
        with_gender=with_gender,
        requested_by=requester,
        mission=mission,
    )
    reading = _reading(draft)
    fingerprint, _count = _fingerprint(reading, requester, mission.pk if mission else None)
    who = f"user:{requester.pk}" if requester is not None else f"mission:{mission.pk}"
    # The Secretary-General's input compares regional organisations: another membership
    # is another report.
    regions = (
        [
            [code, members, str(as_of)]
            for code, members, as_of in Region.objects.order_by("code").values_list(
                "code", "member_countries", "members_as_of"
            )
        ]
        if template == ReportTemplate.SECRETARY_GENERAL
        else []
    )
    draft.request_key = hashlib.sha256(
        json.dumps(
            {
                "regions": regions,
                "template": template,
                "scope": [scope.kind, scope.value],
                "period": [period_start.isoformat(), period_end.isoformat()],
                "options": options,
                "language": language,
                "gender": with_gender,
                # Another threshold prints other cells (incidents/suppression.py).
                "small_cell_threshold": settings.SMALL_CELL_THRESHOLD,
                "who": who,
            },
            sort_keys=True,
        ).encode()
    ).hexdigest()
    draft.data_fingerprint = fingerprint
    existing = _live_report(draft.request_key, fingerprint)
    if existing:
        return existing
    draft.incidents_read = reading.in_period.count()
    try:
        with transaction.atomic():
            draft.save()
            if requester is not None:
                record_write(requester, "report.request", target=draft)
    except IntegrityError:
        # The same request arrived at the same moment and won the race.
        return _live_report(draft.request_key, fingerprint)
    draft.reused = False
    job_enqueue(job=draft)
    return draft


def _live_report(request_key: str, fingerprint: str) -> Report | None:
    report = Report.objects.filter(
        request_key=request_key, data_fingerprint=fingerprint, state__in=Report.LIVE_STATES
    ).first()
    if report is not None and Report.objects.filter(stuck(), pk=report.pk).exists():
        # Never hand out a report whose task was lost or whose worker died: take it up now.
        report = job_recover(job=report)
        if report.state not in Report.LIVE_STATES:
            return None
    if report:
        report.reused = True
    return report


def report_generate(*, report_id: int, worker: str, task_id: str = "") -> None:
    """Generate a report's files (armsmonitor.jobs.job_run: safe to call again; only the
    attempt that owns the report writes its end). A report left 'running' by a worker that
    died starts over, replacing its files."""
    job_run(
        Report,
        report_id,
        body=_generate,
        messages=REPORT_MESSAGES,
        task_id=task_id,
        worker=worker,
        related=("requested_by",),
    )


REPORT_MESSAGES = JobMessages(
    time_limit=lambda: _("The report took longer than the time limit and was stopped."),
)


def _generate(attempt: JobAttempt) -> None:
    report = attempt.job

    def progress(percent: int, stage: str = "") -> None:
        attempt.progress(percent, stage=stage)

    progress(5, _("Reading the records"))
    reading = _reading(report)
    generated_at = timezone.now()
    context = ReportContext(
        report=report,
        scope=reading.scope,
        requester=report.requested_by,
        incidents=reading.in_period,
        scope_incidents=reading.in_scope,
        left_out=reading.left_out,
        with_gender=report.with_gender,
        progress=progress,
        generated_at=generated_at,
    )
    document = template_builders()[report.template](context)
    # Every template ends with the same methodology and sources section.
    document.sections.append(methodology.section(context))
    progress(75, _("Writing the PDF"))
    files = [
        (
            f"{report.template}.pdf",
            ReportFile.Format.PDF,
            rendering.pdf_bytes(document, report=report, generated_at=generated_at),
        )
    ]
    progress(90, _("Writing the workbook and CSV files"))
    files.append(
        (
            f"{report.template}.xlsx",
            ReportFile.Format.XLSX,
            rendering.xlsx_bytes(document, report=report, generated_at=generated_at),
        )
    )
    hxl = bool(report.options.get("hxl"))
    files += [
        (f"{table.name}.csv", ReportFile.Format.CSV, rendering.csv_bytes(table, hxl=hxl))
        for table in document.tables
    ]
    _store(attempt, files, [table.as_json() for table in document.tables])


def _store(attempt: JobAttempt, files: list[tuple[str, str, bytes]], tables: list[dict]) -> None:
    with transaction.atomic():
        # Only the attempt that owns the report writes its files and its end.
        report = attempt.lock()
        if report is None:
            raise JobLost
        # A retried report replaces what an interrupted attempt left.
        for old in report.files.all():
            old.file.delete(save=False)
        report.files.all().delete()
        for name, file_format, content in files:
            stored = ReportFile(
                report=report,
                name=name,
                file_format=file_format,
                content_type=CONTENT_TYPES[file_format],
                size=len(content),
                sha256=hashlib.sha256(content).hexdigest(),
            )
            path = f"reports/{report.pk}/{name}"
            if stored.file.storage.exists(path):
                stored.file.storage.delete(path)
            stored.file.save(name, ContentFile(content), save=False)
            stored.save()
        attempt.finish(tables=tables, stage="")


def report_is_stale(report: Report) -> bool:
    """Whether the records the report read have changed since."""
    return (
        _fingerprint(_reading(report), report.requested_by, report.mission_id)[0]
        != report.data_fingerprint
    )


def previous_month(today: date) -> tuple[date, date]:
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def monthly_reports_request(*, today: date | None = None) -> list[Report]:
    """The monthly mission reports of the month before `today`, one per mission; an
    unchanged month reuses the stored report."""
    start, end = previous_month(today or timezone.now().date())
    return [
        report_request_for_mission(
            mission=mission,
            template=ReportTemplate.MISSION_MONTHLY,
            period_start=start,
            period_end=end,
        )
        for mission in Mission.objects.order_by("pk")
    ]

"""Serving a report's files: always as a download, never rendered inline, and recorded in
the audit trail as a read of the records the report counted."""

import logging

from django.http import FileResponse, Http404

from organisations.audit import record_read
from reports.models import ReportFile

log = logging.getLogger(__name__)


def report_file_response(request, report_file: ReportFile) -> FileResponse:
    report = report_file.report
    try:
        content = report_file.file.open("rb")
    except FileNotFoundError as missing:
        # A file lost from the media volume (a restore without it, a manual clean-up) is
        # not the caller's error, and no read happened: 404, and a line for the operator.
        log.error("Report %s: file %s is missing from storage", report.pk, report_file.file.name)
        raise Http404("This file of the report is no longer available.") from missing
    record_read(
        request,
        f"report.download.{report_file.file_format}",
        records=report.incidents_read,
        target=report,
    )
    response = FileResponse(
        content,
        as_attachment=True,
        filename=f"armsmonitor-report-{report.pk}-{report_file.name}",
        content_type=report_file.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response

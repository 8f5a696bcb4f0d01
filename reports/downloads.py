"""Serving a report's files: always as a download, never rendered inline, and recorded in
the audit trail as a read of the records the report counted."""

from django.http import FileResponse

from organisations.audit import record_read
from reports.models import ReportFile


def report_file_response(request, report_file: ReportFile) -> FileResponse:
    report = report_file.report
    record_read(
        request,
        f"report.download.{report_file.file_format}",
        records=report.incidents_read,
        target=report,
    )
    response = FileResponse(
        report_file.file.open("rb"),
        as_attachment=True,
        filename=f"armsmonitor-report-{report.pk}-{report_file.name}",
        content_type=report_file.content_type,
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response

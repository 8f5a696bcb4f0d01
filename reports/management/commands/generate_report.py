import shutil
import time
from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from reports.models import Report, ReportTemplate, ScopeKind
from reports.services import report_generate, report_request


class Command(BaseCommand):
    help = (
        "Generate one report now, in this process (no worker), as USER would get it; print "
        "how long it took, and optionally copy its PDF to --pdf."
    )

    def add_arguments(self, parser):
        parser.add_argument("--user", required=True, help="Whose view of the records.")
        parser.add_argument("--template", required=True, choices=ReportTemplate.values)
        parser.add_argument("--scope-kind", required=True, choices=ScopeKind.values)
        parser.add_argument("--scope", required=True)
        parser.add_argument("--from", dest="start", required=True, type=date.fromisoformat)
        parser.add_argument("--to", dest="end", required=True, type=date.fromisoformat)
        parser.add_argument("--hxl", action="store_true")
        parser.add_argument("--pdf", type=Path, help="Copy the PDF here.")

    def handle(self, *args, user, template, scope_kind, scope, start, end, hxl, pdf, **options):
        requester = get_user_model().objects.filter(username=user).first()
        if requester is None:
            raise CommandError(f"No user {user}.")
        started = time.monotonic()
        try:
            report = report_request(
                requester=requester,
                template=template,
                scope_kind=scope_kind,
                scope=scope,
                period_start=start,
                period_end=end,
                options={"hxl": hxl},
            )
        except ValidationError as error:
            raise CommandError(error.message_dict) from error
        report_generate(report_id=report.pk, worker="manage.py")
        report.refresh_from_db()
        elapsed = time.monotonic() - started
        if report.state != Report.State.DONE:
            raise CommandError(f"Report {report.pk} failed: {report.error}")
        if pdf:
            shutil.copyfile(report.files.get(file_format="pdf").file.path, pdf)
        self.stdout.write(
            f"Report {report.pk} ({template}, {report.scope_label}, {report.period_label}): "
            f"{report.incidents_read} incidents, {report.files.count()} files, "
            f"{elapsed:.2f} s{' (stored report reused)' if report.reused else ''}."
        )

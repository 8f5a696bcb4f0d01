"""Pages of reports: ask for one, follow its generation, download its files."""

import rules
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language

from organisations.audit import RefusedRead, refused_reads_audited
from reports.downloads import report_file_response
from reports.forms import ReportRequestForm
from reports.models import Report
from reports.services import report_is_stale, report_request


@login_required
def reports(request):
    """The reports the user may read, and (for those who may ask) the form to ask for one."""
    may_request = rules.has_perm("reports.request_report", request.user)
    form = ReportRequestForm(request.POST or None)
    if request.method == "POST":
        if not may_request:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            try:
                report = report_request(
                    requester=request.user,
                    template=data["template"],
                    scope_kind=data["scope_kind"],
                    scope=data["scope"],
                    period_start=data["period_start"],
                    period_end=data["period_end"],
                    options=form.options(),
                    language=get_language() or "en",
                )
                return redirect("reports:detail", pk=report.pk)
            except ValidationError as error:
                for name, messages in error.message_dict.items():
                    form.add_error(name if name in form.fields else None, messages)
    return render(
        request,
        "reports/list.html",
        {
            "form": form,
            "may_request": may_request,
            "reports": Report.objects.visible_to(request.user)
            .select_related("requested_by", "mission")
            .prefetch_related("files")[:50],
        },
        status=400 if request.method == "POST" else 200,
    )


def readable_reports(request) -> QuerySet[Report]:
    """The reports the user may read: their page, status (armsmonitor.job_status), files."""
    return Report.objects.visible_to(request.user)


def _readable_report(request, pk: int) -> Report:
    return get_object_or_404(readable_reports(request), pk=pk)


@refused_reads_audited(RefusedRead("report.detail", Report))
@login_required
def report_detail(request, pk: int):
    report = _readable_report(request, pk)
    return render(
        request,
        "reports/detail.html",
        {
            "report": report,
            "files": report.files.all(),
            "stale": report.state == Report.State.DONE and report_is_stale(report),
        },
    )


@refused_reads_audited(RefusedRead("report.download", Report))
@login_required
def report_file(request, pk: int, name: str):
    report = _readable_report(request, pk)
    return report_file_response(request, get_object_or_404(report.files, name=name))

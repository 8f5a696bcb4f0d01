"""Pages of the bulk import: upload, progress, templates."""

import csv
import io

import rules
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from openpyxl import Workbook

from incidents.forms import ImportForm
from incidents.imports.columns import COLUMNS
from incidents.imports.importer import import_job_create
from incidents.models import ImportJob


def _reporter_only(request) -> None:
    if not rules.has_perm("incidents.add_incident", request.user):
        raise PermissionDenied


@login_required
def import_upload(request):
    _reporter_only(request)
    form = ImportForm(request.POST or None, request.FILES or None, reporter=request.user)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        job = import_job_create(
            upload=upload,
            file_format=upload.file_format,
            contingent=form.cleaned_data["contingent"],
            by=request.user,
        )
        return redirect("incidents:import-job", pk=job.pk)
    coded = [(column.name, column.allowed) for column in COLUMNS if column.allowed]
    return render(
        request,
        "incidents/import.html",
        {
            "form": form,
            "columns": COLUMNS,
            "coded": coded,
            "jobs": ImportJob.objects.filter(requested_by=request.user)[:10],
        },
    )


def own_import_jobs(request) -> QuerySet[ImportJob]:
    """Only the jobs the user sent: their page and status (armsmonitor.job_status)."""
    return ImportJob.objects.filter(requested_by=request.user)


def _own_job(request, pk: int) -> ImportJob:
    return get_object_or_404(own_import_jobs(request), pk=pk)


@login_required
def import_job(request, pk: int):
    return render(request, "incidents/import_job.html", {"job": _own_job(request, pk)})


@login_required
def import_template(request, file_format: str):
    if file_format not in ("csv", "xlsx"):
        raise Http404
    header = [column.name for column in COLUMNS]
    if file_format == "csv":
        text = io.StringIO()
        csv.writer(text).writerow(header)
        response = HttpResponse(text.getvalue(), content_type="text/csv; charset=utf-8")
    else:
        workbook = Workbook()
        workbook.active.title = "incidents"
        workbook.active.append(header)
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(
            buffer.getvalue(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    response["Content-Disposition"] = f'attachment; filename="armsmonitor-import.{file_format}"'
    return response

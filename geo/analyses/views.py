"""Pages of analyses: start one on a filter, follow its progress, read its result."""

import rules
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from geo.analyses.kinds import ANALYSES
from geo.analyses.services import (
    analysis_run_cancel,
    analysis_run_request,
    result_for_reader,
    run_is_stale,
)
from geo.models import AnalysisKind, AnalysisRun
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident


def _analyst_only(request) -> None:
    if not rules.has_perm("incidents.analyse_incidents", request.user):
        raise PermissionDenied


@login_required
def analyses(request):
    """The runs the user may read, and the form to start one. The incident filter comes
    from the query string, as the incident list and the map write it."""
    _analyst_only(request)
    kind = request.GET.get("kind") or AnalysisKind.HOTSPOTS
    if kind not in ANALYSES:
        kind = AnalysisKind.HOTSPOTS
    filter_query = request.GET.copy()
    filter_query.pop("kind", None)
    incident_filter = IncidentFilterSet(
        filter_query, queryset=Incident.objects.visible_to(request.user)
    )
    parameters_form = ANALYSES[kind].parameters_form(request.POST or None, prefix="parameters")
    problems = []
    if request.method == "POST":
        try:
            run = analysis_run_request(
                requester=request.user,
                kind=kind,
                parameters={
                    name.removeprefix("parameters-"): value
                    for name, value in request.POST.items()
                    if name.startswith("parameters-")
                },
                incident_filter={name: filter_query.getlist(name) for name in filter_query},
            )
            return redirect("analyses:run", pk=run.pk)
        except ValidationError as error:
            problems = [
                f"{name}: {' '.join(messages)}" for name, messages in error.message_dict.items()
            ]
    return render(
        request,
        "analyses/list.html",
        {
            "kind": kind,
            "kinds": AnalysisKind.choices,
            "parameters_form": parameters_form,
            "incident_filter": incident_filter,
            "problems": problems,
            "runs": AnalysisRun.objects.visible_to(request.user).select_related(
                "requested_by", "mission"
            )[:50],
        },
    )


def readable_runs(request) -> QuerySet[AnalysisRun]:
    """The runs the user may read: their page, their status (armsmonitor.job_status)."""
    return AnalysisRun.objects.visible_to(request.user)


def _readable_run(request, pk: int) -> AnalysisRun:
    return get_object_or_404(readable_runs(request), pk=pk)


@login_required
def analysis_run(request, pk: int):
    run = _readable_run(request, pk)
    return render(
        request,
        "analyses/run.html",
        {
            "run": run,
            "result": result_for_reader(run, request.user),
            "stale": run.state == AnalysisRun.State.DONE and run_is_stale(run),
        },
    )


@login_required
@require_POST
def analysis_run_stop(request, pk: int):
    analysis_run_cancel(run=_readable_run(request, pk))
    return redirect("analyses:run", pk=pk)

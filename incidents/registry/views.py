"""The registry's pages: the entries a reader may see, a new entry (reporters and
verifiers of a mission), and the hits page (confirm, or dismiss with a reason)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from incidents.models import RegistryEntry, WeaponHit
from incidents.registry.choices import HitState
from incidents.registry.forms import RegistryEntryForm, RegistryImportForm
from incidents.registry.hits import hit_rows
from incidents.registry.imports import COLUMNS as IMPORT_COLUMNS
from incidents.registry.imports import registry_entries_import
from incidents.registry.services import (
    hit_decide,
    registry_entry_create,
    registry_missions_written_by,
)
from organisations.access import missions_read_whole
from organisations.audit import record_read

PAGE_SIZE = 50


@login_required
def registry_list(request):
    entries = (
        RegistryEntry.objects.visible_to(request.user)
        .select_related("mission")
        .prefetch_related("serials")
    )
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    record_read(request, "registry.list", records=len(page.object_list))
    return render(
        request,
        "incidents/registry_list.html",
        {"page": page, "can_add": bool(registry_missions_written_by(request.user))},
    )


@login_required
def registry_create(request):
    missions = registry_missions_written_by(request.user)
    if not missions and not request.user.is_superuser:
        raise PermissionDenied
    form = RegistryEntryForm(request.POST or None, missions=missions)
    if request.method == "POST" and form.is_valid():
        serials = form.cleaned_data.pop("serials")
        try:
            registry_entry_create(by=request.user, entry=form.instance, serials=serials)
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                for problem in problems:
                    form.add_error(field if field in form.fields else None, problem)
        else:
            messages.success(request, _("The weapon is recorded in the registry."))
            return redirect("incidents:registry")
    return render(request, "incidents/registry_form.html", {"form": form})


@login_required
def hit_list(request):
    # The records' names show their contingent and mission.
    hits = WeaponHit.objects.visible_to(request.user).select_related(
        "weapon__incident__contingent__mission",
        "weapon__incident__mission",
        "other_weapon__incident__contingent__mission",
        "other_weapon__incident__mission",
        "registry_entry",
    )
    state = request.GET.get("state", HitState.NEW)
    if state in HitState.values:
        hits = hits.filter(state=state)
    # One seizure's hits: the map's hits layer links here from its popup.
    incident = request.GET.get("incident", "")
    if incident.isdigit():
        hits = hits.filter(weapon__incident_id=int(incident))
    page = Paginator(hits, PAGE_SIZE).get_page(request.GET.get("page"))
    record_read(request, "hit.list", records=len(page.object_list))
    rows = hit_rows(
        page.object_list,
        deciding_missions=missions_read_whole(request.user),
        superuser=request.user.is_superuser,
    )
    return render(
        request,
        "incidents/hits.html",
        {"page": page, "rows": rows, "state": state, "states": HitState.choices},
    )


@login_required
@require_POST
def hit_decide_view(request, pk: int):
    hit = get_object_or_404(WeaponHit.objects.visible_to(request.user), pk=pk)
    try:
        hit_decide(
            hit=hit,
            by=request.user,
            state=request.POST.get("state", ""),
            reason=request.POST.get("dismissal_reason", ""),
        )
    except ValidationError as error:
        for problems in error.message_dict.values():
            for problem in problems:
                messages.error(request, problem)
    else:
        messages.success(request, _("Decision recorded."))
    return redirect("incidents:hits")


@login_required
def registry_import(request):
    """A spreadsheet of registry entries, for one of the writer's missions."""
    missions = registry_missions_written_by(request.user)
    if not missions and not request.user.is_superuser:
        raise PermissionDenied
    form = RegistryImportForm(request.POST or None, request.FILES or None, missions=missions)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = registry_entries_import(
                upload=upload,
                file_format="xlsx" if upload.name.lower().endswith(".xlsx") else "csv",
                mission=form.cleaned_data["mission"],
                by=request.user,
            )
        except ValidationError as error:
            for problem in error.message_dict.get("file", error.messages):
                form.add_error("file", problem)
        else:
            messages.success(
                request,
                _("%(count)d weapons recorded in the registry.") % {"count": result.created},
            )
            return redirect("incidents:registry")
    return render(
        request, "incidents/registry_import.html", {"form": form, "columns": IMPORT_COLUMNS}
    )

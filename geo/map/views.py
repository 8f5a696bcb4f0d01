"""The analyst's map: the page, and the data it draws (incidents per viewport, one
incident's key facts, the seizures holding registry hits, missions' and contingents'
areas).

Every incident read starts from `Incident.objects.visible_with(incident_visibility(user))`
(what `visible_to` does) narrowed by the one incident filterset; bad parameters get a 400
whose `errors` name the field, as the other geo endpoints answer.

The data endpoints read records from `read_source()` (armsmonitor/replica.py): a streaming
replica when one is configured, and then the answer says how far behind it is. Every read of
one request goes to that one database, subqueries included; the reader's memberships (the
access policy's input) are read from the primary, so a role taken away counts at once.
"""

import json

import rules
from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from armsmonitor.replica import ReadSource, read_source, source_note
from geo.forms import ZoomForm
from geo.map import layers
from geo.models import AnalysisKind, AnalysisRun, Region
from incidents.access import incident_visibility
from incidents.choices import Context, IncidentKind, WeaponCategory
from incidents.filtersets import BBoxField, IncidentFilterSet
from incidents.models import Incident, WeaponItem
from organisations.access import principal_missions
from organisations.choices import Releasability
from organisations.models import Contingent, Mission

# The analyses whose results the map draws as layers.
MAP_ANALYSES = (
    AnalysisKind.HOTSPOTS,
    AnalysisKind.CLUSTERS,
    AnalysisKind.DENSITY,
    AnalysisKind.FLOWS,
)
RECENT_RUNS = 20


class ViewportForm(forms.Form):
    """The viewport a map data request is for: its box (also the filterset's `bbox`) and
    its web-map zoom."""

    zoom = forms.IntegerField(min_value=0, max_value=layers.MAX_ZOOM)
    bbox = BBoxField()


def _invalid(errors: dict) -> JsonResponse:
    return JsonResponse({"errors": errors}, status=400)


def _geojson(collection: dict, source: ReadSource | None = None) -> HttpResponse:
    """`collection` as GeoJSON; with a replica configured, it also says where it was read
    and how far behind that was (`source`), for the page to show."""
    note = source_note(source) if source is not None else None
    if note is not None:
        collection = {**collection, "source": note}
    return HttpResponse(
        json.dumps(collection, separators=(",", ":")), content_type="application/geo+json"
    )


def _may_read_records(user) -> None:
    if not rules.has_perm("incidents.list_incidents", user):
        raise PermissionDenied


@require_GET
@login_required
def map_page(request):
    _may_read_records(request.user)
    missions = _readable_missions(request.user)
    runs = (
        AnalysisRun.objects.visible_to(request.user)
        .filter(kind__in=MAP_ANALYSES, state=AnalysisRun.State.DONE)
        .order_by("-finished_at")[:RECENT_RUNS]
    )
    settings_for_script = {
        "tiles": settings.LEAFLET_CONFIG.get("TILES") or "",
        "center": list(settings.LEAFLET_CONFIG.get("DEFAULT_CENTER", (6.6, 20.9))),
        "zoom": settings.LEAFLET_CONFIG.get("DEFAULT_ZOOM", 6),
        "urls": {
            "incidents": reverse("map:incidents"),
            "incident": reverse("map:incident", args=[0]),
            "hits": reverse("map:hits"),
            "hit_list": reverse("incidents:hits"),
            "missions": reverse("map:missions"),
            "contingents": reverse("map:contingents"),
            "countries": reverse("geo:countries"),
            "admin_areas": reverse("geo:admin-areas"),
            "analyses": reverse("analysis-list"),
            "export_csv": reverse("incident-export-csv"),
            "export_geojson": reverse("incident-export-geojson"),
        },
        "admin_countries": sorted(
            {code for mission in missions for code in mission.host_countries or []}
        ),
        "can_analyse": rules.has_perm("incidents.analyse_incidents", request.user),
        "kinds": dict(IncidentKind.choices),
    }
    return render(
        request,
        "map/map.html",
        {
            "map_settings": settings_for_script,
            "kinds": IncidentKind.choices,
            "contexts": Context.choices,
            "categories": WeaponCategory.choices,
            "releasabilities": Releasability.choices,
            "missions": missions,
            "contingents": Contingent.objects.filter(mission__in=missions)
            .select_related("mission")
            .order_by("name"),
            "regions": Region.objects.order_by("code"),
            "runs": runs,
            "analysis_kinds": [(kind.value, kind.label) for kind in MAP_ANALYSES],
        },
    )


def _readable_missions(user, using: str | None = None):
    """Missions whose areas the reader may see: all for an administrator; else the
    missions it holds a role in, and those of which it may read at least one record (read
    from the database `using`, the primary by default)."""
    missions = Mission.objects.using(using)
    if user.is_superuser:
        return list(missions.order_by("acronym"))
    # One EXISTS per mission (the first readable record ends it), not a pass over all.
    readable = Incident.objects.using(using).visible_to(user).filter(mission_id=OuterRef("pk"))
    return list(
        missions.filter(Q(pk__in=principal_missions(user)) | Q(Exists(readable))).order_by(
            "acronym"
        )
    )


@require_GET
@login_required
def incidents_data(request):
    """The incidents of one viewport: counts per grid cell, or points at high zooms.

    No separate permission check: the visibility decides, and a reader granted nothing
    reads nothing (one reading of the memberships per request, not two)."""
    viewport = ViewportForm(request.GET)
    # Where to read, and its lag, measured before the read: the answer is at least as
    # fresh as the lag it reports.
    source = read_source()
    visibility = incident_visibility(request.user)
    filterset = IncidentFilterSet(
        request.GET,
        queryset=Incident.objects.using(source.alias).visible_with(visibility),
        request=request,
    )
    errors = {}
    if not viewport.is_valid():
        errors.update(viewport.errors.get_json_data())
    if not filterset.is_valid():
        errors.update(filterset.errors.get_json_data())
    if errors:
        return _invalid(errors)
    layer = layers.incidents_layer(
        filterset.qs,
        filterset.form.cleaned_data,
        visibility,
        zoom=viewport.cleaned_data["zoom"],
        bbox=viewport.cleaned_data["bbox"],
    )
    return _geojson(layer, source)


@require_GET
@login_required
def hits_data(request):
    """The seizures of one viewport holding registry hits (new or confirmed), as the
    incidents layer reads them: the reader's visibility, the one incident filterset, the
    box. Only the number of hits is told, never the registry side (geo/map/layers.py)."""
    viewport = ViewportForm(request.GET)
    source = read_source()
    filterset = IncidentFilterSet(
        request.GET,
        queryset=Incident.objects.using(source.alias).visible_to(request.user),
        request=request,
    )
    errors = {}
    if not viewport.is_valid():
        errors.update(viewport.errors.get_json_data())
    if not filterset.is_valid():
        errors.update(filterset.errors.get_json_data())
    if errors:
        return _invalid(errors)
    return _geojson(layers.hits_layer(filterset.qs, zoom=viewport.cleaned_data["zoom"]), source)


@require_GET
@login_required
def incident_facts(request, pk: int):
    """One incident's key facts for its popup, as the reader may see them. From the
    primary even with a replica: one row, and the facts as they are now, never older than
    the point clicked."""
    incident = get_object_or_404(
        Incident.objects.visible_to(request.user).select_related("mission", "contingent"),
        pk=pk,
    )
    weapons = WeaponItem.objects.filter(incident=incident).aggregate(
        items=Count("id"), weapons=Sum("quantity")
    )
    return JsonResponse(
        {
            "id": incident.pk,
            "kind": incident.get_kind_display(),
            "occurred_at": incident.occurred_at.date().isoformat(),
            "context": incident.get_context_display(),
            "country": incident.country,
            "mission": incident.mission.acronym,
            "contingent": incident.contingent.name,
            "state": incident.get_state_display(),
            "weapons": weapons["weapons"] or 0,
            "location_is_exact": bool(incident.location_is_exact),
            "longitude": round(incident.shown_location.x, 6),
            "latitude": round(incident.shown_location.y, 6),
            "url": reverse("incidents:detail", args=[incident.pk]),
            "labels": {
                "weapons": _("Weapons"),
                "context": _("Context"),
                "mission": _("Mission"),
                "state": _("State"),
                "generalised": _("Location generalised (about 28 km)"),
                "open": _("Open the record"),
            },
        }
    )


@require_GET
@login_required
def missions_geojson(request):
    form = ZoomForm(request.GET)
    if not form.is_valid():
        return _invalid(form.errors.get_json_data())
    source = read_source()
    readable = _readable_missions(request.user, using=source.alias)
    missions = Mission.objects.using(source.alias).filter(pk__in=[m.pk for m in readable])
    return _geojson(
        layers.areas_geojson(
            missions,
            geometry="area_of_operations",
            zoom=form.cleaned_data["zoom"],
            properties=["acronym", "name"],
        ),
        source,
    )


@require_GET
@login_required
def contingents_geojson(request):
    """Contingents' areas of responsibility: those of the missions the reader works in
    (all for an administrator)."""
    form = ZoomForm(request.GET)
    if not form.is_valid():
        return _invalid(form.errors.get_json_data())
    source = read_source()
    contingents = Contingent.objects.using(source.alias).all()
    if not request.user.is_superuser:
        contingents = contingents.filter(mission_id__in=principal_missions(request.user))
    return _geojson(
        layers.areas_geojson(
            contingents,
            geometry="area_of_responsibility",
            zoom=form.cleaned_data["zoom"],
            properties=["name", "contributing_country"],
        ),
        source,
    )

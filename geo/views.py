"""Boundaries for the map, and place lookups for data entry."""

from dataclasses import asdict

from django.contrib.auth.decorators import login_required
from django.contrib.gis.geos import Point
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET

from geo import selectors
from geo.forms import AdminAreasForm, LocateForm, PlaceSearchForm, ZoomForm


def _invalid(form) -> JsonResponse:
    return JsonResponse({"errors": form.errors.get_json_data()}, status=400)


def _geojson(collection: str) -> HttpResponse:
    response = HttpResponse(collection, content_type="application/geo+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
def countries_geojson(request):
    """Country boundaries are public reference data: no sign-in needed."""
    form = ZoomForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    return _geojson(selectors.countries_geojson(zoom=form.cleaned_data["zoom"]))


@require_GET
@login_required
def admin_areas_geojson(request):
    form = AdminAreasForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    return _geojson(selectors.admin_areas_geojson(**form.cleaned_data))


@require_GET
@login_required
def place_search(request):
    form = PlaceSearchForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    places = selectors.places_search(
        form.cleaned_data["q"],
        country=form.cleaned_data["country"] or None,
        limit=form.cleaned_data["limit"] or 10,
    )
    return JsonResponse(
        {
            "places": [
                {
                    "geonameid": place.geonameid,
                    "name": place.name,
                    "country": place.country,
                    "population": place.population,
                    "latitude": place.point.y,
                    "longitude": place.point.x,
                }
                for place in places
            ]
        }
    )


@require_GET
@login_required
def locate(request):
    """Read typed coordinates (decimal, DMS or MGRS) and say where they lie."""
    form = LocateForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    coordinates = form.cleaned_data["coordinates"]
    location = selectors.locate(Point(coordinates.longitude, coordinates.latitude, srid=4326))
    return JsonResponse({"coordinates": asdict(coordinates), **asdict(location)})

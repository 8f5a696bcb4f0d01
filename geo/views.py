"""Boundaries for the map, and place lookups for data entry."""

from dataclasses import asdict

from django.contrib.auth.decorators import login_required
from django.contrib.gis.geos import Point
from django.http import HttpResponse, JsonResponse
from django.views.decorators.gzip import gzip_page
from django.views.decorators.http import require_GET

from geo.core import places
from geo.forms import AdminAreasForm, CountriesForm, LocateForm, PlaceSearchForm


def _invalid(form) -> JsonResponse:
    return JsonResponse({"errors": form.errors.get_json_data()}, status=400)


def _geojson(collection: str) -> HttpResponse:
    response = HttpResponse(collection, content_type="application/geo+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response


@require_GET
@gzip_page
def countries_geojson(request):
    """Country boundaries are public reference data: no sign-in needed, and nothing secret
    in them for compression to leak (BREACH), so they go compressed to whoever accepts it:
    a phone on a field network loads the entry form's map in a tenth of the bytes."""
    form = CountriesForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    return _geojson(places.countries_geojson(**form.cleaned_data))


@require_GET
@login_required
def admin_areas_geojson(request):
    form = AdminAreasForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    return _geojson(places.admin_areas_geojson(**form.cleaned_data))


@require_GET
@login_required
def place_search(request):
    form = PlaceSearchForm(request.GET)
    if not form.is_valid():
        return _invalid(form)
    found = places.places_search(
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
                for place in found
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
    location = places.locate(Point(coordinates.longitude, coordinates.latitude, srid=4326))
    return JsonResponse({"coordinates": asdict(coordinates), **asdict(location)})

from django.urls import path

from geo import map_views

app_name = "map"
urlpatterns = [
    path("", map_views.map_page, name="map"),
    path("incidents.geojson", map_views.incidents_data, name="incidents"),
    path("incidents/<int:pk>.json", map_views.incident_facts, name="incident"),
    path("missions.geojson", map_views.missions_geojson, name="missions"),
    path("contingents.geojson", map_views.contingents_geojson, name="contingents"),
]

from django.urls import path

from geo.map import views

app_name = "map"
urlpatterns = [
    path("", views.map_page, name="map"),
    path("incidents.geojson", views.incidents_data, name="incidents"),
    path("hits.geojson", views.hits_data, name="hits"),
    path("incidents/<int:pk>.json", views.incident_facts, name="incident"),
    path("missions.geojson", views.missions_geojson, name="missions"),
    path("contingents.geojson", views.contingents_geojson, name="contingents"),
]

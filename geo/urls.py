from django.urls import path

from geo import views

app_name = "geo"
urlpatterns = [
    path("boundaries/countries.geojson", views.countries_geojson, name="countries"),
    path("boundaries/admin-areas.geojson", views.admin_areas_geojson, name="admin-areas"),
    path("places", views.place_search, name="places"),
    path("locate", views.locate, name="locate"),
]

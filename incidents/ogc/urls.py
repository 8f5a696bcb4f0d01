"""OGC API – Features under /ogc, without trailing slashes like the rest of the API."""

from django.urls import path

from incidents.ogc import views

app_name = "ogc"
urlpatterns = [
    path("", views.LandingPageView.as_view(), name="landing"),
    path("/api", views.APIDefinitionView.as_view(), name="api"),
    path("/conformance", views.ConformanceView.as_view(), name="conformance"),
    path("/collections", views.CollectionsView.as_view(), name="collections"),
    path("/collections/<str:collection_id>", views.CollectionView.as_view(), name="collection"),
    path("/collections/<str:collection_id>/items", views.ItemsView.as_view(), name="items"),
    path(
        "/collections/<str:collection_id>/items/<str:feature_id>",
        views.ItemView.as_view(),
        name="item",
    ),
]

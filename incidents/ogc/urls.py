"""OGC API – Features under /ogc, without trailing slashes like the rest of the API.

The routes carry the "ogc" prefix themselves (included at the root): a prefix given to
include() would make the inner routes start with "/", which Django's checks flag."""

from django.urls import path

from incidents.ogc import views

app_name = "ogc"
urlpatterns = [
    path("ogc", views.LandingPageView.as_view(), name="landing"),
    path("ogc/api", views.APIDefinitionView.as_view(), name="api"),
    path("ogc/conformance", views.ConformanceView.as_view(), name="conformance"),
    path("ogc/collections", views.CollectionsView.as_view(), name="collections"),
    path("ogc/collections/<str:collection_id>", views.CollectionView.as_view(), name="collection"),
    path("ogc/collections/<str:collection_id>/items", views.ItemsView.as_view(), name="items"),
    path(
        "ogc/collections/<str:collection_id>/items/<str:feature_id>",
        views.ItemView.as_view(),
        name="item",
    ),
]

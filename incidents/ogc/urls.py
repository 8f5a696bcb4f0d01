"""OGC API – Features under /ogc, without trailing slashes like the rest of the API, and
with them too: clients build addresses from the landing page's by appending to it, and
owslib's Features client asks for the landing page as /ogc/ (a 404 there stops it before
it reads anything). Each route takes an optional final slash; reverse() leaves it out, so
every link the API writes has none.

The routes carry the "ogc" prefix themselves (included at the root): a prefix given to
include() would make the inner routes start with "/", which Django's checks flag."""

from django.urls import re_path

from incidents.ogc import views

# One path segment (what <str:…> matched before).
SEGMENT = r"[^/]+"

app_name = "ogc"
urlpatterns = [
    re_path(r"^ogc/?$", views.LandingPageView.as_view(), name="landing"),
    re_path(r"^ogc/api/?$", views.APIDefinitionView.as_view(), name="api"),
    re_path(r"^ogc/conformance/?$", views.ConformanceView.as_view(), name="conformance"),
    re_path(r"^ogc/collections/?$", views.CollectionsView.as_view(), name="collections"),
    re_path(
        rf"^ogc/collections/(?P<collection_id>{SEGMENT})/?$",
        views.CollectionView.as_view(),
        name="collection",
    ),
    re_path(
        rf"^ogc/collections/(?P<collection_id>{SEGMENT})/items/?$",
        views.ItemsView.as_view(),
        name="items",
    ),
    re_path(
        rf"^ogc/collections/(?P<collection_id>{SEGMENT})/items/(?P<feature_id>{SEGMENT})/?$",
        views.ItemView.as_view(),
        name="item",
    ),
]

"""The REST API, version 1: every resource's viewset on one router."""

from rest_framework.routers import SimpleRouter

from geo.api.views import AnalysisRunViewSet
from incidents.api.views import IncidentViewSet

# No trailing slash: /api/v1/incidents/42, /api/v1/incidents/export.csv.
router = SimpleRouter(trailing_slash=False)
router.register("incidents", IncidentViewSet, basename="incident")
router.register("analyses", AnalysisRunViewSet, basename="analysis")
urlpatterns = router.urls

from rest_framework.routers import SimpleRouter

from incidents.api.views import IncidentViewSet

# No trailing slash: /api/v1/incidents/42, /api/v1/incidents/export.csv.
router = SimpleRouter(trailing_slash=False)
router.register("incidents", IncidentViewSet, basename="incident")
urlpatterns = router.urls

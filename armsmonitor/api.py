"""The REST API, version 1: every resource's viewset on one router."""

from django.urls import re_path
from django.utils.translation import gettext as _
from rest_framework.decorators import api_view, authentication_classes, permission_classes
from rest_framework.exceptions import NotFound
from rest_framework.routers import SimpleRouter

import armsmonitor.openapi  # noqa: F401 -- registers the API-key scheme with the schema
from geo.api.reference_views import CountryBoundaryViewSet, RegionViewSet
from geo.api.views import AnalysisRunViewSet
from incidents.api.custody_digest_views import CustodyDigestViewSet
from incidents.api.item_views import (
    AmmunitionItemViewSet,
    IllicitOriginViewSet,
    TraceRequestViewSet,
    WeaponItemViewSet,
)
from incidents.api.registry_views import RegistryEntryViewSet
from incidents.api.views import IncidentViewSet
from organisations.api.views import MissionViewSet
from reports.api.views import ReportViewSet

# No trailing slash: /api/v1/incidents/42, /api/v1/incidents/export.csv.
router = SimpleRouter(trailing_slash=False)
router.register("incidents", IncidentViewSet, basename="incident")
router.register("weapons", WeaponItemViewSet, basename="weapon")
router.register("ammunition", AmmunitionItemViewSet, basename="ammunition")
router.register("trace-requests", TraceRequestViewSet, basename="trace-request")
router.register("illicit-origins", IllicitOriginViewSet, basename="illicit-origin")
router.register("analyses", AnalysisRunViewSet, basename="analysis")
router.register("reports", ReportViewSet, basename="report")
router.register("missions", MissionViewSet, basename="mission")
router.register("boundaries", CountryBoundaryViewSet, basename="boundary")
router.register("regions", RegionViewSet, basename="region")
router.register("registry/entries", RegistryEntryViewSet, basename="registry-entry")
router.register("custody-digests", CustodyDigestViewSet, basename="custody-digest")


@api_view(["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
@authentication_classes([])
@permission_classes([])
def not_found(request, path):
    """Any other address under /api/v1/: a JSON 404, as the API answers, not an HTML page."""
    raise NotFound(_("No such API endpoint."))


not_found.cls.schema = None  # not an endpoint of the schema

urlpatterns = [*router.urls, re_path(r"^(?P<path>(?s:.*))$", not_found)]

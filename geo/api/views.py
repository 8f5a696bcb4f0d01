from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from geo.api.serializers import (
    AnalysisRequestSerializer,
    AnalysisRunResultSerializer,
    AnalysisRunSerializer,
)
from geo.models import AnalysisRun
from geo.selectors import run_cells_geojson, run_clusters_geojson
from geo.services import analysis_run_cancel, analysis_run_request


class AnalysisRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Analyses: start one (POST), poll it (GET …/{id}), fetch its result, its hexagons
    or clusters as GeoJSON, or cancel it."""

    def get_queryset(self):
        return AnalysisRun.objects.visible_to(self.request.user).select_related(
            "requested_by", "mission"
        )

    def get_serializer_class(self):
        if self.action == "create":
            return AnalysisRequestSerializer
        if self.action == "retrieve":
            return AnalysisRunResultSerializer
        return AnalysisRunSerializer

    def create(self, request):
        asked = AnalysisRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        try:
            run = analysis_run_request(
                requester=request.user,
                kind=asked.validated_data["kind"],
                parameters=asked.validated_data["parameters"],
                incident_filter=asked.validated_data["filter"],
            )
        except DjangoPermissionDenied as refusal:
            raise PermissionDenied(str(refusal)) from refusal
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from error
        body = AnalysisRunSerializer(run, context={"request": request}).data
        # A stored run of the same request on unchanged records comes back at once.
        return Response(body, status=status.HTTP_200_OK if run.reused else status.HTTP_202_ACCEPTED)

    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        run = analysis_run_cancel(run=self.get_object())
        return Response(AnalysisRunSerializer(run, context={"request": request}).data)

    @action(detail=True, methods=["get"], url_path="cells.geojson")
    def cells(self, request, pk=None):
        return HttpResponse(
            run_cells_geojson(self.get_object()), content_type="application/geo+json"
        )

    @action(detail=True, methods=["get"], url_path="clusters.geojson")
    def clusters(self, request, pk=None):
        return HttpResponse(
            run_clusters_geojson(self.get_object()), content_type="application/geo+json"
        )

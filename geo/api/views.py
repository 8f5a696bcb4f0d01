from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from armsmonitor.openapi import (
    BAD_REQUEST,
    DETAIL_ERRORS,
    FEATURE_COLLECTION_SCHEMA,
    FORBIDDEN,
    THROTTLED,
    UNAUTHENTICATED,
)
from geo.analyses.services import analysis_run_cancel, analysis_run_request
from geo.api.serializers import (
    AnalysisRequestSerializer,
    AnalysisRunResultSerializer,
    AnalysisRunSerializer,
)
from geo.core.places import run_cells_geojson, run_clusters_geojson
from geo.models import AnalysisRun

LIST_ERRORS = {401: UNAUTHENTICATED, 403: FORBIDDEN, 429: THROTTLED}


def _geojson_schema(what: str, operation_id: str):
    return extend_schema(
        operation_id=operation_id,
        summary=f"A run's {what} as GeoJSON",
        responses={
            (200, "application/geo+json"): OpenApiResponse(
                response=FEATURE_COLLECTION_SCHEMA, description=f"The run's {what}."
            ),
            **DETAIL_ERRORS,
        },
    )


@extend_schema_view(
    list=extend_schema(
        summary="The runs the caller may read",
        responses={200: AnalysisRunSerializer(many=True), 400: BAD_REQUEST, **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One run, with its result once done",
        responses={200: AnalysisRunResultSerializer, **DETAIL_ERRORS},
    ),
    create=extend_schema(
        summary="Start an analysis",
        description=(
            "Queues a run on the incidents the caller may read, narrowed by `filter` (the "
            "parameters of the incident list: `kind`, `bbox`, `occurred_after`, …). An "
            "identical request on unchanged records returns the stored run at once (200); "
            "otherwise the new run is queued (202): poll `url` until `state` is `done`."
        ),
        request=AnalysisRequestSerializer,
        responses={
            200: OpenApiResponse(AnalysisRunSerializer, description="A stored, reusable run."),
            202: OpenApiResponse(AnalysisRunSerializer, description="The queued run."),
            400: BAD_REQUEST,
            **LIST_ERRORS,
        },
    ),
    cancel=extend_schema(
        summary="Cancel a queued or running run",
        request=None,
        responses={200: AnalysisRunSerializer, **DETAIL_ERRORS},
    ),
)
class AnalysisRunViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Analyses: start one (POST), poll it (GET …/{id}), fetch its result, its hexagons
    or clusters as GeoJSON, or cancel it."""

    queryset = AnalysisRun.objects.none()  # for the schema; reads start at get_queryset
    parser_classes = [JSONParser]
    lookup_value_regex = r"[0-9]+"

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

    @_geojson_schema("hexagons (hot-spot runs)", "analyses_cells_geojson")
    @action(detail=True, methods=["get"], url_path="cells.geojson")
    def cells(self, request, pk=None):
        return HttpResponse(
            run_cells_geojson(self.get_object()), content_type="application/geo+json"
        )

    @_geojson_schema("cluster hulls (cluster runs)", "analyses_clusters_geojson")
    @action(detail=True, methods=["get"], url_path="clusters.geojson")
    def clusters(self, request, pk=None):
        return HttpResponse(
            run_clusters_geojson(self.get_object()), content_type="application/geo+json"
        )

from django.http import FileResponse, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import viewsets
from rest_framework.decorators import action

from armsmonitor.openapi import DETAIL_ERRORS, FEATURE_COLLECTION_SCHEMA, READ_ERRORS
from incidents.api.pagination import IncidentCursorPagination
from incidents.api.permissions import IncidentPolicy
from incidents.api.serializers import IncidentSerializer
from incidents.exports import incidents_csv, incidents_geojson, incidents_xlsx
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from organisations.services import api_access_record

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}


def _export_schema(extension: str, media_type: str, body, what: str):
    return extend_schema(
        operation_id=f"incidents_export_{extension}",
        filters=True,
        summary=f"All matching incidents as {what}",
        description=(
            "Every incident the caller may see that matches the filters (no pagination), "
            "with the location the caller may see, as a download."
        ),
        responses={
            (200, media_type): OpenApiResponse(response=body, description=what),
            **READ_ERRORS,
        },
    )


@extend_schema_view(
    list=extend_schema(
        summary="The incidents the caller may see",
        responses={200: IncidentSerializer(many=True), **READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One incident",
        responses={200: IncidentSerializer, **DETAIL_ERRORS},
    ),
)
class IncidentViewSet(viewsets.ReadOnlyModelViewSet):
    """Incidents, as the caller may see them: each with the location it may see."""

    serializer_class = IncidentSerializer
    permission_classes = [IncidentPolicy]
    filterset_class = IncidentFilterSet
    pagination_class = IncidentCursorPagination
    lookup_value_regex = r"[0-9]+"
    queryset = Incident.objects.none()  # for the schema; reads start at get_queryset

    def get_queryset(self):
        return Incident.objects.visible_to(self.request.user).select_related(
            "mission", "contingent"
        )

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        api_access_record(request=request, records=len(response.data["results"]))
        return response

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        api_access_record(request=request, records=1)
        return response

    def _export(self, request, extension: str):
        incidents = self.filter_queryset(self.get_queryset())
        api_access_record(request=request, records=incidents.count())
        if extension == "xlsx":
            response = FileResponse(incidents_xlsx(incidents), content_type=XLSX_TYPE)
        else:
            content = (
                incidents_csv(incidents) if extension == "csv" else incidents_geojson(incidents)
            )
            response = StreamingHttpResponse(content, content_type=EXPORT_TYPES[extension])
        response["Content-Disposition"] = f'attachment; filename="incidents.{extension}"'
        return response

    @_export_schema("csv", "text/csv", OpenApiTypes.STR, "CSV")
    @action(detail=False, methods=["get"], url_path="export.csv", pagination_class=None)
    def export_csv(self, request):
        return self._export(request, "csv")

    @_export_schema("xlsx", XLSX_TYPE, OpenApiTypes.BINARY, "an XLSX workbook")
    @action(detail=False, methods=["get"], url_path="export.xlsx", pagination_class=None)
    def export_xlsx(self, request):
        return self._export(request, "xlsx")

    @_export_schema("geojson", "application/geo+json", FEATURE_COLLECTION_SCHEMA, "GeoJSON")
    @action(detail=False, methods=["get"], url_path="export.geojson", pagination_class=None)
    def export_geojson(self, request):
        return self._export(request, "geojson")

from django.http import FileResponse, StreamingHttpResponse
from rest_framework import viewsets
from rest_framework.decorators import action

from incidents.api.permissions import IncidentPolicy
from incidents.api.serializers import IncidentSerializer
from incidents.exports import incidents_csv, incidents_geojson, incidents_xlsx
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from organisations.services import api_access_record

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}


class IncidentViewSet(viewsets.ReadOnlyModelViewSet):
    serializer_class = IncidentSerializer
    permission_classes = [IncidentPolicy]
    filterset_class = IncidentFilterSet

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

    @action(detail=False, methods=["get"], url_path="export.csv")
    def export_csv(self, request):
        return self._export(request, "csv")

    @action(detail=False, methods=["get"], url_path="export.xlsx")
    def export_xlsx(self, request):
        return self._export(request, "xlsx")

    @action(detail=False, methods=["get"], url_path="export.geojson")
    def export_geojson(self, request):
        return self._export(request, "geojson")

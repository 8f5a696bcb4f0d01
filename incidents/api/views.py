import csv

from django.http import StreamingHttpResponse
from rest_framework import viewsets
from rest_framework.decorators import action

from incidents.api.permissions import IncidentPolicy
from incidents.api.serializers import IncidentSerializer
from incidents.exports import incident_csv_rows
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident
from organisations.services import api_access_record


class _Echo:
    """A file-like object whose write returns the line, for streaming csv.writer output."""

    def write(self, line: str) -> str:
        return line


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

    @action(detail=False, methods=["get"], url_path="export.csv")
    def export_csv(self, request):
        incidents = self.filter_queryset(self.get_queryset())
        api_access_record(request=request, records=incidents.count())
        writer = csv.writer(_Echo())
        response = StreamingHttpResponse(
            (writer.writerow(row) for row in incident_csv_rows(incidents)),
            content_type="text/csv; charset=utf-8",
        )
        response["Content-Disposition"] = 'attachment; filename="incidents.csv"'
        return response

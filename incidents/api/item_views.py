"""Weapons, ammunition and trace requests as lists of their own, for agencies that pull the
items rather than the incidents (a customs office matching serial numbers, a national
commission following its traces). An item is visible when its incident is."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import viewsets

from armsmonitor.openapi import DETAIL_ERRORS, READ_ERRORS
from incidents.api.pagination import IncidentCursorPagination
from incidents.api.permissions import RecordsReader
from incidents.api.serializers import (
    AmmunitionRecordSerializer,
    TraceRequestSerializer,
    WeaponRecordSerializer,
)
from incidents.item_filtersets import (
    AmmunitionItemFilterSet,
    TraceRequestFilterSet,
    WeaponItemFilterSet,
)
from incidents.models import AmmunitionItem, Incident, TraceRequest, WeaponItem
from organisations.audit import RefusedRead
from organisations.services import api_access_record


def _documented(what: str, serializer):
    return extend_schema_view(
        list=extend_schema(
            summary=f"The {what} the caller may see",
            responses={200: serializer(many=True), **READ_ERRORS},
        ),
        retrieve=extend_schema(
            summary=f"One of the {what}", responses={200: serializer, **DETAIL_ERRORS}
        ),
    )


class RecordItemViewSet(viewsets.ReadOnlyModelViewSet):
    """Items of the incidents the caller may see, by id in cursor pages, each read logged
    like a pull of incidents."""

    permission_classes = [RecordsReader]
    pagination_class = IncidentCursorPagination
    lookup_value_regex = r"[0-9]+"

    def visible_incidents(self):
        return Incident.objects.visible_to(self.request.user).values("id")

    def list(self, request, *args, **kwargs):
        response = super().list(request, *args, **kwargs)
        api_access_record(request=request, records=len(response.data["results"]))
        return response

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        api_access_record(request=request, records=1)
        return response


@_documented("weapons", WeaponRecordSerializer)
class WeaponItemViewSet(RecordItemViewSet):
    serializer_class = WeaponRecordSerializer
    filterset_class = WeaponItemFilterSet
    queryset = WeaponItem.objects.none()  # for the schema; reads start at get_queryset
    refused_reads = {"retrieve": RefusedRead("weapon.detail", WeaponItem)}

    def get_queryset(self):
        return WeaponItem.objects.filter(incident__in=self.visible_incidents()).prefetch_related(
            "trace_requests"
        )


@_documented("ammunition items", AmmunitionRecordSerializer)
class AmmunitionItemViewSet(RecordItemViewSet):
    serializer_class = AmmunitionRecordSerializer
    filterset_class = AmmunitionItemFilterSet
    queryset = AmmunitionItem.objects.none()
    refused_reads = {"retrieve": RefusedRead("ammunition.detail", AmmunitionItem)}

    def get_queryset(self):
        return AmmunitionItem.objects.filter(incident__in=self.visible_incidents())


@_documented("trace requests", TraceRequestSerializer)
class TraceRequestViewSet(RecordItemViewSet):
    serializer_class = TraceRequestSerializer
    filterset_class = TraceRequestFilterSet
    queryset = TraceRequest.objects.none()
    refused_reads = {"retrieve": RefusedRead("trace_request.detail", TraceRequest)}

    def get_queryset(self):
        return TraceRequest.objects.visible_to(self.request.user)

"""Weapons, ammunition and trace requests as lists of their own, for agencies that pull the
items rather than the incidents (a customs office matching serial numbers, a national
commission following its traces). An item is visible when its incident is."""

import rules
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from armsmonitor.openapi import BAD_REQUEST, DETAIL_ERRORS, READ_ERRORS
from incidents.api.pagination import IncidentCursorPagination
from incidents.api.permissions import RecordsReader
from incidents.api.serializers import (
    AmmunitionRecordSerializer,
    IllicitOriginSerializer,
    IllicitOriginWriteSerializer,
    TraceRequestSerializer,
    WeaponRecordSerializer,
)
from incidents.item_filtersets import (
    AmmunitionItemFilterSet,
    IllicitOriginFilterSet,
    TraceRequestFilterSet,
    WeaponItemFilterSet,
)
from incidents.models import AmmunitionItem, IllicitOrigin, Incident, TraceRequest, WeaponItem
from incidents.services import illicit_origin_record
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
        return (
            WeaponItem.objects.filter(incident__in=self.visible_incidents())
            .select_related("illicit_origin")
            .prefetch_related("trace_requests")
        )


@_documented("ammunition items", AmmunitionRecordSerializer)
class AmmunitionItemViewSet(RecordItemViewSet):
    serializer_class = AmmunitionRecordSerializer
    filterset_class = AmmunitionItemFilterSet
    queryset = AmmunitionItem.objects.none()
    refused_reads = {"retrieve": RefusedRead("ammunition.detail", AmmunitionItem)}

    def get_queryset(self):
        return AmmunitionItem.objects.filter(incident__in=self.visible_incidents())


@_documented("illicit origins established", IllicitOriginSerializer)
class IllicitOriginViewSet(RecordItemViewSet):
    """The illicit origins established for the weapons the caller may see; POST records
    one (the rules of incidents.services.illicit_origin_record)."""

    serializer_class = IllicitOriginSerializer
    filterset_class = IllicitOriginFilterSet
    queryset = IllicitOrigin.objects.none()
    refused_reads = {"retrieve": RefusedRead("illicit_origin.detail", IllicitOrigin)}
    http_method_names = ["get", "post", "head", "options"]

    def get_queryset(self):
        return IllicitOrigin.objects.filter(weapon__incident__in=self.visible_incidents())

    @extend_schema(
        summary="Record an illicit origin established for a weapon",
        request=IllicitOriginWriteSerializer,
        responses={201: IllicitOriginSerializer, 400: BAD_REQUEST, **DETAIL_ERRORS},
    )
    def create(self, request, *args, **kwargs):
        if not rules.has_perm("incidents.record_tracing", request.user):
            raise exceptions.PermissionDenied
        given = IllicitOriginWriteSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        data = dict(given.validated_data)
        weapon = get_object_or_404(
            WeaponItem, pk=data.pop("weapon"), incident__in=self.visible_incidents()
        )
        trace_id = data.pop("trace", None)
        trace = None
        if trace_id is not None:
            trace = TraceRequest.objects.filter(pk=trace_id, weapon=weapon).first()
            if trace is None:
                unknown = _("No trace request of this weapon has that id.")
                raise ValidationError({"trace": [unknown]})
        try:
            origin = illicit_origin_record(weapon=weapon, by=request.user, trace=trace, **data)
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from error
        except PermissionDenied as error:
            raise exceptions.PermissionDenied(str(error)) from error
        return Response(IllicitOriginSerializer(origin).data, status=status.HTTP_201_CREATED)


@_documented("trace requests", TraceRequestSerializer)
class TraceRequestViewSet(RecordItemViewSet):
    serializer_class = TraceRequestSerializer
    filterset_class = TraceRequestFilterSet
    queryset = TraceRequest.objects.none()
    refused_reads = {"retrieve": RefusedRead("trace_request.detail", TraceRequest)}

    def get_queryset(self):
        return TraceRequest.objects.visible_to(self.request.user)

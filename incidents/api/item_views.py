"""Weapons, ammunition and trace requests as lists of their own, for agencies that pull the
items rather than the incidents (a customs office matching serial numbers, a national
commission following its traces). An item is visible when its incident is."""

from dataclasses import asdict

import rules
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from armsmonitor.openapi import (
    BAD_REQUEST,
    DETAIL_ERRORS,
    FORBIDDEN,
    NOT_FOUND,
    READ_ERRORS,
    THROTTLED,
    UNAUTHENTICATED,
)
from incidents.api.pagination import IncidentCursorPagination
from incidents.api.parsers import BoundedJSONParser
from incidents.api.permissions import RecordsReader
from incidents.api.serializers import (
    AmmunitionRecordSerializer,
    IllicitOriginSerializer,
    IllicitOriginWriteSerializer,
    SerialSearchQuerySerializer,
    SerialSearchSerializer,
    TraceRequestAnswerSerializer,
    TraceRequestProgressSerializer,
    TraceRequestSendSerializer,
    TraceRequestSerializer,
    WeaponRecordSerializer,
    flat_errors,
)
from incidents.item_filtersets import (
    AmmunitionItemFilterSet,
    IllicitOriginFilterSet,
    TraceRequestFilterSet,
    WeaponItemFilterSet,
)
from incidents.models import AmmunitionItem, IllicitOrigin, Incident, TraceRequest, WeaponItem
from incidents.registry.search import serial_search
from incidents.services import (
    illicit_origin_record,
    trace_request_answer,
    trace_request_progress,
    trace_request_send,
)
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

    @extend_schema(
        summary="Search a serial in the registry and the seizures",
        description=(
            "The registry of weapons reported lost, stolen or diverted and the seized weapons, "
            "searched for `serial` (normalised: case and separators ignored; `?` one "
            "unreadable character, `*` a run of them) as the hit check matches (exact, "
            "characters confused on worn metal, unreadable characters, one character missing "
            "or added), with `make` agreeing where given. A match the caller may read comes "
            "with its id; one it may not, with `visible` false, who holds it and a message to "
            "request access — never the record. At most 50 matches, best first. Counted in the "
            "API's rate and logged like every read."
        ),
        parameters=[
            OpenApiParameter(
                "serial",
                {
                    "type": "string",
                    "maxLength": 60,
                    # At least one readable character, and no NUL.
                    "pattern": r"^[^\u0000]*[^\u0000\s.,:;/\\_#+\-?*][^\u0000]*$",
                },
                OpenApiParameter.QUERY,
                required=True,
                description="The serial as read off the weapon: `?` one unreadable character, "
                "`*` a run of them.",
            ),
            OpenApiParameter("make", {"type": "string", "maxLength": 100}, OpenApiParameter.QUERY),
        ],
        responses={200: SerialSearchSerializer, **READ_ERRORS},
        filters=False,
    )
    @action(detail=False, methods=["get"], url_path="search", pagination_class=None)
    def search(self, request):
        asked = SerialSearchQuerySerializer(data=request.query_params)
        if not asked.is_valid():
            raise ValidationError(flat_errors(asked.errors))
        matches = serial_search(principal=request.user, **asked.validated_data)
        api_access_record(
            request=request,
            records=sum(match.visible for match in matches),
            what="api.weapons.search",
        )
        body = {"matches": [asdict(match) for match in matches]}
        return Response(SerialSearchSerializer(body).data)

    def get_queryset(self):
        return (
            WeaponItem.objects.filter(incident__in=self.visible_incidents())
            .with_manufacturer()
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
        if not rules.has_perm("incidents.record_traces", request.user):
            raise PermissionDenied
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
        except DjangoPermissionDenied as error:
            raise PermissionDenied(str(error)) from error
        return Response(IllicitOriginSerializer(origin).data, status=status.HTTP_201_CREATED)


def _write_schema(summary: str, request, status_code: int):
    return extend_schema(
        summary=summary,
        request=request,
        responses={
            status_code: TraceRequestSerializer,
            400: BAD_REQUEST,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
            429: THROTTLED,
        },
    )


class TraceRequestPolicy(RecordsReader):
    """Reads: whoever may list incidents. Writes: reporters and verifiers (`record_traces`),
    the service checking `record_trace` on the weapon's incident (its contingent's
    reporters, its mission's verifiers)."""

    def has_permission(self, request, view) -> bool:
        if view.action in TRACE_WRITES:
            user = request.user
            return bool(
                user and user.is_authenticated and rules.has_perm("incidents.record_traces", user)
            )
        return super().has_permission(request, view)


TRACE_WRITES = ("create", "progress", "answer")


@_documented("trace requests", TraceRequestSerializer)
class TraceRequestViewSet(RecordItemViewSet):
    """Trace requests (ISACS 05.31): read by whoever may read their incidents; sent,
    acknowledged, reminded and answered by those who record traces of the incident. Errors
    name the field: a weapon of quantity above 1 is refused on `weapon`."""

    serializer_class = TraceRequestSerializer
    filterset_class = TraceRequestFilterSet
    permission_classes = [TraceRequestPolicy]
    parser_classes = [BoundedJSONParser]
    queryset = TraceRequest.objects.none()
    refused_reads = {"retrieve": RefusedRead("trace_request.detail", TraceRequest)}

    def get_queryset(self):
        return TraceRequest.objects.visible_to(self.request.user).prefetch_related("photos_sent")

    def _written(self, trace: TraceRequest, status_code: int) -> Response:
        shown = self.get_queryset().get(pk=trace.pk)
        return Response(TraceRequestSerializer(shown).data, status=status_code)

    @staticmethod
    def _service(call):
        try:
            return call()
        except DjangoPermissionDenied as refusal:
            raise PermissionDenied(str(refusal)) from refusal
        except DjangoValidationError as error:
            raise ValidationError(flat_errors(error.message_dict)) from error

    @_write_schema("Record a trace request sent about one weapon", TraceRequestSendSerializer, 201)
    def create(self, request):
        asked = TraceRequestSendSerializer(data=request.data, context={"request": request})
        if not asked.is_valid():
            raise ValidationError(flat_errors(asked.errors))
        fields = dict(asked.validated_data)
        with transaction.atomic():
            trace = self._service(
                lambda: trace_request_send(
                    by=request.user,
                    photos=fields.pop("photos_sent", []),
                    **fields,
                )
            )
        return self._written(trace, status.HTTP_201_CREATED)

    @_write_schema(
        "Record the acknowledgement, a reminder or a new deadline",
        TraceRequestProgressSerializer,
        200,
    )
    @action(detail=True, methods=["post"])
    def progress(self, request, pk=None):
        trace = self.get_object()
        asked = TraceRequestProgressSerializer(data=request.data)
        if not asked.is_valid():
            raise ValidationError(flat_errors(asked.errors))
        with transaction.atomic():
            trace = self._service(
                lambda: trace_request_progress(trace=trace, by=request.user, **asked.validated_data)
            )
        return self._written(trace, status.HTTP_200_OK)

    @_write_schema("Record the answer to a trace request", TraceRequestAnswerSerializer, 200)
    @action(detail=True, methods=["post"])
    def answer(self, request, pk=None):
        trace = self.get_object()
        asked = TraceRequestAnswerSerializer(data=request.data)
        if not asked.is_valid():
            raise ValidationError(flat_errors(asked.errors))
        with transaction.atomic():
            trace = self._service(
                lambda: trace_request_answer(trace=trace, by=request.user, **asked.validated_data)
            )
        return self._written(trace, status.HTTP_200_OK)

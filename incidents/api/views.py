import rules
from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import FileResponse, StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import (
    APIException,
    PermissionDenied,
    UnsupportedMediaType,
    ValidationError,
)
from rest_framework.response import Response

from armsmonitor.openapi import (
    BAD_REQUEST,
    DETAIL_ERRORS,
    FEATURE_COLLECTION_SCHEMA,
    FORBIDDEN,
    READ_ERRORS,
    THROTTLED,
    UNAUTHENTICATED,
    Detail,
)
from incidents.api.idempotency import (
    IDEMPOTENCY_PARAMETERS,
    REPLAYED_HEADER,
    idempotency_key_claim,
    idempotency_key_of,
    idempotency_key_record,
    request_fingerprint,
)
from incidents.api.pagination import IncidentCursorPagination
from incidents.api.parsers import BoundedJSONParser
from incidents.api.permissions import IncidentPolicy
from incidents.api.serializers import (
    LIST_COLUMNS,
    IncidentCreatedSerializer,
    IncidentCreateSerializer,
    IncidentDetailSerializer,
    IncidentSerializer,
    flat_errors,
)
from incidents.exports import incidents_csv, incidents_geojson, incidents_xlsx
from incidents.filtersets import IncidentFilterSet
from incidents.models import Incident, WeaponItem
from incidents.services import incident_create_with_items
from organisations.audit import RefusedRead
from organisations.services import api_access_record

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EXPORT_TYPES = {"csv": "text/csv; charset=utf-8", "geojson": "application/geo+json"}
EXPORT_ACTIONS = ("export_csv", "export_xlsx", "export_geojson")


def _export_schema(extension: str, media_type: str, body, what: str):
    return extend_schema(
        operation_id=f"incidents_export_{extension}",
        filters=True,
        summary=f"All matching incidents as {what}",
        description=(
            "Every incident the caller may see that matches the filters (no pagination), "
            "with the location the caller may see, as a download: one row (or feature) per "
            "weapon, an incident without weapons on one row. The columns are the import "
            "template's, so that the file imports as it is, then the output-only columns "
            "`id`, `weapon_id`, `weapon_disposition`, `location_is_exact`, `mission`, "
            "`contingent`, `state` and `updated_at`, which an import ignores."
        ),
        responses={
            (200, media_type): OpenApiResponse(response=body, description=what),
            **READ_ERRORS,
        },
    )


class RequestBodyTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


JSON_TYPE = "application/json"


def _detail(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=Detail, description=description)


CREATE_SCHEMA = extend_schema(
    summary="Create a draft incident with its items",
    description=(
        "Creates a draft of the caller's contingent (the caller must be a reporter of it) "
        "with its weapons, ammunition and people involved, all or nothing. The location is "
        "`coordinates` (decimal degrees, degrees-minutes-seconds or MGRS, as the entry form "
        "takes them) or `latitude` and `longitude`. Errors name the field, items by their "
        "place in the list: `weapons[1].category`.\n\n"
        "Every request carries an `Idempotency-Key` (a UUID of the client's own, one per "
        "record). Sent again with the same body, the stored answer comes back (the same "
        "status and body, with the header `Idempotent-Replayed: true`) and nothing is "
        "written; with another body, 422. Keys are kept 24 hours; a failed request (4xx) "
        "does not use up its key."
    ),
    request=IncidentCreateSerializer,
    parameters=IDEMPOTENCY_PARAMETERS,
    responses={
        201: OpenApiResponse(
            IncidentCreatedSerializer,
            description="The draft as created (or, for a retried request, as it was created).",
        ),
        400: BAD_REQUEST,
        401: UNAUTHENTICATED,
        403: FORBIDDEN,
        413: _detail("The body is larger than the limit."),
        415: _detail("The body is not JSON (`Content-Type: application/json`)."),
        422: _detail("The Idempotency-Key was used for another request."),
        429: THROTTLED,
    },
)


@extend_schema_view(
    create=CREATE_SCHEMA,
    list=extend_schema(
        summary="The incidents the caller may see",
        responses={200: IncidentSerializer(many=True), **READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One incident, with its weapons, ammunition and people involved",
        responses={200: IncidentDetailSerializer, **DETAIL_ERRORS},
    ),
)
class IncidentViewSet(viewsets.ReadOnlyModelViewSet):
    """Incidents, as the caller may see them: each with the location it may see; and new
    drafts with their items, created by a contingent's reporters (POST)."""

    serializer_class = IncidentSerializer
    permission_classes = [IncidentPolicy]
    filterset_class = IncidentFilterSet
    pagination_class = IncidentCursorPagination
    lookup_value_regex = r"[0-9]+"
    parser_classes = [BoundedJSONParser]
    queryset = Incident.objects.none()  # for the schema; reads start at get_queryset
    refused_reads = {"retrieve": RefusedRead("incident.detail", Incident)}

    def get_queryset(self):
        incidents = Incident.objects.visible_to(self.request.user)
        if self.action in EXPORT_ACTIONS:
            return incidents  # exports select their own columns (incidents/exports.py)
        incidents = incidents.with_api_labels()
        if self.action == "retrieve":
            weapons = WeaponItem.objects.with_manufacturer().prefetch_related("trace_requests")
            incidents = incidents.prefetch_related(
                Prefetch("weapons", queryset=weapons), "ammunition", "persons"
            )
        return incidents

    def get_serializer_class(self):
        return IncidentDetailSerializer if self.action == "retrieve" else IncidentSerializer

    def create(self, request):
        self._check_body(request)
        key = idempotency_key_of(request)
        fingerprint = request_fingerprint(method="POST", path=request.path, data=request.data)
        with transaction.atomic():
            claim = idempotency_key_claim(user=request.user, key=key, fingerprint=fingerprint)
            if claim.replay:
                return Response(
                    claim.row.response_body,
                    status=claim.row.response_status,
                    headers={REPLAYED_HEADER: "true"},
                )
            asked = IncidentCreateSerializer(data=request.data)
            if not asked.is_valid():
                raise ValidationError(flat_errors(asked.errors))
            fields = dict(asked.validated_data)
            items = {name: fields.pop(name, []) for name in ("weapons", "ammunition", "persons")}
            try:
                incident = incident_create_with_items(
                    by=request.user, incident=Incident(**fields), **items
                )
            except DjangoPermissionDenied as refusal:
                raise PermissionDenied(str(refusal)) from refusal
            except DjangoValidationError as error:
                raise ValidationError(error.message_dict) from error
            created = self.get_queryset().prefetch_related("weapons", "ammunition", "persons")
            body = IncidentCreatedSerializer(created.get(pk=incident.pk)).data
            idempotency_key_record(
                claim=claim, response_status=status.HTTP_201_CREATED, response_body=body
            )
        return Response(body, status=status.HTTP_201_CREATED)

    @staticmethod
    def _check_body(request) -> None:
        """Before reading the body: its size and its type, each refused with a message that
        names the limit or the expected type."""
        # Django's own limit on request data (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB by default).
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if limit is not None and length > limit:
            raise RequestBodyTooLarge(
                _(
                    "The body has %(size)d bytes; the limit is %(limit)d bytes (%(mb).1f MB). "
                    "Send fewer items per request, or use the bulk import."
                )
                % {"size": length, "limit": limit, "mb": limit / 1024**2}
            )
        media_type = request.content_type.split(";")[0].strip().lower()
        if media_type != JSON_TYPE:
            raise UnsupportedMediaType(
                media_type,
                _("The body must be JSON, sent as Content-Type: %(expected)s (not %(given)s).")
                % {"expected": JSON_TYPE, "given": media_type or _("no type")},
            )

    def list(self, request, *args, **kwargs):
        # Rows, not incidents: a page is serialized from `.values()` (see LIST_COLUMNS).
        incidents = self.filter_queryset(self.get_queryset()).values(*LIST_COLUMNS)
        page = self.paginate_queryset(incidents)
        api_access_record(request=request, records=len(page), what="api.incidents.list")
        return self.get_paginated_response(IncidentSerializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        response = super().retrieve(request, *args, **kwargs)
        api_access_record(request=request, records=1, what="api.incidents.detail")
        return response

    def _export(self, request, extension: str):
        incidents = self.filter_queryset(self.get_queryset())
        api_access_record(
            request=request, records=incidents.count(), what=f"incident.export.{extension}"
        )
        gender_data = rules.has_perm("incidents.view_gender_data", request.user)
        if extension == "xlsx":
            response = FileResponse(
                incidents_xlsx(incidents, gender_data=gender_data), content_type=XLSX_TYPE
            )
        else:
            writer = incidents_csv if extension == "csv" else incidents_geojson
            content = writer(incidents, gender_data=gender_data)
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

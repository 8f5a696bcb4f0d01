from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from django.utils.translation import get_language
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import JSONParser
from rest_framework.response import Response

from armsmonitor.openapi import BAD_REQUEST, DETAIL_ERRORS, FORBIDDEN, THROTTLED, UNAUTHENTICATED
from organisations.audit import RefusedRead, record_read
from reports.api.serializers import (
    ReportDetailSerializer,
    ReportRequestSerializer,
    ReportSerializer,
)
from reports.downloads import report_file_response
from reports.models import Report
from reports.services import report_request

LIST_ERRORS = {401: UNAUTHENTICATED, 403: FORBIDDEN, 429: THROTTLED}


@extend_schema_view(
    list=extend_schema(
        summary="The reports the caller may read",
        responses={200: ReportSerializer(many=True), 400: BAD_REQUEST, **LIST_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One report, with its tables once done",
        responses={200: ReportDetailSerializer, **DETAIL_ERRORS},
    ),
    create=extend_schema(
        summary="Ask for a report",
        description=(
            "Queues a report of `template` on the verified records the caller may read in "
            "`scope` over the period (reports are official outputs: records not yet verified "
            "are never counted, only counted as left out in the report's methodology and "
            "sources section). An identical request on unchanged records returns the stored "
            "report at once (200); otherwise the new report is queued (202): poll `url` "
            "until `state` is `done`, then download its `files`. A reversed period, an "
            "unknown scope or one the caller does not work on get 400 naming the field."
        ),
        request=ReportRequestSerializer,
        responses={
            200: OpenApiResponse(ReportSerializer, description="A stored, reusable report."),
            202: OpenApiResponse(ReportSerializer, description="The queued report."),
            400: BAD_REQUEST,
            **LIST_ERRORS,
        },
    ),
)
class ReportViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Reports: ask for one (POST), follow it (GET …/{id}), download its files."""

    queryset = Report.objects.none()  # for the schema; reads start at get_queryset
    refused_reads = {
        "retrieve": RefusedRead("report.detail", Report),
        "file": RefusedRead("report.download", Report),
    }
    parser_classes = [JSONParser]
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return (
            Report.objects.visible_to(self.request.user)
            .select_related("requested_by", "mission")
            .prefetch_related("files")
        )

    def retrieve(self, request, *args, **kwargs):
        report = self.get_object()
        # The tables are the report's figures (the trace export lists weapons one by one).
        record_read(request, "report.detail", records=report.incidents_read, target=report)
        return Response(ReportDetailSerializer(report, context={"request": request}).data)

    def get_serializer_class(self):
        if self.action == "create":
            return ReportRequestSerializer
        if self.action == "retrieve":
            return ReportDetailSerializer
        return ReportSerializer

    def create(self, request):
        asked = ReportRequestSerializer(data=request.data)
        asked.is_valid(raise_exception=True)
        try:
            report = report_request(
                requester=request.user,
                language=get_language() or "en",
                **asked.validated_data,
            )
        except DjangoPermissionDenied as refusal:
            raise PermissionDenied(str(refusal)) from refusal
        except DjangoValidationError as error:
            raise ValidationError(error.message_dict) from error
        body = ReportSerializer(report, context={"request": request}).data
        return Response(
            body, status=status.HTTP_200_OK if report.reused else status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        operation_id="reports_file",
        summary="Download one file of a report (PDF, XLSX or CSV), as an attachment",
        parameters=[
            OpenApiParameter(
                "name", OpenApiTypes.STR, OpenApiParameter.PATH, pattern=r"^[A-Za-z0-9_.-]+$"
            )
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): (
                OpenApiTypes.BINARY
            ),
            (200, "text/csv"): OpenApiTypes.STR,
            **DETAIL_ERRORS,
        },
    )
    @action(detail=True, methods=["get"], url_path=r"files/(?P<name>[A-Za-z0-9_.\-]+)")
    def file(self, request, pk=None, name=None):
        report = self.get_object()
        report_file = get_object_or_404(report.files, name=name)
        return report_file_response(request, report_file)

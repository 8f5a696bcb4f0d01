from django.urls import reverse
from drf_spectacular.utils import extend_schema_field, extend_schema_serializer
from rest_framework import serializers

from reports.models import Report, ReportFile, ReportTemplate, ScopeKind

OPTIONS_SCHEMA = {
    "type": "object",
    "description": (
        "`hxl` (boolean): add an HXL hashtag row under each CSV's header. IAFQ only: "
        "`significant_seizure_min_arms` (1–100000, default 10). Unknown or bad values get "
        "400 naming `options.<name>`."
    ),
    "additionalProperties": True,
    "example": {"hxl": True},
}
TABLES_SCHEMA = {
    "type": "array",
    "nullable": True,
    "description": "The report's tables, as written into its PDF, workbook and CSV files.",
    "items": {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "title": {"type": "string"},
            "columns": {"type": "array", "items": {"type": "string"}},
            "hxl": {"type": "array", "items": {"type": "string"}},
            "rows": {"type": "array", "items": {"type": "array", "items": {}}},
            "note": {"type": "string"},
            "layout": {"type": "string"},
        },
    },
}


@extend_schema_field(OPTIONS_SCHEMA)
class OptionsField(serializers.JSONField):
    pass


# The years reports may cover (reports.scope.EARLIEST, LATEST: 1900 to 2100), as a pattern
# on the date: OpenAPI has no minimum for dates. The whole date in the pattern, so that
# values are drawn from it (a year prefix alone leaves most drawn dates out).
REPORT_DATE_SCHEMA = {
    "type": "string",
    "format": "date",
    "pattern": r"^(19[0-9]{2}|20[0-9]{2}|2100)-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$",
}


@extend_schema_field(REPORT_DATE_SCHEMA)
class ReportDateField(serializers.DateField):
    pass


@extend_schema_field(TABLES_SCHEMA)
class TablesField(serializers.JSONField):
    pass


@extend_schema_serializer(component_name="ReportRequest")
class ReportRequestSerializer(serializers.Serializer):
    """What a client sends to ask for a report. The scope, the period's order and the
    options are checked by the service, which names the faulty field."""

    template = serializers.ChoiceField(choices=ReportTemplate.choices)
    scope_kind = serializers.ChoiceField(choices=ScopeKind.choices)
    scope = serializers.CharField(
        max_length=30,
        help_text="The mission's acronym (or id), the regional organisation's code, the "
        "country's ISO 3166-1 alpha-3 code, or `world` (scope_kind `world`, the "
        "Secretary-General's input only).",
    )
    period_start = ReportDateField()
    period_end = ReportDateField(help_text="Inclusive.")
    options = OptionsField(required=False, default=dict)


class ReportFileSerializer(serializers.ModelSerializer):
    format = serializers.CharField(source="file_format")
    url = serializers.SerializerMethodField()

    class Meta:
        model = ReportFile
        fields = ["name", "format", "content_type", "size", "sha256", "url"]
        read_only_fields = fields

    def get_url(self, report_file: ReportFile) -> str:
        path = reverse(
            "report-file", kwargs={"pk": report_file.report_id, "name": report_file.name}
        )
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request else path


class ReportSerializer(serializers.ModelSerializer):
    requested_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True
    )
    mission = serializers.SlugRelatedField(slug_field="acronym", read_only=True, allow_null=True)
    scope = serializers.CharField(source="scope_value", read_only=True)
    options = serializers.JSONField(read_only=True)
    duration_seconds = serializers.FloatField(read_only=True, allow_null=True)
    files = ReportFileSerializer(many=True, read_only=True)
    url = serializers.HyperlinkedIdentityField(view_name="report-detail")

    class Meta:
        model = Report
        fields = [
            "id",
            "url",
            "template",
            "scope_kind",
            "scope",
            "scope_label",
            "period_start",
            "period_end",
            "options",
            "language",
            "with_gender",
            "state",
            "progress",
            "stage",
            "error",
            "requested_by",
            "mission",
            "incidents_read",
            "attempts",
            "created_at",
            "started_at",
            "finished_at",
            "duration_seconds",
            "files",
        ]
        read_only_fields = fields


class ReportDetailSerializer(ReportSerializer):
    """One report with its tables, and whether the records have changed since."""

    tables = TablesField(read_only=True)
    stale = serializers.SerializerMethodField()

    class Meta(ReportSerializer.Meta):
        fields = [*ReportSerializer.Meta.fields, "stale", "tables"]
        read_only_fields = fields

    def get_stale(self, report: Report) -> bool | None:
        from reports.services import report_is_stale

        return report_is_stale(report) if report.state == Report.State.DONE else None

from django.contrib import admin

from reports.models import IndicatorFigure, Report, ReportFile


class ReportFileInline(admin.TabularInline):
    model = ReportFile
    fields = ["name", "file_format", "size", "sha256"]
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    """Reports are written by the service and the worker only: read-only here."""

    list_display = [
        "pk",
        "template",
        "scope_label",
        "period_start",
        "period_end",
        "state",
        "requested_by",
        "mission",
        "created_at",
    ]
    list_filter = ["template", "scope_kind", "state"]
    search_fields = ["scope_label", "requested_by__username"]
    inlines = [ReportFileInline]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(IndicatorFigure)
class IndicatorFigureAdmin(admin.ModelAdmin):
    """The published SDG 16.4.2 figures and their revisions, stored by the report's
    generation (reports/documents/sdg_16_4_2.py): read-only here."""

    list_display = [
        "indicator",
        "scope_kind",
        "scope_value",
        "audience",
        "country",
        "year",
        "span_start",
        "span_end",
        "numerator",
        "denominator",
        "revision",
        "as_of",
    ]
    list_filter = ["indicator", "scope_kind", "year"]
    search_fields = ["country", "scope_value"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
